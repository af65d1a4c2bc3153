using System.Buffers.Binary;

namespace SharpCtdb.Protocol;

/// <summary>
/// REQ_DMASTER / REPLY_DMASTER as ctdbd 4.17 sends them: the record flags travel as a u32 after key and data, outside
/// datalen. Receivers treat a missing trailer as flags 0 (older senders); zero padding reads as 0 too.
/// </summary>
public static class DmasterPackets
{
    /// <summary>Offset of key bytes in REQ_DMASTER (header + db_id, pad, rsn, dmaster, keylen, datalen).</summary>
    public const int ReqDmasterKeyOffset = Wire.HeaderSize + 28;

    /// <summary>Offset of key bytes in REPLY_DMASTER (header + db_id, pad, rsn, keylen, datalen).</summary>
    public const int ReplyDmasterKeyOffset = Wire.HeaderSize + 24;

    public static byte[] EncodeReqDmaster(ReqDmaster p, uint recordFlags) =>
        PacketBuilder.Build(p.Header with { Operation = Operation.ReqDmaster }, w =>
        {
            w.U32(p.DbId).U32(0).U64(p.Rsn).U32(p.Dmaster).U32((uint)p.Key.Length).U32((uint)p.Data.Length)
             .Bytes(p.Key).Bytes(p.Data).U32(recordFlags);
        }, true, ReqDmaster.CStructSize);

    public static byte[] EncodeReplyDmaster(ReplyDmaster p, uint recordFlags) =>
        PacketBuilder.Build(p.Header with { Operation = Operation.ReplyDmaster }, w =>
        {
            w.U32(p.DbId).U32(0).U64(p.Rsn).U32((uint)p.Key.Length).U32((uint)p.Data.Length)
             .Bytes(p.Key).Bytes(p.Data).U32(recordFlags);
        }, true, ReplyDmaster.CStructSize);

    /// <summary>The trailing record flags of a decoded REQ_DMASTER packet (0 when absent).</summary>
    public static uint ReqDmasterFlags(ReadOnlySpan<byte> packet, ReqDmaster p) =>
        TrailingU32(packet, ReqDmasterKeyOffset + p.Key.Length + p.Data.Length);

    /// <summary>The trailing record flags of a decoded REPLY_DMASTER packet (0 when absent).</summary>
    public static uint ReplyDmasterFlags(ReadOnlySpan<byte> packet, ReplyDmaster p) =>
        TrailingU32(packet, ReplyDmasterKeyOffset + p.Key.Length + p.Data.Length);

    private static uint TrailingU32(ReadOnlySpan<byte> packet, int offset)
    {
        var length = packet.Length >= 4 ? (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(packet), (uint)packet.Length) : 0;
        return offset >= 0 && offset + 4 <= length ? BinaryPrimitives.ReadUInt32LittleEndian(packet[offset..]) : 0;
    }
}
