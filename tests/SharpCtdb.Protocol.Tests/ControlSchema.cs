namespace SharpCtdb.Protocol.Tests;

/// <summary>Decodes and re-encodes a payload with the type a control uses; returns the re-encoded bytes.</summary>
public delegate byte[] PayloadRoundTrip(byte[] data);

/// <summary>Which wire type each control's request and (status 0) reply data use, per protocol.md §4.3.</summary>
public static class ControlSchema
{
    public static PayloadRoundTrip Of<T>() where T : IWireType<T> => d => WireCodec.ToBytes(WireCodec.FromBytes<T>(d));

    public static readonly PayloadRoundTrip Empty = d =>
    {
        ControlPayloads.RequireEmpty(d);
        return [];
    };

    public static readonly PayloadRoundTrip U32 = d => ControlPayloads.U32Payload(ControlPayloads.ReadU32(d));
    public static readonly PayloadRoundTrip I32 = d => ControlPayloads.I32Payload(ControlPayloads.ReadI32(d));
    public static readonly PayloadRoundTrip U64 = d => ControlPayloads.U64Payload(ControlPayloads.ReadU64(d));
    public static readonly PayloadRoundTrip String = d => ControlPayloads.StringPayload(ControlPayloads.ReadStringStrict(d));
    public static readonly PayloadRoundTrip Text = d => ControlPayloads.TextPayload(ControlPayloads.ReadString(d) ?? "");
    public static readonly PayloadRoundTrip StringN = d => ControlPayloads.StringNPayload(ControlPayloads.ReadStringN(d));
    public static readonly PayloadRoundTrip DbIdPadded = d => ControlPayloads.DbIdPaddedPayload(ControlPayloads.ReadDbIdPadded(d));

