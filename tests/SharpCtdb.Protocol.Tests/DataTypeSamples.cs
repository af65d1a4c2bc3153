using System.Net;

namespace SharpCtdb.Protocol.Tests;

/// <summary>A sample value of a wire type with its expected encoded size and a decode+re-encode function.</summary>
public sealed record WireSample(string Name, byte[] Encoded, int ExpectedSize, Func<byte[], byte[]> Reencode, Func<byte[], object> Decode,
    bool PrefixMayBeValid = false)
{
    public override string ToString() => Name;
}

public static class DataTypeSamples
{
    private static WireSample S<T>(string name, T value, int size, bool prefixMayBeValid = false) where T : IWireType<T>
    {
        var bytes = WireCodec.ToBytes(value);
        return new WireSample(name, bytes, size, d => WireCodec.ToBytes(WireCodec.FromBytes<T>(d)), d => WireCodec.FromBytes<T>(d)!, prefixMayBeValid);
    }

    public static readonly SockAddr V4 = new(IPAddress.Parse("10.1.2.3"), 445);
    public static readonly SockAddr V6 = new(IPAddress.Parse("fd00::5357:5f02"), 4379) { FlowInfo = 7 };
    public static readonly SockAddr V6Scoped = new(IPAddress.Parse("fe80::1%3"), 0);
    public static readonly LtdbHeader Header = new(0x0102030405060708, 2, LtdbHeader.FlagMigratedWithData) { Reserved1 = 9 };
    public static readonly Timeval Tv = new(1_700_000_000, 123_456);

    private static CtdbStatistics Stats()
    {
        var s = new CtdbStatistics
        {
            NumClients = 1,
            Frozen = 2,
            Recovering = 3,
            ClientPacketsSent = 4,
            ClientPacketsRecv = 5,
            NodePacketsSent = 6,
            NodePacketsRecv = 7,
            KeepalivePacketsSent = 8,
            KeepalivePacketsRecv = 9,
            NodeReqCall = 10,
            NodeReplyCall = 11,
            NodeReqDmaster = 12,
            NodeReplyDmaster = 13,
            NodeReplyError = 14,
            NodeReqMessage = 15,
            NodeReqControl = 16,
            NodeReplyControl = 17,
            NodeReqTunnel = 18,
            ClientReqCall = 19,
            ClientReqMessage = 20,
            ClientReqControl = 21,
            ClientReqTunnel = 22,
            TimeoutsCall = 23,
            TimeoutsControl = 24,
            TimeoutsTraverse = 25,
            ReclockCtdbd = new LatencyCounter(1, 0.5, 0.5, 0.5),
            ReclockRecd = new LatencyCounter(2, 0.1, 0.2, 0.3),
            LocksNumCalls = 26,
            LocksNumCurrent = 27,
            LocksNumPending = 28,
            LocksNumFailed = 29,
            LocksLatency = new LatencyCounter(3, 1, 2, 3),
            TotalCalls = 30,
            PendingCalls = 31,
            ChildwriteCalls = 32,
            PendingChildwriteCalls = 33,
            MemoryUsed = 34,
            LastCounter = 35,
            MaxHopCount = 36,
            CallLatency = new LatencyCounter(4, 1, 1, 4),
            ChildwriteLatency = new LatencyCounter(5, 2, 2, 10),
            NumRecoveries = 37,
            StatisticsStartTime = new Timeval(100, 1),
            StatisticsCurrentTime = new Timeval(200, 2),
            TotalRoDelegations = 38,
            TotalRoRevokes = 39,
        };
        for (var i = 0; i < 16; i++)
        {
            s.LocksBuckets[i] = (uint)(100 + i);
            s.HopCountBucket[i] = (uint)(200 + i);
        }
        return s;
    }

    private static DbStatistics DbStats()
    {
        var s = new DbStatistics
        {
            LocksNumCalls = 1,
            LocksNumCurrent = 2,
            LocksNumPending = 3,
            LocksNumFailed = 4,
            LocksLatency = new LatencyCounter(1, 0.25, 0.25, 0.25),
            VacuumLatency = new LatencyCounter(2, 1, 3, 4),
            DbRoDelegations = 5,
            DbRoRevokes = 6,
        };
        s.LocksBuckets[3] = 7;
        s.HopCountBucket[15] = 8;
        var keys = Enumerable.Range(0, DbStatistics.MaxHotKeys).Select(_ => new HotKey(0, [])).ToArray();
        keys[0] = new HotKey(42, "hot"u8.ToArray());
        keys[1] = new HotKey(7, "k2"u8.ToArray());
        s.HotKeys = keys;
        return s;
    }

    public static IReadOnlyList<WireSample> All { get; } = Build();

