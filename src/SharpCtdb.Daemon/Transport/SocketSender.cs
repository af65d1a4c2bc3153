using System.Net.Sockets;
using System.Threading.Channels;

namespace SharpCtdb.Daemon.Transport;

/// <summary>What <see cref="SocketSender.Send"/> did with a packet.</summary>
internal enum SendOutcome
{
    /// <summary>Written to the socket, or queued behind earlier packets for the writer task.</summary>
    Accepted,

    /// <summary>The queue limit was reached; the packet was dropped.</summary>
    Overflow,

    /// <summary>The socket failed (reset, closed); the packet was dropped.</summary>
    Failed,
}

/// <summary>
/// Outgoing half of a stream socket: a packet is written at once, without blocking, from the sending thread when
/// nothing is queued before it (as tevent's ctdb_queue does); only what the kernel won't take right now goes to a
/// queue that a writer task drains, coalescing small packets. This saves the hand-off to a writer task (a thread
/// wake-up per packet) on the call path.
/// </summary>
internal sealed class SocketSender
{
    private const int WriteCoalesceBytes = 64 * 1024;

    private readonly Socket _socket;
    private readonly Channel<byte[]> _queue;
    private readonly Lock _gate = new();
    private readonly long _maxBytes;
    private long _queuedBytes;
    private int _backlog; // packets queued or being written by the writer task (under _gate)

    public SocketSender(Socket socket, int maxPackets, long maxBytes = long.MaxValue)
    {
        _socket = socket;
        _maxBytes = maxBytes;
        _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(maxPackets)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        // Synchronous sends return at once with WouldBlock; async operations are unaffected.
        socket.Blocking = false;
    }

    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>The last error of a failed synchronous send.</summary>
    public SocketError LastError { get; private set; }

    /// <summary>Writes or queues <paramref name="packet"/>; never blocks. Any thread.</summary>
    public SendOutcome Send(byte[] packet)
    {
        lock (_gate)
        {
            var rest = packet;
            if (_backlog == 0)
            {
                int sent;
                SocketError error;
                try
                {
                    sent = _socket.Send(packet, SocketFlags.None, out error);
                }
                catch (ObjectDisposedException)
                {
                    LastError = SocketError.Shutdown;
                    return SendOutcome.Failed;
                }
                if (error == SocketError.Success && sent == packet.Length)
                    return SendOutcome.Accepted;
                if (error is not (SocketError.Success or SocketError.WouldBlock))
                {
                    LastError = error;
                    return SendOutcome.Failed;
                }
                if (error == SocketError.Success && sent > 0)
                    rest = packet[sent..];
            }
            var queued = Interlocked.Add(ref _queuedBytes, rest.Length);
            if (queued <= _maxBytes && _queue.Writer.TryWrite(rest))
            {
                _backlog++;
                return SendOutcome.Accepted;
            }
            Interlocked.Add(ref _queuedBytes, -rest.Length);
            return SendOutcome.Overflow;
        }
    }

    /// <summary>No more packets; the writer task ends.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Drains the queue into the socket until <see cref="Complete"/> or cancellation; socket errors propagate.</summary>
    public async Task RunWriterAsync(CancellationToken ct)
    {
        var reader = _queue.Reader;
        var buffer = new byte[WriteCoalesceBytes];
        while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            var filled = 0;
            var packets = 0;
            while (reader.TryRead(out var packet))
            {
                Interlocked.Add(ref _queuedBytes, -packet.Length);
                if (filled + packet.Length > buffer.Length)
                {
                    if (filled > 0)
                        await SendAllAsync(buffer.AsMemory(0, filled), ct).ConfigureAwait(false);
                    Written(packets);
                    filled = 0;
                    packets = 0;
                    if (packet.Length > buffer.Length)
                    {
                        await SendAllAsync(packet, ct).ConfigureAwait(false);
                        Written(1);
                        continue;
                    }
                }
                packet.CopyTo(buffer, filled);
                filled += packet.Length;
                packets++;
            }
            if (filled > 0)
                await SendAllAsync(buffer.AsMemory(0, filled), ct).ConfigureAwait(false);
            Written(packets);
        }
    }

    /// <summary>Only once queued packets are on the wire may a sender write directly again (keeps the order).</summary>
    private void Written(int packets)
    {
        if (packets == 0)
            return;
        lock (_gate)
            _backlog -= packets;
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            var n = await _socket.SendAsync(data, SocketFlags.None, ct).ConfigureAwait(false);
            data = data[n..];
        }
    }
}
