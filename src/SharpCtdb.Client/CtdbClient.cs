using System.Collections.Concurrent;
using System.Net.Sockets;
using SharpCtdb.Protocol;

namespace SharpCtdb.Client;

/// <summary>A control did not get its reply before the deadline (the tool reports ret=110, ETIMEDOUT).</summary>
public sealed class ControlTimeoutException(ControlOpcode opcode, uint destNode)
    : Exception($"Control {ControlNames.Of(opcode)} to node {destNode} timed out")
{
    public const int Errno = 110;
    public ControlOpcode Opcode { get; } = opcode;
    public uint DestNode { get; } = destNode;
}

/// <summary>The connection to the daemon is gone (EOF, reset or a garbage packet).</summary>
public sealed class CtdbConnectionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A control returned a non-zero status where the caller needed success.</summary>
public sealed class ControlFailedException(ControlOpcode opcode, uint destNode, int status, string? errorMessage)
    : Exception($"Control {ControlNames.Of(opcode)} failed, ret={status}")
{
    public ControlOpcode Opcode { get; } = opcode;
    public uint DestNode { get; } = destNode;
    public int Status { get; } = status;
    public string? ErrorMessage { get; } = errorMessage;
}

/// <summary>
/// A client connection to ctdbd's Unix socket, speaking the same packets as the 4.17 client library:
/// controls are matched to replies by reqid, messages are dispatched to per-srvid handlers.
/// </summary>
public sealed partial class CtdbClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PacketStreamReader _reader;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<ReplyControl>> _pending = new();
    private readonly ConcurrentDictionary<ulong, Action<uint, byte[]>> _handlers = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _readLoop = Task.CompletedTask;
    // Like the real client library: start just below INT_MAX-200 so the first id is 0x7FFFFF38.
    private int _reqId = int.MaxValue - 200;
    private int _disposed;

    private CtdbClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new PacketStreamReader(_stream);
    }

    /// <summary>Our PNN as learnt by <see cref="GetPnnAsync"/>; 0xFFFFFFFF before that (sent as srcnode).</summary>
    public uint Pnn { get; private set; } = Protocol.Pnn.Unknown;

    /// <summary>Completes when the daemon closes the connection (or the client is disposed).</summary>
    public Task Closed => _closed.Task;

    public string SocketPath { get; private init; } = "";

    public static async Task<CtdbClient> ConnectAsync(string socketPath, CancellationToken ct)
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
        var client = new CtdbClient(socket) { SocketPath = socketPath };
        client._readLoop = Task.Run(() => client.ReadLoopAsync(client._stop.Token), CancellationToken.None);
        return client;
    }

    /// <summary>Next request id; wraps around like the C counter (skipping 0 is not needed: the daemon only echoes it).</summary>
    private uint NextReqId() => unchecked((uint)Interlocked.Increment(ref _reqId));

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        Exception? failure = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var packet = await _reader.ReadPacketAsync(ct).ConfigureAwait(false);
                if (packet is null)
                    break;
                Dispatch(packet);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or SocketException or ProtocolException or ObjectDisposedException)
        {
            failure = ex;
        }
        var error = new CtdbConnectionException("connection to the CTDB daemon was closed", failure);
        foreach (var key in _pending.Keys)
        {
            if (_pending.TryRemove(key, out var tcs))
                tcs.TrySetException(error);
        }
        _closed.TrySetResult();
    }

    private void Dispatch(byte[] packet)
    {
        var header = PacketHeader.Read(packet);
        switch (header.Operation)
        {
            case Operation.ReplyControl:
                if (_pending.TryRemove(header.ReqId, out var tcs))
                    tcs.TrySetResult(ReplyControl.Decode(packet));
                break;
            case Operation.ReqMessage:
                var msg = ReqMessage.Decode(packet);
                if (_handlers.TryGetValue(msg.Srvid, out var handler))
                    handler(header.SrcNode, msg.Data);
                else if (_handlers.TryGetValue(Srvid.All, out var all))
                    all(header.SrcNode, msg.Data);
                break;
            default:
                // Clients ignore other operations (REPLY_CALL is handled by callers of CallAsync).
                if (header.Operation == Operation.ReplyCall && _pending.TryRemove(header.ReqId, out var call))
                    call.TrySetResult(new ReplyControl(header, 0, packet, null));
                break;
        }
    }

    private async Task SendAsync(byte[] packet, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(packet, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            throw new CtdbConnectionException("failed to send to the CTDB daemon", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends a control and waits for its reply. Throws <see cref="ControlTimeoutException"/> after
    /// <paramref name="timeout"/> (a non-positive timeout waits forever).</summary>
    public async Task<ReplyControl> ControlAsync(uint destNode, ControlOpcode op, ReadOnlyMemory<byte> data, TimeSpan timeout,
        ControlFlags flags = 0, ulong srvid = 0, CancellationToken ct = default)
    {
        var reqId = NextReqId();
        var tcs = new TaskCompletionSource<ReplyControl>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[reqId] = tcs;
        if (_closed.Task.IsCompleted)
        {
            _pending.TryRemove(reqId, out _);
            throw new CtdbConnectionException("connection to the CTDB daemon was closed");
        }
        var packet = new ReqControl(PacketHeader.Create(Operation.ReqControl, destNode, Pnn, reqId), op, srvid, 0, flags,
            data.ToArray()).Encode();
        try
        {
            await SendAsync(packet, ct).ConfigureAwait(false);
            if (timeout <= TimeSpan.Zero)
                return await tcs.Task.WaitAsync(ct).ConfigureAwait(false);
            return await tcs.Task.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new ControlTimeoutException(op, destNode);
        }
        finally
        {
            _pending.TryRemove(reqId, out _);
        }
    }

    /// <summary>Like <see cref="ControlAsync"/> but throws <see cref="ControlFailedException"/> for a negative status
    /// (controls that return a value in the status use non-negative values).</summary>
    public async Task<ReplyControl> ControlCheckedAsync(uint destNode, ControlOpcode op, ReadOnlyMemory<byte> data, TimeSpan timeout,
        ControlFlags flags = 0, ulong srvid = 0, CancellationToken ct = default)
    {
        var reply = await ControlAsync(destNode, op, data, timeout, flags, srvid, ct).ConfigureAwait(false);
        if (reply.Status != 0)
            throw new ControlFailedException(op, destNode, reply.Status, reply.ErrorMessage);
        return reply;
    }

    /// <summary>Sends a control with NOREPLY (e.g. SHUTDOWN): nothing comes back.</summary>
    public Task SendControlNoReply(uint destNode, ControlOpcode op, ReadOnlyMemory<byte> data, ulong srvid = 0, CancellationToken ct = default)
    {
        var packet = new ReqControl(PacketHeader.Create(Operation.ReqControl, destNode, Pnn, NextReqId()), op, srvid, 0,
            ControlFlags.NoReply, data.ToArray()).Encode();
        return SendAsync(packet, ct);
    }

    /// <summary>GET_PNN to CTDB_CURRENT_NODE; the first one goes out with srcnode 0xFFFFFFFF, later packets carry the pnn.</summary>
    public async Task<uint> GetPnnAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var reply = await ControlAsync(Protocol.Pnn.CurrentNode, ControlOpcode.GetPnn, ReadOnlyMemory<byte>.Empty, timeout, ct: ct)
            .ConfigureAwait(false);
        if (reply.Status < 0)
            throw new ControlFailedException(ControlOpcode.GetPnn, Protocol.Pnn.CurrentNode, reply.Status, reply.ErrorMessage);
        Pnn = (uint)reply.Status;
        return Pnn;
    }

    public Task RegisterSrvidAsync(ulong srvid, TimeSpan timeout, CancellationToken ct = default) =>
        ControlCheckedAsync(Pnn, ControlOpcode.RegisterSrvid, ReadOnlyMemory<byte>.Empty, timeout, srvid: srvid, ct: ct);

    public Task DeregisterSrvidAsync(ulong srvid, TimeSpan timeout, CancellationToken ct = default) =>
        ControlCheckedAsync(Pnn, ControlOpcode.DeregisterSrvid, ReadOnlyMemory<byte>.Empty, timeout, srvid: srvid, ct: ct);

    /// <summary>Installs (or with null, removes) the handler for messages on <paramref name="srvid"/>.
    /// Handlers run on the read loop: keep them short.</summary>
    public void SetMessageHandler(ulong srvid, Action<uint, byte[]>? handler)
    {
        if (handler is null)
            _handlers.TryRemove(srvid, out _);
        else
            _handlers[srvid] = handler;
    }

    public Task SendMessageAsync(uint destNode, ulong srvid, byte[] data, CancellationToken ct = default)
    {
        var packet = new ReqMessage(PacketHeader.Create(Operation.ReqMessage, destNode, Pnn, NextReqId()), srvid, data).Encode();
        return SendAsync(packet, ct);
    }

    /// <summary>Sends a REQ_CALL and waits for the REPLY_CALL with the same reqid.</summary>
    public async Task<ReplyCall> CallAsync(uint flags, uint dbId, uint callId, byte[] key, byte[] callData, TimeSpan timeout,
        CancellationToken ct = default)
    {
        var reqId = NextReqId();
        var tcs = new TaskCompletionSource<ReplyControl>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[reqId] = tcs;
        var packet = new ReqCall(PacketHeader.Create(Operation.ReqCall, Protocol.Pnn.CurrentNode, Pnn, reqId), flags, dbId, callId, 0,
            key, callData).Encode();
        try
        {
            await SendAsync(packet, ct).ConfigureAwait(false);
            var wrapped = timeout <= TimeSpan.Zero
                ? await tcs.Task.WaitAsync(ct).ConfigureAwait(false)
                : await tcs.Task.WaitAsync(timeout, ct).ConfigureAwait(false);
            return ReplyCall.Decode(wrapped.Data);
        }
        catch (TimeoutException)
        {
            throw new ControlTimeoutException(0, Protocol.Pnn.CurrentNode);
        }
        finally
        {
            _pending.TryRemove(reqId, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        _socket.Dispose();
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _writeLock.Dispose();
    }
}
