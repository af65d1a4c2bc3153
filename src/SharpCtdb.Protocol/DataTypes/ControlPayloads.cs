using System.Buffers.Binary;
using System.Text;

namespace SharpCtdb.Protocol;

/// <summary>
/// Builders and strict parsers for the primitive control payloads (u32 db_id, i32 level, the "string" and "stringn"
/// encodings, ...). Parsers reject payloads whose size is not exactly what the control uses, as ctdbd does.
/// </summary>
public static class ControlPayloads
{
    public static byte[] Empty => [];

    public static byte[] U32Payload(uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return b;
    }

    public static byte[] I32Payload(int value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        return b;
    }

    public static byte[] U64Payload(ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return b;
    }

    public static byte[] F64Payload(double value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(b, value);
        return b;
    }

    /// <summary>The "string" encoding: UTF-8 bytes plus NUL; null is sent as no bytes at all.</summary>
    public static byte[] StringPayload(string? value) => new WireWriter().CString(value).ToArray();

    /// <summary>Text without a NUL terminator (real ctdbd's DUMP_MEMORY reply is sent this way).</summary>
    public static byte[] TextPayload(string value) => Encoding.UTF8.GetBytes(value);

    /// <summary>The "stringn" encoding: u32 length (with NUL, 0 for null) then the bytes and NUL.</summary>
    public static byte[] StringNPayload(string? value) => new WireWriter().StringN(value).ToArray();

    /// <summary>GET_DB_SEQNUM request: u32 db_id followed by 4 pad bytes.</summary>
    public static byte[] DbIdPaddedPayload(uint dbId)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(b, dbId);
        return b;
    }

    public static void RequireSize(ReadOnlySpan<byte> data, int size, string what)
    {
        if (data.Length != size)
            throw new ProtocolException($"{what}: expected {size} bytes, got {data.Length}");
    }

    public static void RequireEmpty(ReadOnlySpan<byte> data, string what = "payload") => RequireSize(data, 0, what);

    public static uint ReadU32(ReadOnlySpan<byte> data)
    {
        RequireSize(data, 4, "u32 payload");
        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    public static int ReadI32(ReadOnlySpan<byte> data)
    {
        RequireSize(data, 4, "i32 payload");
        return BinaryPrimitives.ReadInt32LittleEndian(data);
    }

    public static ulong ReadU64(ReadOnlySpan<byte> data)
    {
        RequireSize(data, 8, "u64 payload");
        return BinaryPrimitives.ReadUInt64LittleEndian(data);
    }

    public static double ReadF64(ReadOnlySpan<byte> data)
    {
        RequireSize(data, 8, "f64 payload");
        return BinaryPrimitives.ReadDoubleLittleEndian(data);
    }

    /// <summary>GET_DB_SEQNUM request: u32 db_id + 4 ignored bytes.</summary>
    public static uint ReadDbIdPadded(ReadOnlySpan<byte> data)
    {
        RequireSize(data, 8, "db_id+pad payload");
        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    /// <summary>
    /// The "string" encoding. Empty data is null. Text stops at the first NUL; a missing terminator is tolerated
    /// (the whole payload is the text).
    /// </summary>
    public static string? ReadString(ReadOnlySpan<byte> data) =>
        data.IsEmpty ? null : WireReader.DecodeCString(data);

    /// <summary>Like <see cref="ReadString"/> but insists on a NUL terminator (what ctdbd checks for db names).</summary>
    public static string? ReadStringStrict(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
            return null;
        if (data.IndexOf((byte)0) < 0)
            throw new ProtocolException("string payload is not NUL-terminated");
        return WireReader.DecodeCString(data);
    }

    /// <summary>The "stringn" encoding occupying the whole payload.</summary>
    public static string? ReadStringN(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data);
        var s = r.StringN();
        if (r.Remaining != 0)
            throw new ProtocolException($"stringn payload has {r.Remaining} trailing bytes");
        return s;
    }

    /// <summary>UTF-8 bytes of a string plus NUL (e.g. the RELEASE_IP / TAKE_IP message body).</summary>
    public static byte[] NulTerminated(string value)
    {
        var n = Encoding.UTF8.GetByteCount(value);
        var b = new byte[n + 1];
        Encoding.UTF8.GetBytes(value, b);
        return b;
    }
}
