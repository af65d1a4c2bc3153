using System.Net.Sockets;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Transport;

/// <summary>What one <see cref="SocketPacketReader.ReadAvailable"/> call ended with.</summary>
internal enum ReadOutcome
{
    /// <summary>Everything available was read; call again when the socket is readable.</summary>
    More,

    /// <summary>The peer closed the stream cleanly between packets.</summary>
    Closed,

    /// <summary>The packet handler asked to stop reading.</summary>
    Stopped,
}

/// <summary>
/// Incoming half of a non-blocking stream socket read from the cluster loop when epoll reports input: one recv per
/// call, split into whole packets by their header length (validated before a body is awaited, so garbage or an
/// absurd length is rejected without allocating for it).
/// </summary>
internal sealed class SocketPacketReader
{
    private const int InitialBuffer = 64 * 1024;

    private readonly Socket _socket;
    private readonly int _maxPacketSize;
    private byte[] _buf = new byte[InitialBuffer];
    private int _start;
    private int _end;

    public SocketPacketReader(Socket socket, int maxPacketSize)
    {
        _socket = socket;
        _maxPacketSize = maxPacketSize;
        socket.Blocking = false;
    }

    /// <summary>
    /// Reads what the socket holds now (one recv, so one busy connection cannot starve the others) and hands each whole
    /// packet to <paramref name="onPacket"/> (false = stop). Throws <see cref="ProtocolException"/> for a bad header or
    /// a stream that ends mid-packet, <see cref="SocketException"/> for a socket error.
    /// </summary>
    public ReadOutcome ReadAvailable(Func<byte[], bool> onPacket)
    {
        if (_end == _buf.Length)
            MakeRoom(_buf.Length); // only a partial header is pending here (a longer packet already grew the buffer)
        var n = _socket.Receive(_buf, _end, _buf.Length - _end, SocketFlags.None, out var error);
        if (error is SocketError.WouldBlock or SocketError.Interrupted)
            return ReadOutcome.More;
        if (error != SocketError.Success)
            throw new SocketException((int)error);
        if (n == 0)
        {
            if (_end > _start)
                throw new ProtocolException($"connection closed in the middle of a packet ({_end - _start} bytes pending)");
            return ReadOutcome.Closed;
        }
        _end += n;
        while (_end - _start >= Wire.HeaderSize)
        {
            var h = PacketHeader.Read(_buf.AsSpan(_start, Wire.HeaderSize));
            h.Validate();
            if (h.Length > (uint)_maxPacketSize)
                throw new ProtocolException($"packet length {h.Length} exceeds the {_maxPacketSize}-byte limit");
            var length = (int)h.Length;
            if (_end - _start < length)
            {
                if (_start + length > _buf.Length)
                    MakeRoom(length);
                break;
            }
            var packet = _buf.AsSpan(_start, length).ToArray();
            _start += length;
            if (!onPacket(packet))
                return ReadOutcome.Stopped;
        }
        if (_start == _end)
        {
            _start = _end = 0;
            if (_buf.Length > InitialBuffer)
                _buf = new byte[InitialBuffer]; // a large packet passed; don't keep its buffer per connection
        }
        return ReadOutcome.More;
    }

    /// <summary>Moves the pending bytes to the front of a buffer of at least <paramref name="size"/> bytes.</summary>
    private void MakeRoom(int size)
    {
        var pending = _end - _start;
        var target = size > _buf.Length ? new byte[size] : _buf;
        Buffer.BlockCopy(_buf, _start, target, 0, pending);
        _buf = target;
        _start = 0;
        _end = pending;
    }
}
