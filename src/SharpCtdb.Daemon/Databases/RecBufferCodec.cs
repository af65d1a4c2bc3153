using System.Buffers.Binary;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Databases;

/// <summary>
/// Builds rec_buffers (u32 db_id, u32 count, rec_data...) straight from key/value spans, for recovery's DB_PULL and
/// DB_PUSH of databases with many records: one growing byte buffer, no object per record. The format is
/// <see cref="RecBuffer"/>'s.
/// </summary>
internal sealed class RecBufferWriter(uint dbId, int flushAt)
{
    private byte[] _buf = new byte[Math.Clamp(flushAt + 4096, 4096, 1 << 20)];
    private int _len = 8;

    public int Count { get; private set; }

    /// <summary>True once the buffer reached the size at which the caller should send it.</summary>
    public bool IsFull => _len >= flushAt;

    /// <summary>Appends one rec_data whose data is <paramref name="data"/> as it is (ltdb header included).</summary>
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        var dst = Reserve(key, data.Length);
        data.CopyTo(dst);
    }

    /// <summary>Appends one rec_data with <paramref name="data"/>'s ltdb header rewritten (dmaster and flags).</summary>
    public void AddWithHeader(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, uint dmaster, uint flags)
    {
        var dst = Reserve(key, data.Length);
        data.CopyTo(dst);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[8..], dmaster);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[16..], flags);
    }

    /// <summary>The finished rec_buffer; the writer starts empty again.</summary>
    public byte[] Take()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buf, dbId);
        BinaryPrimitives.WriteUInt32LittleEndian(_buf.AsSpan(4), (uint)Count);
        var result = _buf.AsSpan(0, _len).ToArray();
        _len = 8;
        Count = 0;
        return result;
    }

    private Span<byte> Reserve(ReadOnlySpan<byte> key, int dataLength)
    {
        var total = RecData.FixedSize + key.Length + dataLength;
        if (_len + total > _buf.Length)
            Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + total));
        var d = _buf.AsSpan(_len, total);
        BinaryPrimitives.WriteUInt32LittleEndian(d, (uint)total);
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], (uint)key.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], (uint)dataLength);
        key.CopyTo(d[16..]);
        _len += total;
        Count++;
        return d.Slice(RecData.FixedSize + key.Length, dataLength);
    }
}

/// <summary>Reads a rec_buffer's records as spans into the message (bounds-checked like <see cref="RecData.Read"/>).</summary>
internal ref struct RecBufferReader
{
    private ReadOnlySpan<byte> _rest;
    private uint _left;

    public RecBufferReader(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < 8)
            throw new ProtocolException($"rec_buffer of {buffer.Length} bytes is shorter than its header");
        DbId = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
        Count = BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]);
        _left = Count;
        _rest = buffer[8..];
    }

    public uint DbId { get; }

    public uint Count { get; }

    /// <summary>The next record; false after the last one.</summary>
    public bool Next(out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> data)
    {
        key = data = default;
        if (_left == 0)
            return false;
        if (_rest.Length < RecData.FixedSize)
            throw new ProtocolException($"rec_buffer ends after {Count - _left} of {Count} records");
        var length = BinaryPrimitives.ReadUInt32LittleEndian(_rest);
        var keylen = BinaryPrimitives.ReadUInt32LittleEndian(_rest[8..]);
        var datalen = BinaryPrimitives.ReadUInt32LittleEndian(_rest[12..]);
        var content = (ulong)RecData.FixedSize + keylen + datalen;
        // The length field may exceed the content (alignment slack); it may never be smaller.
        if (content > (ulong)_rest.Length || length < content || length > (ulong)_rest.Length)
            throw new ProtocolException($"rec_data length {length} (key {keylen}, data {datalen}) does not fit the {_rest.Length} bytes left");
        key = _rest.Slice(RecData.FixedSize, (int)keylen);
        data = _rest.Slice(RecData.FixedSize + (int)keylen, (int)datalen);
        _rest = _rest[(int)length..];
        _left--;
        return true;
    }
}
