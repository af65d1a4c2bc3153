using System.Buffers.Binary;

namespace SharpCtdb.Protocol;

/// <summary>The 32-byte ctdb_req_header at the start of every packet.</summary>
public record struct PacketHeader(
    uint Length,
    uint Magic,
    uint Version,
    uint Generation,
    Operation Operation,
    uint DestNode,
    uint SrcNode,
    uint ReqId)
{
    public static PacketHeader Create(Operation op, uint destNode, uint srcNode, uint reqId, uint generation = 0) =>
        new(0, Wire.Magic, Wire.ProtocolVersion, generation, op, destNode, srcNode, reqId);

    public static PacketHeader Read(ReadOnlySpan<byte> p)
    {
        if (p.Length < Wire.HeaderSize)
            throw new ProtocolException($"packet of {p.Length} bytes is shorter than the 32-byte header");
        return new PacketHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(p),
            BinaryPrimitives.ReadUInt32LittleEndian(p[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[12..]),
            (Operation)BinaryPrimitives.ReadUInt32LittleEndian(p[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[20..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(p[28..]));
    }

    /// <summary>Writes the header with a placeholder length; <see cref="PacketBuilder"/> patches it.</summary>
    public readonly void Write(WireWriter w)
    {
        w.U32(Length).U32(Magic).U32(Version).U32(Generation).U32((uint)Operation)
         .U32(DestNode).U32(SrcNode).U32(ReqId);
    }

    /// <summary>Checks magic and version as the real receivers do.</summary>
    public readonly void Validate()
    {
        if (Magic != Wire.Magic)
            throw new ProtocolException($"bad magic 0x{Magic:x8}");
        if (Version != Wire.ProtocolVersion)
            throw new ProtocolException($"bad protocol version {Version}");
        if (Length < Wire.HeaderSize)
            throw new ProtocolException($"declared length {Length} is shorter than the header");
    }
}

/// <summary>Builds a packet: header, body, padding to 8, length patched.</summary>
public static class PacketBuilder
{
    public static byte[] Build(PacketHeader header, Action<WireWriter> body, bool pad = true) => Build(header, body, pad, 0);

    /// <summary>
    /// Like <see cref="Build(PacketHeader, Action{WireWriter}, bool)"/>, but when padding also zero-fills up to
    /// <paramref name="minLength"/> first. Real ctdbd sizes a packet as max(fixed part + data, sizeof(C struct))
    /// before rounding to 8, so e.g. an empty REPLY_CALL is 48 bytes, not 40 (seen in recorded traffic).
    /// </summary>
    public static byte[] Build(PacketHeader header, Action<WireWriter> body, bool pad, int minLength)
    {
        var w = new WireWriter(128);
        header.Write(w);
        body(w);
        if (pad && w.Length < minLength)
            w.Zero(minLength - w.Length);
        if (pad)
            w.PadTo8();
        w.PatchU32(0, (uint)w.Length);
        return w.ToArray();
    }
}
