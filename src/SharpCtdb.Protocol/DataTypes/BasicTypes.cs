namespace SharpCtdb.Protocol;

/// <summary>struct timeval on x86_64: i64 tv_sec, i64 tv_usec (16 bytes).</summary>
public readonly record struct Timeval(long Sec, long Usec) : IWireType<Timeval>
{
    public const int Size = 16;

    public static Timeval Zero => default;

    public bool IsZero => Sec == 0 && Usec == 0;

    public static Timeval FromDateTimeOffset(DateTimeOffset t)
    {
        var ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return new Timeval(Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rem) - (rem < 0 ? 1 : 0),
            (rem < 0 ? rem + TimeSpan.TicksPerSecond : rem) / 10);
    }

    public static Timeval Now => FromDateTimeOffset(DateTimeOffset.UtcNow);

    public DateTimeOffset ToDateTimeOffset() =>
        DateTimeOffset.UnixEpoch.AddTicks(checked((Sec * TimeSpan.TicksPerSecond) + (Usec * 10)));

    /// <summary>Seconds as a double (what the tool prints with %lf).</summary>
    public double TotalSeconds => Sec + (Usec / 1e6);

    public void Write(WireWriter w) => w.I64(Sec).I64(Usec);

    public static Timeval Read(ref WireReader r) => new(r.I64(), r.I64());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static Timeval FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<Timeval>(data);
}

/// <summary>ctdb_ltdb_header (24 bytes): u64 rsn, u32 dmaster, u32 reserved1, u32 flags, pad 4. Prefixes every record value in a tdb.</summary>
public sealed record LtdbHeader(ulong Rsn, uint Dmaster, uint Flags = 0) : IWireType<LtdbHeader>
{
    public const int Size = 24;

    /// <summary>Record flags (ltdb_header.flags).</summary>
    public const uint FlagMigratedWithData = 0x00010000;
    public const uint FlagVacuumMigrated = 0x00020000;
    public const uint FlagAutomatic = 0x00040000;
    public const uint FlagRoHaveDelegations = 0x01000000;
    public const uint FlagRoHaveReadonly = 0x02000000;
    public const uint FlagRoRevokingReadonly = 0x04000000;
    public const uint FlagRoRevokeComplete = 0x08000000;

    /// <summary>Unused by 4.17 but carried so that headers read from disk re-encode unchanged.</summary>
    public uint Reserved1 { get; init; }

    public void Write(WireWriter w) => w.U64(Rsn).U32(Dmaster).U32(Reserved1).U32(Flags).U32(0);

    public static LtdbHeader Read(ref WireReader r)
    {
        var rsn = r.U64();
        var dmaster = r.U32();
        var reserved1 = r.U32();
        var flags = r.U32();
        r.Skip(4);
        return new LtdbHeader(rsn, dmaster, flags) { Reserved1 = reserved1 };
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static LtdbHeader FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<LtdbHeader>(data);
}

/// <summary>One GET_DBMAP entry (8 bytes): u32 db_id, u8 flags, pad 3.</summary>
public sealed record DbIdEntry(uint DbId, DbFlags Flags) : IWireType<DbIdEntry>
{
    public const int Size = 8;

    public void Write(WireWriter w) => w.U32(DbId).U8((byte)Flags).Zero(3);

    public static DbIdEntry Read(ref WireReader r)
    {
        var id = r.U32();
        var flags = (DbFlags)r.U8();
        r.Skip(3);
        return new DbIdEntry(id, flags);
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static DbIdEntry FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<DbIdEntry>(data);
}

/// <summary>dbid_map (GET_DBMAP reply): u32 num, dbid[num].</summary>
public sealed record DbIdMap(IReadOnlyList<DbIdEntry> Dbs) : IWireType<DbIdMap>
{
    public void Write(WireWriter w) => WireCodec.WriteArray(w, Dbs);

    public static DbIdMap Read(ref WireReader r) => new(WireCodec.ReadArray<DbIdEntry>(ref r, DbIdEntry.Size));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static DbIdMap FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<DbIdMap>(data);
}

/// <summary>vnn_map: u32 generation, u32 size, u32 map[size] (map[i] = lmaster of hash bucket i).</summary>
public sealed record VnnMap(uint Generation, uint[] Map) : IWireType<VnnMap>
{
    public bool IsInvalidGeneration => Generation == Wire.InvalidGeneration;

    public void Write(WireWriter w)
    {
        w.U32(Generation).U32((uint)Map.Length);
        foreach (var pnn in Map)
            w.U32(pnn);
    }

