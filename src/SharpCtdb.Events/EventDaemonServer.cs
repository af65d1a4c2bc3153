using System.Net.Sockets;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;
using SharpCtdb.Protocol.EventDaemon;

namespace SharpCtdb.Events;

/// <summary>
/// Serves the 4.17 event-daemon protocol (protocol.md §9.2) on a Unix socket, so the stock ctdb-event tool (and
/// `ctdb event`, `ctdb scriptstatus`) work against our <see cref="EventRunner"/>. Any number of clients; requests
/// on one connection are handled concurrently (a monitor must be cancellable by a later request on the same
/// connection); a client that sends garbage is dropped with a log line.
/// Differences from 4.17: the socket is owner-only (0600, 4.17 leaves it 0755); component names containing '/'
/// or equal to "." / ".." are refused with EINVAL.
/// </summary>
public sealed class EventDaemonServer(string socketPath, EventRunner runner, CtdbLog log) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly HashSet<Task> _tasks = [];
    private Socket? _listener;
    private Task? _acceptLoop;

    public string SocketPath { get; } = socketPath;

    /// <summary>Binds the socket (removing a stale one) and starts accepting clients.</summary>
    public Task StartAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("the event daemon needs Unix sockets and modes");
        if (_listener is not null)
            throw new InvalidOperationException("already started");
        var dir = Path.GetDirectoryName(SocketPath);
        if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir))
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (File.Exists(SocketPath))
            File.Delete(SocketPath);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
            File.SetUnixFileMode(SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(100);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        _listener = listener;
        ct.Register(() => _stop.Cancel());
        _acceptLoop = AcceptLoopAsync(listener);
        log.Info($"event daemon listening on {SocketPath}");
        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                log.Error($"event daemon accept failed: {e.Message}");
                continue;
            }
            Track(ServeClientAsync(client));
        }
    }

    private async Task ServeClientAsync(Socket socket)
    {
        using var stream = new NetworkStream(socket, ownsSocket: true);
        using var writeLock = new SemaphoreSlim(1, 1);
        using var clientStop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var inFlight = new List<Task>();
        try
        {
            while (true)
            {
                var packet = await EventDaemonFraming.ReadPacketAsync(stream, EventDaemonRequest.MinimumSize, clientStop.Token)
                    .ConfigureAwait(false);
                if (packet is null)
                    break;
                var request = EventDaemonRequest.Decode(packet);
                inFlight.RemoveAll(t => t.IsCompleted);
                inFlight.Add(HandleAsync(request, stream, writeLock, clientStop.Token));
            }
        }
        catch (ProtocolException e)
        {
            log.Error($"event daemon: dropping client after an invalid request: {e.Message}");
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        // Pending runs of a vanished client still complete (and are recorded), but their replies go nowhere.
        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    private async Task HandleAsync(EventDaemonRequest request, NetworkStream stream, SemaphoreSlim writeLock, CancellationToken ct)
    {
        EventDaemonReply reply;
        try
        {
            reply = await ExecuteAsync(request, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            return; // server or runner shutting down
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            log.Error($"event daemon: {request.Command} failed: {e.Message}");
            reply = new EventDaemonReply(request.ReqId, request.Command, Errno.EIO);
        }
        var bytes = reply.Encode();
        try
        {
            await writeLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await stream.WriteAsync(bytes, ct).ConfigureAwait(false);
            }
            finally
            {
                writeLock.Release();
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static bool ValidName(string? s) => !string.IsNullOrEmpty(s) && s != "." && s != ".." && !s.Contains('/');

    private async Task<EventDaemonReply> ExecuteAsync(EventDaemonRequest request, CancellationToken ct)
    {
        switch (request)
        {
            case EventRunRequest run:
                {
                    if (!ValidName(run.Component) || string.IsNullOrEmpty(run.Event))
                        return new EventDaemonReply(run.ReqId, run.Command, Errno.EINVAL);
                    var args = run.Args?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
                    var options = new EventRunOptions { RunAll = run.Flags.HasFlag(EventRunFlags.RunAll) };
                    var result = await runner.RunAsync(run.Component!, run.Event!, args, TimeSpan.FromSeconds(run.TimeoutSeconds), options, ct)
                        .ConfigureAwait(false);
                    return new EventDaemonReply(run.ReqId, run.Command, result.ErrorCode);
                }
            case EventStatusRequest status:
                {
                    if (!ValidName(status.Component) || string.IsNullOrEmpty(status.Event))
                        return new EventDaemonReply(status.ReqId, status.Command, Errno.EINVAL);
                    var code = runner.GetStatus(status.Component!, status.Event!, out var last);
                    return new EventDaemonReply(status.ReqId, status.Command, code, code == 0 ? last!.ToWire() : null);
                }
            case EventScriptRequest script:
                {
                    if (!ValidName(script.Component) || !ValidName(script.Script))
                        return new EventDaemonReply(script.ReqId, script.Command, Errno.EINVAL);
                    var code = runner.Scripts.SetExecutable(script.Component!, script.Script!, script.Action == EventScriptAction.Enable);
                    return new EventDaemonReply(script.ReqId, script.Command, code);
                }
            default:
                return new EventDaemonReply(request.ReqId, request.Command, Errno.EINVAL);
        }
    }

    private void Track(Task task)
    {
        lock (_lock)
            _tasks.Add(task);
        task.ContinueWith(t =>
        {
            lock (_lock)
                _tasks.Remove(t);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Stops accepting, drops all clients (their running events are cancelled) and removes the socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested && _listener is null)
            return;
        _stop.Cancel();
        _listener?.Dispose();
        _listener = null;
        if (_acceptLoop is not null)
            await _acceptLoop.ConfigureAwait(false);
        Task[] pending;
        lock (_lock)
            pending = [.. _tasks];
        await Task.WhenAll(pending).ConfigureAwait(false);
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
        }
    }
}
