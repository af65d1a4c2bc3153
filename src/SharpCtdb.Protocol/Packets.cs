namespace SharpCtdb.Protocol;

/// <summary>REQ_CONTROL (op 7). Fixed part 60 bytes.</summary>
public sealed record ReqControl(
    PacketHeader Header,
    ControlOpcode Opcode,
    ulong Srvid,
    uint ClientId,
    ControlFlags Flags,
    byte[] Data)
{
    public const int FixedSize = 60;

    public byte[] Encode(bool pad = true) => PacketBuilder.Build(Header with { Operation = Operation.ReqControl }, w =>
    {
        w.U32((uint)Opcode).U32(0).U64(Srvid).U32(ClientId).U32((uint)Flags).U32((uint)Data.Length).Bytes(Data);
    }, pad);

    public static ReqControl Decode(ReadOnlySpan<byte> packet)
    {
        var h = PacketHeader.Read(packet);
        var r = new WireReader(packet[Wire.HeaderSize..]);
        var opcode = (ControlOpcode)r.U32();
        r.Skip(4);
        var srvid = r.U64();
        var clientId = r.U32();
        var flags = (ControlFlags)r.U32();
        var len = r.U32();
        if (len > (uint)r.Remaining)
            throw new ProtocolException($"control datalen {len} exceeds packet ({r.Remaining} bytes left)");
        return new ReqControl(h, opcode, srvid, clientId, flags, r.Bytes((int)len).ToArray());
    }
}

/// <summary>REPLY_CONTROL (op 8). Fixed part 44 bytes.</summary>
public sealed record ReplyControl(PacketHeader Header, int Status, byte[] Data, string? ErrorMessage)
{
    public const int FixedSize = 44;

    /// <summary>Encodes like the real daemon: never data with a non-zero status; error text without NUL.</summary>
    public byte[] Encode(bool pad = true) => PacketBuilder.Build(Header with { Operation = Operation.ReplyControl }, w =>
    {
        var data = Status == 0 ? Data : [];
        var err = ErrorMessage is null ? [] : System.Text.Encoding.UTF8.GetBytes(ErrorMessage);
        w.I32(Status).U32((uint)data.Length).U32((uint)err.Length).Bytes(data).Bytes(err);
    }, pad);

    public static ReplyControl Decode(ReadOnlySpan<byte> packet)
    {
        var h = PacketHeader.Read(packet);
        var r = new WireReader(packet[Wire.HeaderSize..]);
        var status = r.I32();
        var dlen = r.U32();
        var elen = r.U32();
        if (dlen > (uint)r.Remaining)
            throw new ProtocolException($"reply datalen {dlen} exceeds packet");
        var data = r.Bytes((int)dlen).ToArray();
        string? err = null;
        if (elen > 0)
        {
            if (elen > (uint)r.Remaining)
                throw new ProtocolException($"reply errorlen {elen} exceeds packet");
            // Readers must accept the error string with or without a trailing NUL.
            err = WireReader.DecodeCString(r.Bytes((int)elen));
        }
        return new ReplyControl(h, status, data, err);
    }
}

/// <summary>REQ_MESSAGE (op 5).</summary>
public sealed record ReqMessage(PacketHeader Header, ulong Srvid, byte[] Data)
{
    public byte[] Encode(bool pad = true) => PacketBuilder.Build(Header with { Operation = Operation.ReqMessage }, w =>
    {
        w.U64(Srvid).U32((uint)Data.Length).Bytes(Data);
    }, pad);

    public static ReqMessage Decode(ReadOnlySpan<byte> packet)
    {
        var h = PacketHeader.Read(packet);
        var r = new WireReader(packet[Wire.HeaderSize..]);
        var srvid = r.U64();
        var len = r.U32();
        if (len > (uint)r.Remaining)
            throw new ProtocolException($"message datalen {len} exceeds packet");
        return new ReqMessage(h, srvid, r.Bytes((int)len).ToArray());
    }
}

/// <summary>REQ_KEEPALIVE (op 9): version and uptime; a bare header from old peers is accepted.</summary>
public sealed record ReqKeepalive(PacketHeader Header, uint Version, uint Uptime, bool Bare)
{
    public byte[] Encode() => PacketBuilder.Build(Header with { Operation = Operation.ReqKeepalive }, w =>
    {
        if (!Bare)
            w.U32(Version).U32(Uptime);
    });

    public static ReqKeepalive Decode(ReadOnlySpan<byte> packet)
    {
        var h = PacketHeader.Read(packet);
        var r = new WireReader(packet[Wire.HeaderSize..]);
        if (r.Remaining < 8)
            return new ReqKeepalive(h, 0, 0, true);
        return new ReqKeepalive(h, r.U32(), r.U32(), false);
    }
}

/// <summary>REQ_CALL (op 0). Fixed part 56 bytes.</summary>
public sealed record ReqCall(PacketHeader Header, uint Flags, uint DbId, uint CallId, uint HopCount, byte[] Key, byte[] CallData)
{
    /// <summary>sizeof the C struct (with its 1-byte data[] member): the smallest packet real ctdbd sends.</summary>
    public const int CStructSize = 60;

    public const uint ImmediateMigration = 0x1;
    public const uint VacuumMigration = 0x2;
    public const uint WantReadonly = 0x4;

    public byte[] Encode(bool pad = true) => PacketBuilder.Build(Header with { Operation = Operation.ReqCall }, w =>
    {
        w.U32(Flags).U32(DbId).U32(CallId).U32(HopCount).U32((uint)Key.Length).U32((uint)CallData.Length)
         .Bytes(Key).Bytes(CallData);
    }, pad, CStructSize);