    public static VnnMap Read(ref WireReader r)
    {
        var generation = r.U32();
        var n = r.Count(4);
        return new VnnMap(generation, WireCodec.ReadU32s(ref r, n));
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static VnnMap FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<VnnMap>(data);
}

/// <summary>node_and_flags (36 bytes): u32 pnn, u32 flags, sock_addr.</summary>
public sealed record NodeAndFlags(uint Pnn, NodeFlags Flags, SockAddr Addr) : IWireType<NodeAndFlags>
{
    public const int Size = 36;

    public void Write(WireWriter w)
    {
        w.U32(Pnn).U32((uint)Flags);
        Addr.Write(w);
    }

    public static NodeAndFlags Read(ref WireReader r) => new(r.U32(), (NodeFlags)r.U32(), SockAddr.Read(ref r));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static NodeAndFlags FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<NodeAndFlags>(data);
}

/// <summary>node_map (GET_NODEMAP / GET_NODES_FILE reply): u32 num, node_and_flags[num].</summary>
public sealed record NodeMap(IReadOnlyList<NodeAndFlags> Nodes) : IWireType<NodeMap>
{
    /// <summary>The entry with this pnn, or null.</summary>
    public NodeAndFlags? Find(uint pnn)
    {
        foreach (var n in Nodes)
        {
            if (n.Pnn == pnn)
                return n;
        }
        return null;
    }

    public void Write(WireWriter w) => WireCodec.WriteArray(w, Nodes);

    public static NodeMap Read(ref WireReader r) => new(WireCodec.ReadArray<NodeAndFlags>(ref r, NodeAndFlags.Size));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static NodeMap FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<NodeMap>(data);
}

/// <summary>public_ip (32 bytes): u32 pnn (CTDB_UNKNOWN_PNN = unassigned), sock_addr.</summary>
public sealed record PublicIp(uint Pnn, SockAddr Addr) : IWireType<PublicIp>
{
    public const int Size = 32;

    public void Write(WireWriter w)
    {
        w.U32(Pnn);
        Addr.Write(w);
    }

    public static PublicIp Read(ref WireReader r) => new(r.U32(), SockAddr.Read(ref r));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static PublicIp FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<PublicIp>(data);
}

/// <summary>public_ip_list (GET_PUBLIC_IPS reply): u32 num, public_ip[num].</summary>
public sealed record PublicIpList(IReadOnlyList<PublicIp> Ips) : IWireType<PublicIpList>
{
    public void Write(WireWriter w) => WireCodec.WriteArray(w, Ips);

    public static PublicIpList Read(ref WireReader r) => new(WireCodec.ReadArray<PublicIp>(ref r, PublicIp.Size));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static PublicIpList FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<PublicIpList>(data);
}

/// <summary>iface (24 bytes): char name[18] NUL-padded, u16 link_state (0 down, 1 up), u32 references.</summary>
public sealed record Iface(string Name, ushort LinkState, uint References) : IWireType<Iface>
{
    public const int Size = 24;
    public const int NameSize = 18;

    public bool IsUp => LinkState != 0;

    public void Write(WireWriter w)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(Name) >= NameSize)
            throw new ProtocolException($"iface name '{Name}' is longer than {NameSize - 1} bytes");
        w.FixedString(Name, NameSize).U16(LinkState).U32(References);
    }

    public static Iface Read(ref WireReader r)
    {
        // Byte 17 is forced to NUL: FixedString stops at the first NUL, so only the first 17 bytes can count.
        var nameBytes = r.Bytes(NameSize);
        var name = WireReader.DecodeCString(nameBytes[..(NameSize - 1)]);
        return new Iface(name, r.U16(), r.U32());
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static Iface FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<Iface>(data);
}

/// <summary>iface_list (GET_IFACES reply): u32 num, iface[num].</summary>
public sealed record IfaceList(IReadOnlyList<Iface> Ifaces) : IWireType<IfaceList>
{
    public void Write(WireWriter w) => WireCodec.WriteArray(w, Ifaces);

    public static IfaceList Read(ref WireReader r) => new(WireCodec.ReadArray<Iface>(ref r, Iface.Size));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static IfaceList FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<IfaceList>(data);
}

/// <summary>public_ip_info (GET_PUBLIC_IP_INFO reply): public_ip, u32 active_idx (≥ count = none), iface_list.</summary>
public sealed record PublicIpInfo(PublicIp Ip, uint ActiveIdx, IfaceList Ifaces) : IWireType<PublicIpInfo>
{
    /// <summary>The active interface, or null when active_idx is out of range.</summary>
    public Iface? ActiveIface => ActiveIdx < (uint)Ifaces.Ifaces.Count ? Ifaces.Ifaces[(int)ActiveIdx] : null;

