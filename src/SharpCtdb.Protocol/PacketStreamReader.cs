using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace SharpCtdb.Protocol;

/// <summary>
/// Splits a byte stream into packets by the leading u32 length. Validates the header (length range, magic,
/// version) before the body is read, so a client that sends garbage or an absurd length is rejected without
/// allocating for it.
/// </summary>
public sealed class PacketStreamReader(Stream stream, int maxPacketSize = Wire.MaxPacketSize)
{
    private readonly PipeReader _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));

    /// <summary>Next whole packet (exactly <c>length</c> bytes), or null at a clean end of stream.
    /// Throws <see cref="ProtocolException"/> for a bad header or a stream that ends mid-packet.</summary>
    public async ValueTask<byte[]?> ReadPacketAsync(CancellationToken ct = default)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(ct).ConfigureAwait(false);
            var buf = result.Buffer;
            if (TryTake(ref buf, out var packet))
            {
                _reader.AdvanceTo(buf.Start);
                return packet;
            }
            if (result.IsCompleted)
            {
                var left = buf.Length;
                _reader.AdvanceTo(buf.End);
                if (left == 0)
                    return null;
                throw new ProtocolException($"connection closed in the middle of a packet ({left} bytes pending)");
            }
            _reader.AdvanceTo(buf.Start, buf.End);
        }
    }

    private bool TryTake(ref ReadOnlySequence<byte> buf, out byte[]? packet)
    {
        packet = null;
        if (buf.Length < Wire.HeaderSize)
            return false;
        Span<byte> head = stackalloc byte[Wire.HeaderSize];
        buf.Slice(0, Wire.HeaderSize).CopyTo(head);
        var h = PacketHeader.Read(head);
        h.Validate();
        if (h.Length > (uint)maxPacketSize)
            throw new ProtocolException($"packet length {h.Length} exceeds the {maxPacketSize}-byte limit");
        if (buf.Length < h.Length)
            return false;
        packet = buf.Slice(0, h.Length).ToArray();
        buf = buf.Slice(h.Length);
        return true;
    }

    public static uint PeekLength(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32LittleEndian(p);
}
