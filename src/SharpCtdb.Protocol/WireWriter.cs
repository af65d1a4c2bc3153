using System.Buffers.Binary;
using System.Text;

namespace SharpCtdb.Protocol;

/// <summary>Growable little-endian writer for payloads and packets.</summary>
public sealed class WireWriter(int capacity = 64)
{
    private byte[] _buf = new byte[Math.Max(capacity, 16)];
    private int _len;

    public int Length => _len;
    public ReadOnlySpan<byte> WrittenSpan => _buf.AsSpan(0, _len);
    public byte[] ToArray() => _buf.AsSpan(0, _len).ToArray();

    private Span<byte> Grow(int n)
    {
        if (_len + n > _buf.Length)
            Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + n));
        var s = _buf.AsSpan(_len, n);
        _len += n;
        return s;
    }

    public WireWriter U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), v); return this; }
    public WireWriter I32(int v) { BinaryPrimitives.WriteInt32LittleEndian(Grow(4), v); return this; }
    public WireWriter U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(Grow(8), v); return this; }
    public WireWriter I64(long v) { BinaryPrimitives.WriteInt64LittleEndian(Grow(8), v); return this; }
    public WireWriter U16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(Grow(2), v); return this; }
    public WireWriter U8(byte v) { Grow(1)[0] = v; return this; }
    public WireWriter Bool(bool v) => U8(v ? (byte)1 : (byte)0);
    public WireWriter F64(double v) { BinaryPrimitives.WriteDoubleLittleEndian(Grow(8), v); return this; }
    public WireWriter Zero(int n) { Grow(n).Clear(); return this; }
    public WireWriter Bytes(ReadOnlySpan<byte> b) { b.CopyTo(Grow(b.Length)); return this; }

    /// <summary>stringn: u32 length including NUL, then bytes and NUL; null writes length 0.</summary>
    public WireWriter StringN(string? s)
    {
        if (s is null)
            return U32(0);
        var n = Encoding.UTF8.GetByteCount(s);
        U32((uint)n + 1);
        Encoding.UTF8.GetBytes(s, Grow(n));
        return U8(0);
    }

    /// <summary>The "string" type: bytes plus NUL, no length prefix; null writes nothing.</summary>
    public WireWriter CString(string? s)
    {
        if (s is null)
            return this;
        var n = Encoding.UTF8.GetByteCount(s);
        Encoding.UTF8.GetBytes(s, Grow(n));
        return U8(0);
    }

    public WireWriter DataN(ReadOnlySpan<byte> b) { U32((uint)b.Length); return Bytes(b); }

    /// <summary>Fixed-size NUL-padded char array.</summary>
    public WireWriter FixedString(string s, int size)
    {
        var span = Grow(size);
        span.Clear();
        var bytes = Encoding.UTF8.GetBytes(s);
        bytes.AsSpan(0, Math.Min(bytes.Length, size - 1)).CopyTo(span);
        return this;
    }

    /// <summary>Overwrite a u32 at an earlier offset (used for length fields).</summary>
    public void PatchU32(int offset, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(_buf.AsSpan(offset, 4), v);

    /// <summary>Pad with zeros to a multiple of 8, as ctdbd and the tool do on send.</summary>
    public WireWriter PadTo8() => Zero(Wire.Align8(_len) - _len);
}