    public void Write(WireWriter w)
    {
        Ip.Write(w);
        w.U32(ActiveIdx);
        Ifaces.Write(w);
    }

    public static PublicIpInfo Read(ref WireReader r) => new(PublicIp.Read(ref r), r.U32(), IfaceList.Read(ref r));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static PublicIpInfo FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<PublicIpInfo>(data);
}

/// <summary>addr_info (ADD/DEL_PUBLIC_IP, SEND_GRATUITOUS_ARP): sock_addr, u32 mask (prefix length), stringn iface.</summary>
public sealed record AddrInfo(SockAddr Addr, uint Mask, string Iface) : IWireType<AddrInfo>
{
    public void Write(WireWriter w)
    {
        Addr.Write(w);
        w.U32(Mask).StringN(Iface);
    }

    /// <summary>A NULL iface (stringn length 0) reads as "".</summary>
    public static AddrInfo Read(ref WireReader r) => new(SockAddr.Read(ref r), r.U32(), r.StringN() ?? "");

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static AddrInfo FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<AddrInfo>(data);
}

/// <summary>connection (56 bytes): sock_addr src (server/public side), sock_addr dst (client side).</summary>
public sealed record Connection(SockAddr Src, SockAddr Dst) : IWireType<Connection>
{
    public const int Size = 56;

    public void Write(WireWriter w)
    {
        Src.Write(w);
        Dst.Write(w);
    }

    public static Connection Read(ref WireReader r) => new(SockAddr.Read(ref r), SockAddr.Read(ref r));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static Connection FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<Connection>(data);
}

/// <summary>tickle_list: sock_addr addr, u32 num, connection[num].</summary>
public sealed record TickleList(SockAddr Addr, IReadOnlyList<Connection> Connections) : IWireType<TickleList>
{
    public void Write(WireWriter w)
    {
        Addr.Write(w);
        WireCodec.WriteArray(w, Connections);
    }

    public static TickleList Read(ref WireReader r) =>
        new(SockAddr.Read(ref r), WireCodec.ReadArray<Connection>(ref r, Connection.Size));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static TickleList FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<TickleList>(data);
}

/// <summary>UPTIME reply (64 bytes): four timevals.</summary>
public sealed record UptimeInfo(Timeval CurrentTime, Timeval CtdbdStartTime, Timeval LastRecoveryStarted, Timeval LastRecoveryFinished)
    : IWireType<UptimeInfo>
{
    public const int Size = 64;

    public void Write(WireWriter w)
    {
        CurrentTime.Write(w);
        CtdbdStartTime.Write(w);
        LastRecoveryStarted.Write(w);
        LastRecoveryFinished.Write(w);
    }

    public static UptimeInfo Read(ref WireReader r) =>
        new(Timeval.Read(ref r), Timeval.Read(ref r), Timeval.Read(ref r), Timeval.Read(ref r));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static UptimeInfo FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<UptimeInfo>(data);
}

/// <summary>ban_state (8 bytes): u32 pnn, u32 time in seconds (0 = unban).</summary>
public sealed record BanState(uint Pnn, uint Time) : IWireType<BanState>
{
    public const int Size = 8;

    public void Write(WireWriter w) => w.U32(Pnn).U32(Time);

    public static BanState Read(ref WireReader r) => new(r.U32(), r.U32());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static BanState FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<BanState>(data);
}

/// <summary>node_flag_change (12 bytes): u32 pnn, u32 new_flags, u32 old_flags.</summary>
public sealed record NodeFlagChange(uint Pnn, NodeFlags NewFlags, NodeFlags OldFlags) : IWireType<NodeFlagChange>
{
    public const int Size = 12;

    public void Write(WireWriter w) => w.U32(Pnn).U32((uint)NewFlags).U32((uint)OldFlags);

    public static NodeFlagChange Read(ref WireReader r) => new(r.U32(), (NodeFlags)r.U32(), (NodeFlags)r.U32());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static NodeFlagChange FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<NodeFlagChange>(data);
}

/// <summary>transdb (8 bytes): u32 db_id, u32 tid.</summary>
public sealed record TransDb(uint DbId, uint Tid) : IWireType<TransDb>
{
    public const int Size = 8;