    public static ReqCall Decode(ReadOnlySpan<byte> packet)
    {
        var h = PacketHeader.Read(packet);
        var r = new WireReader(packet[Wire.HeaderSize..]);
        var flags = r.U32();
        var db = r.U32();
        var callid = r.U32();
        var hop = r.U32();
        var klen = r.U32();
        var clen = r.U32();
        if ((ulong)klen + clen > (ulong)r.Remaining)
            throw new ProtocolException("call key/data exceed packet");
        return new ReqCall(h, flags, db, callid, hop, r.Bytes((int)klen).ToArray(), r.Bytes((int)clen).ToArray());
    }
}

/// <summary>REPLY_CALL (op 1).</summary>
public sealed record ReplyCall(PacketHeader Header, int Status, byte[] Data)
{
    /// <summary>sizeof the C struct (with its 1-byte data[] member): the smallest packet real ctdbd sends.</summary>
    public const int CStructSize = 44;

    public byte[] Encode(bool pad = true) => PacketBuilder.Build(Header with { Operation = Operation.ReplyCall }, w =>
    {
        w.I32(Status).U32((uint)Data.Length).Bytes(Data);
    }, pad, CStructSize);

    public static ReplyCall Decode(ReadOnlySpan<byte> packet)
    {
        var h = PacketHeader.Read(packet);
        var r = new WireReader(packet[Wire.HeaderSize..]);
        var status = r.I32();
        var len = r.U32();
        if (len > (uint)r.Remaining)
            throw new ProtocolException("reply_call datalen exceeds packet");
        return new ReplyCall(h, status, r.Bytes((int)len).ToArray());
    }
}

/// <summary>REPLY_ERROR (op 4).</summary>
public sealed record ReplyError(PacketHeader Header, int Status, string Message)
{
    /// <summary>sizeof the C struct (with its 1-byte data[] member): the smallest packet real ctdbd sends.</summary>
    public const int CStructSize = 44;

    public byte[] Encode() => PacketBuilder.Build(Header with { Operation = Operation.ReplyError }, w =>
    {
        var m = System.Text.Encoding.UTF8.GetBytes(Message);
        w.I32(Status).U32((uint)m.Length).Bytes(m);
    }, true, CStructSize);

    public static ReplyError Decode(ReadOnlySpan<byte> packet)
    {
        var h = PacketHeader.Read(packet);
        var r = new WireReader(packet[Wire.HeaderSize..]);
        var status = r.I32();
        var len = r.U32();
        if (len > (uint)r.Remaining)
            throw new ProtocolException("reply_error msglen exceeds packet");
        return new ReplyError(h, status, WireReader.DecodeCString(r.Bytes((int)len)));
    }
}

/// <summary>REQ_DMASTER (op 2): db_id, pad, rsn, dmaster, keylen, datalen, key, data.</summary>
public sealed record ReqDmaster(PacketHeader Header, uint DbId, ulong Rsn, uint Dmaster, byte[] Key, byte[] Data)
{
    /// <summary>sizeof the C struct (with its 1-byte data[] member): the smallest packet real ctdbd sends.</summary>
    public const int CStructSize = 64;

    public byte[] Encode() => PacketBuilder.Build(Header with { Operation = Operation.ReqDmaster }, w =>
    {
        w.U32(DbId).U32(0).U64(Rsn).U32(Dmaster).U32((uint)Key.Length).U32((uint)Data.Length).Bytes(Key).Bytes(Data);
    }, true, CStructSize);

    public static ReqDmaster Decode(ReadOnlySpan<byte> packet)
    {
        var h = PacketHeader.Read(packet);
        var r = new WireReader(packet[Wire.HeaderSize..]);
        var db = r.U32();
        r.Skip(4);
        var rsn = r.U64();
        var dm = r.U32();
        var klen = r.U32();
        var dlen = r.U32();
        if ((ulong)klen + dlen > (ulong)r.Remaining)
            throw new ProtocolException("req_dmaster key/data exceed packet");
        return new ReqDmaster(h, db, rsn, dm, r.Bytes((int)klen).ToArray(), r.Bytes((int)dlen).ToArray());
    }
}

/// <summary>REPLY_DMASTER (op 3): db_id, pad, rsn, keylen, datalen, key, data.</summary>
public sealed record ReplyDmaster(PacketHeader Header, uint DbId, ulong Rsn, byte[] Key, byte[] Data)
{
    /// <summary>sizeof the C struct (with its 1-byte data[] member): the smallest packet real ctdbd sends.</summary>
    public const int CStructSize = 64;

    public byte[] Encode() => PacketBuilder.Build(Header with { Operation = Operation.ReplyDmaster }, w =>
    {
        w.U32(DbId).U32(0).U64(Rsn).U32((uint)Key.Length).U32((uint)Data.Length).Bytes(Key).Bytes(Data);
    }, true, CStructSize);

    public static ReplyDmaster Decode(ReadOnlySpan<byte> packet)
    {
        var h = PacketHeader.Read(packet);
        var r = new WireReader(packet[Wire.HeaderSize..]);
        var db = r.U32();
        r.Skip(4);
        var rsn = r.U64();
        var klen = r.U32();
        var dlen = r.U32();
        if ((ulong)klen + dlen > (ulong)r.Remaining)
            throw new ProtocolException("reply_dmaster key/data exceed packet");
        return new ReplyDmaster(h, db, rsn, r.Bytes((int)klen).ToArray(), r.Bytes((int)dlen).ToArray());
    }
}