    private static List<WireSample> Build()
    {
        var iface = new Iface("eth0", 1, 3);
        var conn = new Connection(V4, new SockAddr(IPAddress.Parse("10.9.9.9"), 50000));
        var rec1 = new RecData(5, "key"u8.ToArray(), "value"u8.ToArray());
        var rec2 = RecData.WithHeader(0, "k"u8.ToArray(), Header, "v"u8);
        var script = new ScriptInfo("10.interface", Tv, new Timeval(1_700_000_001, 5), -62, "some output");
        var sid = new ServerId(1234, 0, 1, 0xDEADBEEFCAFEUL);
        return
        [
            S("SockAddr v4", V4, 28),
            S("SockAddr v6", V6, 28),
            S("SockAddr v6 scoped", V6Scoped, 28),
            S("SockAddr unspec", SockAddr.Unspecified, 28),
            S("Timeval", Tv, 16),
            S("LtdbHeader", Header, 24),
            S("DbIdEntry", new DbIdEntry(0x7a19d84d, DbFlags.Persistent | DbFlags.Sticky), 8),
            S("DbIdMap", new DbIdMap([new DbIdEntry(1, DbFlags.None), new DbIdEntry(2, DbFlags.Replicated)]), 4 + 16),
            S("DbIdMap empty", new DbIdMap([]), 4),
            S("VnnMap", new VnnMap(655258881, [0, 1, 2]), 8 + 12),
            S("NodeAndFlags", new NodeAndFlags(1, NodeFlags.Banned, V4), 36),
            S("NodeMap", new NodeMap([new NodeAndFlags(0, NodeFlags.None, V4), new NodeAndFlags(1, NodeFlags.Disconnected, V6)]), 4 + 72),
            S("PublicIp", new PublicIp(Pnn.Unknown, V4), 32),
            S("PublicIpList", new PublicIpList([new PublicIp(0, V4), new PublicIp(2, V6)]), 4 + 64),
            S("Iface", iface, 24),
            S("IfaceList", new IfaceList([iface, new Iface("lo", 0, 0)]), 4 + 48),
            S("PublicIpInfo", new PublicIpInfo(new PublicIp(1, V4), 0, new IfaceList([iface])), 32 + 4 + 4 + 24),
            S("AddrInfo", new AddrInfo(V4, 24, "eth0"), 28 + 4 + 4 + 5),
            S("Connection", conn, 56),
            S("TickleList", new TickleList(V4, [conn, conn]), 28 + 4 + 112),
            S("UptimeInfo", new UptimeInfo(Tv, new Timeval(1, 2), new Timeval(3, 4), new Timeval(5, 6)), 64),
            S("BanState", new BanState(2, 300), 8),
            S("NodeFlagChange", new NodeFlagChange(1, NodeFlags.Stopped, NodeFlags.None), 12),
            S("TransDb", new TransDb(7, 655258881), 8),
            S("PullDbExt", new PullDbExt(7, PullDbExt.LmasterAny, 0xCE02000000000001), 16),
            S("TraverseStart", new TraverseStart(7, 8, 0xBE00000000001234), 16),
            S("TraverseStartExt", new TraverseStartExt(7, 8, 0xBE00000000001234, true), 24),
            S("TraverseAll", new TraverseAll(7, 8, 1, 9, 0xBE00000000001234), 24),
            S("TraverseAllExt", new TraverseAllExt(7, 8, 1, 9, 0xBE00000000001234, false), 32),
            S("TunableValue", new TunableValue(1, "RecoverInterval"), 4 + 4 + 16),
            S("VarList", new VarList(["A", "BC"]), 4 + 6),
            S("VarList no leading ':'", new VarList(["A", "BC"]) { LeadingSeparator = false }, 4 + 5),
            S("NotifyData", new NotifyData(0xFE00000000000001, [1, 2, 3]), 8 + 4 + 3),
            S("KeyData", new KeyData(7, Header, "key\0"u8.ToArray()), 4 + 4 + 24 + 4 + 4),
            S("PidSrvid", new PidSrvid(4242, 0xAE00000000000001), 12),
            S("DbVacuum", new DbVacuum(7, true), 5),
            S("EchoData", new EchoData(10, "hello"u8.ToArray()), 4 + 4 + 5),
            S("SrvidMessage", new SrvidMessage(1, 0xCE01000000010001), 16),
            S("DisableMessage", new DisableMessage(1, 0xCE01000000010001, 30), 24),
            S("ElectionMessage", new ElectionMessage(3, Tv, 1, NodeFlags.None), 32),
            S("LatencyCounter", new LatencyCounter(3, 0.001, 0.5, 0.75), 32),
            S("CtdbStatistics", Stats(), 488),
            S("StatisticsList", new StatisticsList([Stats(), new CtdbStatistics()]), 8 + 976),
            S("DbStatistics", DbStats(), 464 + 5),
            S("TunableList", new TunableList(Enumerable.Range(0, 62).Select(i => (uint)i * 3).ToArray()), 248),
            S("ScriptInfo", script, 584),
            S("ScriptList", new ScriptList([script, script]), 8 + 1168, prefixMayBeValid: true),
            S("ScriptList empty", new ScriptList([]), 0, prefixMayBeValid: true),
            S("ServerId", sid, 24),
            S("GLockEntry", new GLockEntry(GLockEntry.TypeWrite, sid), 32),
            S("GLockList", new GLockList([new GLockEntry(GLockEntry.TypeRead, sid), new GLockEntry(GLockEntry.TypeWrite, sid)]), 64,
                prefixMayBeValid: true),
            S("RecData", rec1, 16 + 3 + 5),
            S("RecData with header", rec2, 16 + 1 + 24 + 1),
            S("RecData end marker", new RecData(9, [], []), 16),
            S("RecBuffer", new RecBuffer(7, [rec1, rec2]), 8 + 24 + 42),
            S("RecBuffer empty", new RecBuffer(7, []), 8),
        ];
    }
}