    public void Write(WireWriter w) => w.U32(DbId).U32(Tid);

    public static TransDb Read(ref WireReader r) => new(r.U32(), r.U32());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static TransDb FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<TransDb>(data);
}

/// <summary>pulldb_ext (16 bytes): u32 db_id, u32 lmaster, u64 srvid.</summary>
public sealed record PullDbExt(uint DbId, uint Lmaster, ulong Srvid) : IWireType<PullDbExt>
{
    public const int Size = 16;

    /// <summary>CTDB_LMASTER_ANY: pull/push records regardless of lmaster.</summary>
    public const uint LmasterAny = 0xFFFFFFFF;

    public void Write(WireWriter w) => w.U32(DbId).U32(Lmaster).U64(Srvid);

    public static PullDbExt Read(ref WireReader r) => new(r.U32(), r.U32(), r.U64());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static PullDbExt FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<PullDbExt>(data);
}

/// <summary>traverse_start (16 bytes): u32 db_id, u32 reqid, u64 srvid.</summary>
public sealed record TraverseStart(uint DbId, uint ReqId, ulong Srvid) : IWireType<TraverseStart>
{
    public const int Size = 16;

    public void Write(WireWriter w) => w.U32(DbId).U32(ReqId).U64(Srvid);

    public static TraverseStart Read(ref WireReader r) => new(r.U32(), r.U32(), r.U64());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static TraverseStart FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<TraverseStart>(data);
}

/// <summary>traverse_start_ext (24 bytes): u32 db_id, u32 reqid, u64 srvid, bool withemptyrecords, pad 7.</summary>
public sealed record TraverseStartExt(uint DbId, uint ReqId, ulong Srvid, bool WithEmptyRecords) : IWireType<TraverseStartExt>
{
    public const int Size = 24;

    public void Write(WireWriter w) => w.U32(DbId).U32(ReqId).U64(Srvid).Bool(WithEmptyRecords).Zero(7);

    public static TraverseStartExt Read(ref WireReader r)
    {
        var v = new TraverseStartExt(r.U32(), r.U32(), r.U64(), r.Bool());
        r.Skip(7);
        return v;
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static TraverseStartExt FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<TraverseStartExt>(data);
}

/// <summary>traverse_all (24 bytes): u32 db_id, u32 reqid, u32 pnn, u32 client_reqid, u64 srvid.</summary>
public sealed record TraverseAll(uint DbId, uint ReqId, uint Pnn, uint ClientReqId, ulong Srvid) : IWireType<TraverseAll>
{
    public const int Size = 24;

    public void Write(WireWriter w) => w.U32(DbId).U32(ReqId).U32(Pnn).U32(ClientReqId).U64(Srvid);

