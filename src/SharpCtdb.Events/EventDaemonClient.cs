using System.Collections.Concurrent;
using System.Net.Sockets;
using SharpCtdb.Protocol;
using SharpCtdb.Protocol.EventDaemon;

namespace SharpCtdb.Events;

/// <summary>
/// Client of the event-daemon socket (ours or the real ctdb-eventd). Requests may overlap: replies are matched
/// by reqid, so a monitor can be pre-empted by a later request on the same connection.
/// </summary>
public sealed class EventDaemonClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<EventDaemonReply>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _readLoop;
    private int _nextReqId;

    private EventDaemonClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _readLoop = ReadLoopAsync();
    }

    /// <exception cref="SocketException">The socket does not exist or nobody listens.</exception>
    public static async Task<EventDaemonClient> ConnectAsync(string socketPath, CancellationToken ct = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new EventDaemonClient(socket);
    }

    /// <summary>RUN: returns the daemon's result (0, ENOEXEC, ETIMEDOUT, ECANCELED, ENOENT, ...).</summary>
    public async Task<int> RunAsync(string component, string eventName, string? args, uint timeoutSeconds,
        EventRunFlags flags = EventRunFlags.None, CancellationToken ct = default)
    {
        var reply = await SendAsync(id => new EventRunRequest(id, component, eventName, string.IsNullOrEmpty(args) ? null : args, timeoutSeconds, flags), ct)
            .ConfigureAwait(false);
        return reply.Result;
    }

    /// <summary>STATUS: result 0 with the script list, else ENOENT / EINVAL (never run).</summary>
    public async Task<(int Result, EventScriptStatusList? Status)> StatusAsync(string component, string eventName, CancellationToken ct = default)
    {
        var reply = await SendAsync(id => new EventStatusRequest(id, component, eventName), ct).ConfigureAwait(false);
        return (reply.Result, reply.Status);
    }

    /// <summary>SCRIPT: enable/disable via the daemon (chmod of the script).</summary>
    public async Task<int> ScriptAsync(string component, string script, EventScriptAction action, CancellationToken ct = default)
    {
        var reply = await SendAsync(id => new EventScriptRequest(id, component, script, action), ct).ConfigureAwait(false);
        return reply.Result;
    }

    private async Task<EventDaemonReply> SendAsync(Func<uint, EventDaemonRequest> build, CancellationToken ct)
    {
        var id = (uint)Interlocked.Increment(ref _nextReqId);
        var tcs = new TaskCompletionSource<EventDaemonReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        try
        {
            var bytes = build(id).Encode();
            await _writeLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await _stream.WriteAsync(bytes, ct).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
            if (_readLoop.IsCompleted)
                throw new IOException("event daemon connection closed");
            return await tcs.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var packet = await EventDaemonFraming.ReadPacketAsync(_stream, EventDaemonReply.MinimumSize, _stop.Token).ConfigureAwait(false);
                if (packet is null)
                    break;
                var reply = EventDaemonReply.Decode(packet);
                if (_pending.TryGetValue(reply.ReqId, out var tcs))
                    tcs.TrySetResult(reply);
            }
        }
        catch (Exception e) when (e is ProtocolException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            failure = e;
        }
        var error = new IOException("event daemon connection closed", failure);
        foreach (var tcs in _pending.Values)
            tcs.TrySetException(error);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket.Shutdown(SocketShutdown.Both);
        _socket.Dispose();
        await _readLoop.ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _writeLock.Dispose();
        _stop.Dispose();
    }
}