    public static readonly IReadOnlyDictionary<ControlOpcode, (PayloadRoundTrip Request, PayloadRoundTrip Reply)> Table =
        new Dictionary<ControlOpcode, (PayloadRoundTrip, PayloadRoundTrip)>
        {
            [ControlOpcode.ProcessExists] = (I32, Empty),
            [ControlOpcode.Statistics] = (Empty, Of<CtdbStatistics>()),
            [ControlOpcode.Ping] = (Empty, Empty),
            [ControlOpcode.GetDbPath] = (U32, String),
            [ControlOpcode.GetVnnMap] = (Empty, Of<VnnMap>()),
            [ControlOpcode.SetVnnMap] = (Of<VnnMap>(), Empty),
            [ControlOpcode.GetDebug] = (Empty, I32),
            [ControlOpcode.SetDebug] = (I32, Empty),
            [ControlOpcode.GetDbMap] = (Empty, Of<DbIdMap>()),
            [ControlOpcode.GetRecMode] = (Empty, Empty),
            [ControlOpcode.SetRecMode] = (U32, Empty),
            [ControlOpcode.DbAttach] = (String, U32),
            [ControlOpcode.TraverseStart] = (Of<TraverseStart>(), Empty),
            [ControlOpcode.RegisterSrvid] = (Empty, Empty),
            [ControlOpcode.DeregisterSrvid] = (Empty, Empty),
            [ControlOpcode.GetDbName] = (U32, String),
            [ControlOpcode.GetPid] = (Empty, Empty),
            [ControlOpcode.GetPnn] = (Empty, Empty),
            [ControlOpcode.TcpClient] = (Of<Connection>(), Empty),
            [ControlOpcode.SetTunable] = (Of<TunableValue>(), Empty),
            [ControlOpcode.GetTunable] = (StringN, U32),
            [ControlOpcode.ListTunables] = (Empty, Of<VarList>()),
            [ControlOpcode.ModifyFlags] = (Of<NodeFlagChange>(), Empty),
            [ControlOpcode.GetAllTunables] = (Empty, Of<TunableList>()),
            [ControlOpcode.GetTcpTickleList] = (Of<SockAddr>(), Of<TickleList>()),
            [ControlOpcode.DbAttachPersistent] = (String, U32),
            [ControlOpcode.UpdateRecord] = (Of<RecBuffer>(), Empty),
            [ControlOpcode.Uptime] = (Empty, Of<UptimeInfo>()),
            [ControlOpcode.GetCapabilities] = (Empty, U32),
            [ControlOpcode.ReleaseIp] = (Of<PublicIp>(), Empty),
            [ControlOpcode.TakeoverIp] = (Of<PublicIp>(), Empty),
            [ControlOpcode.GetPublicIps] = (Empty, Of<PublicIpList>()),
            [ControlOpcode.GetNodeMap] = (Empty, Of<NodeMap>()),
            [ControlOpcode.GetReclockFile] = (Empty, String),
            [ControlOpcode.SetBanState] = (Of<BanState>(), Empty),
            [ControlOpcode.GetBanState] = (Empty, Of<BanState>()),
            [ControlOpcode.RegisterNotify] = (Of<NotifyData>(), Empty),
            [ControlOpcode.DeregisterNotify] = (U64, Empty),
            [ControlOpcode.Trans3Commit] = (Of<RecBuffer>(), Empty),
            [ControlOpcode.GetDbSeqnum] = (DbIdPadded, U64),
            [ControlOpcode.DbGetHealth] = (U32, String),
            [ControlOpcode.GetPublicIpInfo] = (Of<SockAddr>(), Of<PublicIpInfo>()),
            [ControlOpcode.GetIfaces] = (Empty, Of<IfaceList>()),
            [ControlOpcode.SetIfaceLinkState] = (Of<Iface>(), Empty),
            [ControlOpcode.GetStatHistory] = (Empty, Of<StatisticsList>()),
            [ControlOpcode.ScheduleForDeletion] = (Of<KeyData>(), Empty),
            [ControlOpcode.TraverseStartExt] = (Of<TraverseStartExt>(), Empty),
            [ControlOpcode.GetDbStatistics] = (U32, Of<DbStatistics>()),
            [ControlOpcode.GetRunState] = (Empty, U32),
            [ControlOpcode.GetNodesFile] = (Empty, Of<NodeMap>()),
            [ControlOpcode.DbOpenFlags] = (U32, I32),
            [ControlOpcode.DbAttachReplicated] = (String, U32),
            [ControlOpcode.CheckPidSrvid] = (Of<PidSrvid>(), Empty),
            [ControlOpcode.DbVacuum] = (Of<DbVacuum>(), Empty),
            [ControlOpcode.EchoData] = (Of<EchoData>(), Of<EchoData>()),
            [ControlOpcode.SetDbSticky] = (U32, Empty),
            [ControlOpcode.SetDbReadonly] = (U32, Empty),
            [ControlOpcode.DumpMemory] = (Empty, Text),
            [ControlOpcode.EnableSeqnum] = (U32, Empty),
            [ControlOpcode.UpdateSeqnum] = (U32, Empty),
            [ControlOpcode.DbSetHealthy] = (U32, Empty),
            [ControlOpcode.DbFreeze] = (U32, Empty),
            [ControlOpcode.DbThaw] = (U32, Empty),
            [ControlOpcode.DbDetach] = (U32, Empty),
            [ControlOpcode.DbTransactionStart] = (Of<TransDb>(), Empty),
            [ControlOpcode.DbTransactionCommit] = (Of<TransDb>(), Empty),
            [ControlOpcode.DbTransactionCancel] = (U32, Empty),
            [ControlOpcode.WipeDatabase] = (Of<TransDb>(), Empty),
            [ControlOpcode.DbPull] = (Of<PullDbExt>(), U32),
            [ControlOpcode.DbPushStart] = (Of<PullDbExt>(), Empty),
            [ControlOpcode.DbPushConfirm] = (U32, U32),
            [ControlOpcode.TraverseAll] = (Of<TraverseAll>(), Empty),
            [ControlOpcode.TraverseAllExt] = (Of<TraverseAllExt>(), Empty),
            [ControlOpcode.TraverseData] = (Of<RecData>(), Empty),
            [ControlOpcode.TraverseKill] = (Of<TraverseStart>(), Empty),
            [ControlOpcode.SetTcpTickleList] = (Of<TickleList>(), Empty),
            [ControlOpcode.TcpAdd] = (Of<Connection>(), Empty),
            [ControlOpcode.TcpRemove] = (Of<Connection>(), Empty),
            [ControlOpcode.TcpAddDelayedUpdate] = (Of<Connection>(), Empty),
            [ControlOpcode.SendGratuitousArp] = (Of<AddrInfo>(), Empty),
            [ControlOpcode.AddPublicIp] = (Of<AddrInfo>(), Empty),
            [ControlOpcode.DelPublicIp] = (Of<AddrInfo>(), Empty),
            [ControlOpcode.TryDeleteRecords] = (Of<RecBuffer>(), Of<RecBuffer>()),
            [ControlOpcode.VacuumFetch] = (Of<RecBuffer>(), Empty),
            [ControlOpcode.RecdReclockLatency] = (d => ControlPayloads.F64Payload(ControlPayloads.ReadF64(d)), Empty),
            [ControlOpcode.SetLmasterRole] = (U32, Empty),
            [ControlOpcode.SetRecmasterRole] = (U32, Empty),
            [ControlOpcode.StatisticsReset] = (Empty, Empty),
            [ControlOpcode.Shutdown] = (Empty, Empty),
            [ControlOpcode.Freeze] = (Empty, Empty),
            [ControlOpcode.RecdPing] = (Empty, Empty),
            [ControlOpcode.StopNode] = (Empty, Empty),
            [ControlOpcode.ContinueNode] = (Empty, Empty),
            [ControlOpcode.DisableNode] = (Empty, Empty),
            [ControlOpcode.EnableNode] = (Empty, Empty),
            [ControlOpcode.ReloadNodesFile] = (Empty, Empty),
            [ControlOpcode.ReloadPublicIps] = (Empty, Empty),
            [ControlOpcode.IpReallocated] = (Empty, Empty),
            [ControlOpcode.StartRecovery] = (Empty, Empty),
            [ControlOpcode.EndRecovery] = (Empty, Empty),
            [ControlOpcode.Startup] = (Empty, Empty),
        };
}