    public static TraverseAll Read(ref WireReader r) => new(r.U32(), r.U32(), r.U32(), r.U32(), r.U64());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static TraverseAll FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<TraverseAll>(data);
}

/// <summary>traverse_all_ext (32 bytes): traverse_all + bool withemptyrecords + pad 7.</summary>
public sealed record TraverseAllExt(uint DbId, uint ReqId, uint Pnn, uint ClientReqId, ulong Srvid, bool WithEmptyRecords)
    : IWireType<TraverseAllExt>
{
    public const int Size = 32;

    public void Write(WireWriter w) =>
        w.U32(DbId).U32(ReqId).U32(Pnn).U32(ClientReqId).U64(Srvid).Bool(WithEmptyRecords).Zero(7);

    public static TraverseAllExt Read(ref WireReader r)
    {
        var v = new TraverseAllExt(r.U32(), r.U32(), r.U32(), r.U32(), r.U64(), r.Bool());
        r.Skip(7);
        return v;
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static TraverseAllExt FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<TraverseAllExt>(data);
}

/// <summary>SET_TUNABLE payload: u32 value, stringn name.</summary>
public sealed record TunableValue(uint Value, string Name) : IWireType<TunableValue>
{
    public void Write(WireWriter w) => w.U32(Value).StringN(Name);

    public static TunableValue Read(ref WireReader r) => new(r.U32(), r.StringN() ?? "");

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static TunableValue FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<TunableValue>(data);
}

/// <summary>
/// var_list (LIST_TUNABLES reply): u32 n, then n bytes = names separated by ':' plus one NUL. Real ctdbd 4.17 starts the
/// text with a ':' (its first tunable slot is obsolete and skipped); readers ignore empty names, as the tool does.
/// </summary>
public sealed record VarList(IReadOnlyList<string> Names) : IWireType<VarList>
{
    /// <summary>Whether the text starts with ':' (what real ctdbd 4.17 sends; the default).</summary>
    public bool LeadingSeparator { get; init; } = true;

    public void Write(WireWriter w)
    {
        var text = (LeadingSeparator && Names.Count > 0 ? ":" : "") + string.Join(':', Names);
        var joined = System.Text.Encoding.UTF8.GetBytes(text);
        w.U32((uint)joined.Length + 1).Bytes(joined).U8(0);
    }

    public static VarList Read(ref WireReader r)
    {
        var n = r.U32();
        if (n > (uint)r.Remaining)
            throw new ProtocolException($"var_list length {n} exceeds remaining {r.Remaining} bytes");
        var text = WireReader.DecodeCString(r.Bytes((int)n));
        return new VarList(text.Split(':', StringSplitOptions.RemoveEmptyEntries)) { LeadingSeparator = text.StartsWith(':') };
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static VarList FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<VarList>(data);
}

/// <summary>notify_data (REGISTER_NOTIFY): u64 srvid, tdb_datan data.</summary>
public sealed record NotifyData(ulong Srvid, byte[] Data) : IWireType<NotifyData>
{
    public void Write(WireWriter w) => w.U64(Srvid).DataN(Data);

    public static NotifyData Read(ref WireReader r) => new(r.U64(), r.DataN());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static NotifyData FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<NotifyData>(data);
}

/// <summary>key_data (SCHEDULE_FOR_DELETION): u32 db_id, pad 4, ltdb_header, tdb_datan key.</summary>
public sealed record KeyData(uint DbId, LtdbHeader Header, byte[] Key) : IWireType<KeyData>
{
    public void Write(WireWriter w)
    {
        w.U32(DbId).U32(0);
        Header.Write(w);
        w.DataN(Key);
    }

    public static KeyData Read(ref WireReader r)
    {
        var db = r.U32();
        r.Skip(4);
        return new KeyData(db, LtdbHeader.Read(ref r), r.DataN());
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static KeyData FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<KeyData>(data);
}

/// <summary>pid_srvid (CHECK_PID_SRVID): i32 pid, u64 srvid — 12 bytes, packed.</summary>
public sealed record PidSrvid(int Pid, ulong Srvid) : IWireType<PidSrvid>
{
    public const int Size = 12;

    public void Write(WireWriter w) => w.I32(Pid).U64(Srvid);

    public static PidSrvid Read(ref WireReader r) => new(r.I32(), r.U64());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static PidSrvid FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<PidSrvid>(data);
}

/// <summary>db_vacuum (DB_VACUUM): u32 db_id, bool full_vacuum_run — 5 bytes.</summary>
public sealed record DbVacuum(uint DbId, bool FullVacuumRun) : IWireType<DbVacuum>
{
    public const int Size = 5;

    public void Write(WireWriter w) => w.U32(DbId).Bool(FullVacuumRun);

    public static DbVacuum Read(ref WireReader r) => new(r.U32(), r.Bool());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static DbVacuum FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<DbVacuum>(data);
}

/// <summary>echo_data (ECHO_DATA request and reply): u32 timeout, tdb_datan buf.</summary>
public sealed record EchoData(uint Timeout, byte[] Buffer) : IWireType<EchoData>
{
    public void Write(WireWriter w) => w.U32(Timeout).DataN(Buffer);

    public static EchoData Read(ref WireReader r) => new(r.U32(), r.DataN());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static EchoData FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<EchoData>(data);
}

/// <summary>srvid_message (16 bytes): u32 pnn, pad 4, u64 srvid — "reply to this pnn/srvid" (TAKEOVER_RUN, MEM_DUMP).</summary>
public sealed record SrvidMessage(uint Pnn, ulong Srvid) : IWireType<SrvidMessage>
{
    public const int Size = 16;

    public void Write(WireWriter w) => w.U32(Pnn).U32(0).U64(Srvid);

    public static SrvidMessage Read(ref WireReader r)
    {
        var pnn = r.U32();
        r.Skip(4);
        return new SrvidMessage(pnn, r.U64());
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static SrvidMessage FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<SrvidMessage>(data);
}

/// <summary>disable_message (24 bytes): u32 pnn, pad 4, u64 srvid, u32 timeout (s), pad 4.</summary>
public sealed record DisableMessage(uint Pnn, ulong Srvid, uint Timeout) : IWireType<DisableMessage>
{
    public const int Size = 24;

    public void Write(WireWriter w) => w.U32(Pnn).U32(0).U64(Srvid).U32(Timeout).U32(0);

    public static DisableMessage Read(ref WireReader r)
    {
        var pnn = r.U32();
        r.Skip(4);
        var srvid = r.U64();
        var timeout = r.U32();
        r.Skip(4);
        return new DisableMessage(pnn, srvid, timeout);
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static DisableMessage FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<DisableMessage>(data);
}

/// <summary>election_message (32 bytes): u32 num_connected, pad 4, timeval priority_time, u32 pnn, u32 node_flags.</summary>
public sealed record ElectionMessage(uint NumConnected, Timeval PriorityTime, uint Pnn, NodeFlags NodeFlags) : IWireType<ElectionMessage>
{
    public const int Size = 32;

    public void Write(WireWriter w)
    {
        w.U32(NumConnected).U32(0);
        PriorityTime.Write(w);
        w.U32(Pnn).U32((uint)NodeFlags);
    }

    public static ElectionMessage Read(ref WireReader r)
    {
        var num = r.U32();
        r.Skip(4);
        return new ElectionMessage(num, Timeval.Read(ref r), r.U32(), (NodeFlags)r.U32());
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static ElectionMessage FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<ElectionMessage>(data);
}

/// <summary>latency_counter (32 bytes): i32 num, pad 4, f64 min, f64 max, f64 total (seconds).</summary>
public sealed record LatencyCounter(int Num, double Min, double Max, double Total) : IWireType<LatencyCounter>
{
    public const int Size = 32;

    public static LatencyCounter Empty { get; } = new(0, 0, 0, 0);

    /// <summary>Adds one sample the way ctdbd accumulates latencies (min/max over samples, total sums).</summary>
    public LatencyCounter Add(double seconds) => Num == 0
        ? new LatencyCounter(1, seconds, seconds, seconds)
        : new LatencyCounter(Num + 1, Math.Min(Min, seconds), Math.Max(Max, seconds), Total + seconds);

    public void Write(WireWriter w) => w.I32(Num).U32(0).F64(Min).F64(Max).F64(Total);

    public static LatencyCounter Read(ref WireReader r)
    {
        var num = r.I32();
        r.Skip(4);
        return new LatencyCounter(num, r.F64(), r.F64(), r.F64());
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static LatencyCounter FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<LatencyCounter>(data);
}

/// <summary>server_id (24 bytes): u64 pid, u32 task_id, u32 vnn, u64 unique_id.</summary>
public sealed record ServerId(ulong Pid, uint TaskId, uint Vnn, ulong UniqueId) : IWireType<ServerId>
{
    public const int Size = 24;

    public void Write(WireWriter w) => w.U64(Pid).U32(TaskId).U32(Vnn).U64(UniqueId);

    public static ServerId Read(ref WireReader r) => new(r.U64(), r.U32(), r.U32(), r.U64());

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static ServerId FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<ServerId>(data);
}

/// <summary>One g_lock record entry (32 bytes): u32 type (0 READ, 1 WRITE), pad 4, server_id.</summary>
public sealed record GLockEntry(uint Type, ServerId Sid) : IWireType<GLockEntry>
{
    public const int Size = 32;
    public const uint TypeRead = 0;
    public const uint TypeWrite = 1;

    public void Write(WireWriter w)
    {
        w.U32(Type).U32(0);
        Sid.Write(w);
    }

    public static GLockEntry Read(ref WireReader r)
    {
        var type = r.U32();
        r.Skip(4);
        return new GLockEntry(type, ServerId.Read(ref r));
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static GLockEntry FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<GLockEntry>(data);
}

/// <summary>g_lock_list: GLockEntry values back to back with no count; count = length / 32.</summary>
public sealed record GLockList(IReadOnlyList<GLockEntry> Locks) : IWireType<GLockList>
{
    public void Write(WireWriter w)
    {
        foreach (var l in Locks)
            l.Write(w);
    }

    /// <summary>Consumes the rest of the reader; a length that is not a multiple of 32 is rejected.</summary>
    public static GLockList Read(ref WireReader r)
    {
        if (r.Remaining % GLockEntry.Size != 0)
            throw new ProtocolException($"g_lock_list length {r.Remaining} is not a multiple of {GLockEntry.Size}");
        return new GLockList(WireCodec.ReadElements<GLockEntry>(ref r, r.Remaining / GLockEntry.Size));
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static GLockList FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<GLockList>(data);
}
