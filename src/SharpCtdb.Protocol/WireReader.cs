using System.Buffers.Binary;
using System.Text;

namespace SharpCtdb.Protocol;

/// <summary>Thrown when a packet or payload is truncated, oversize or otherwise malformed.</summary>
public sealed class ProtocolException(string message) : Exception(message);

/// <summary>Bounds-checked little-endian reader over a payload. Every read past the end throws <see cref="ProtocolException"/>.</summary>
public ref struct WireReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    public readonly int Position => _pos;
    public readonly int Remaining => _data.Length - _pos;
    public readonly ReadOnlySpan<byte> Rest => _data[_pos..];

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || n > Remaining)
            throw new ProtocolException($"truncated data: need {n} bytes at offset {_pos}, have {Remaining}");
        var s = _data.Slice(_pos, n);
        _pos += n;
        return s;
    }

    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public byte U8() => Take(1)[0];
    public double F64() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
    public void Skip(int n) => Take(n);
    public ReadOnlySpan<byte> Bytes(int n) => Take(n);

    public bool Bool()
    {
        var b = U8();
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw new ProtocolException($"invalid bool value {b}"),
        };
    }

    /// <summary>A length-checked count of fixed-size elements: rejects counts that cannot fit in what is left.</summary>
    public int Count(int elementSize)
    {
        var n = U32();
        if (elementSize > 0 && n > (uint)(Remaining / elementSize))
            throw new ProtocolException($"count {n} of {elementSize}-byte elements exceeds remaining {Remaining} bytes");
        return (int)n;
    }

    /// <summary>stringn: u32 length including NUL (0 = null) then the bytes.</summary>
    public string? StringN()
    {
        var n = U32();
        if (n == 0)
            return null;
        if (n > (uint)Remaining)
            throw new ProtocolException($"string length {n} exceeds remaining {Remaining} bytes");
        return DecodeCString(Take((int)n));
    }

    /// <summary>tdb_datan: u32 length then the bytes.</summary>
    public byte[] DataN()
    {
        var n = U32();
        if (n > (uint)Remaining)
            throw new ProtocolException($"data length {n} exceeds remaining {Remaining} bytes");
        return Take((int)n).ToArray();
    }

    /// <summary>A NUL-terminated string that fills the rest of the payload (the "string" type); empty means null.</summary>
    public string? RestAsString()
    {
        if (Remaining == 0)
            return null;
        return DecodeCString(Take(Remaining));
    }

    /// <summary>Fixed-size char array (e.g. iface name[18]), NUL-padded.</summary>
    public string FixedString(int size) => DecodeCString(Take(size));

    public static string DecodeCString(ReadOnlySpan<byte> bytes)
    {
        var nul = bytes.IndexOf((byte)0);
        if (nul >= 0)
            bytes = bytes[..nul];
        return Encoding.UTF8.GetString(bytes);
    }
}
