using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>Control handlers: one entry per opcode; everything else answers -1 "Unknown control".</summary>
internal sealed partial class ClusterLoop
{
    private const int EInval = 22;

    private static readonly HashSet<ControlOpcode> ObsoleteControls =
    [
        ControlOpcode.GetNodeMapV4, ControlOpcode.SetDmaster, ControlOpcode.PullDb, ControlOpcode.PushDb, ControlOpcode.SetCall,
    ];

    public async ValueTask<ControlResult> DispatchControlAsync(ControlRequest req)
    {
        try
        {
            return await DispatchCoreAsync(req);
        }
        catch (ProtocolException e)
        {
            _log.Error($"Control {ControlNames.Of(req.Opcode)}: bad input ({e.Message})");
            return ControlResult.Fail(e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.Error($"Control {ControlNames.Of(req.Opcode)} failed: {e}");
            return ControlResult.Fail(e.Message);
        }
    }

    private ValueTask<ControlResult> DispatchCoreAsync(ControlRequest req)
    {
        static ValueTask<ControlResult> Done(ControlResult r) => ValueTask.FromResult(r);
        var d = req.Data;
        switch (req.Opcode)
        {
            case ControlOpcode.GetPnn: return Done(ControlResult.Value((int)OwnPnn));
            case ControlOpcode.Ping: return Done(ControlResult.Value(_clients?.Count ?? 0));
            case ControlOpcode.GetPid: return Done(ControlResult.Value(Environment.ProcessId));
            case ControlOpcode.GetRecMode: return Done(ControlResult.Value((int)_recMode));
            case ControlOpcode.SetRecMode: return Done(SetRecMode(d));
            case ControlOpcode.GetNodeMap: return Done(ControlResult.Ok(BuildNodeMap().ToBytes()));
            case ControlOpcode.GetNodesFile: return Done(GetNodesFile());
            case ControlOpcode.GetVnnMap: return Done(ControlResult.Ok(_vnnMap.ToBytes()));
            case ControlOpcode.SetVnnMap: return Done(SetVnnMap(d));
            case ControlOpcode.GetRunState: return Done(ControlResult.Ok(U32((uint)_runState)));
            case ControlOpcode.GetCapabilities: return Done(ControlResult.Ok(U32((uint)_capabilities)));
            case ControlOpcode.SetRecmasterRole: return Done(SetRole(d, Capabilities.Recmaster));
            case ControlOpcode.SetLmasterRole: return Done(SetRole(d, Capabilities.Lmaster));
            case ControlOpcode.Uptime: return Done(ControlResult.Ok(BuildUptime().ToBytes()));
            case ControlOpcode.GetDebug: return Done(ControlResult.Ok(U32((uint)_debugLevel)));
            case ControlOpcode.SetDebug: return Done(SetDebug(d));
            case ControlOpcode.GetTunable: return Done(GetTunable(d));
            case ControlOpcode.SetTunable: return Done(SetTunable(d));
            case ControlOpcode.ListTunables: return Done(ControlResult.Ok(new VarList(TunableNames()).ToBytes()));
            case ControlOpcode.GetAllTunables: return Done(ControlResult.Ok(TunableListBytes()));
            case ControlOpcode.RegisterSrvid: return Done(RegisterSrvid(req));
            case ControlOpcode.DeregisterSrvid: return Done(DeregisterSrvid(req));
            case ControlOpcode.GetReclockFile: return Done(ControlResult.Ok(_settings.ClusterLock is { } l ? CString(l) : []));
            case ControlOpcode.GetPublicIps: return Done(GetPublicIps(req.Flags));
            case ControlOpcode.GetPublicIpInfo: return Done(GetPublicIpInfo(d));
            case ControlOpcode.GetIfaces: return Done(GetIfaces());
            case ControlOpcode.SetIfaceLinkState: return Done(SetIfaceLinkState(d));
            case ControlOpcode.ReleaseIp: return ReleaseIpAsync(d);
            case ControlOpcode.TakeoverIp: return TakeoverIpAsync(d);
            case ControlOpcode.IpReallocated: return IpReallocatedAsync();
            case ControlOpcode.ModifyFlags: return Done(ModifyFlags(d));
            case ControlOpcode.StartRecovery: return StartRecoveryAsync();
            case ControlOpcode.EndRecovery: return EndRecoveryAsync();
            case ControlOpcode.Statistics: return Done(GetStatistics());
            case ControlOpcode.StatisticsReset: return Done(ResetStatistics());
            case ControlOpcode.GetStatHistory: return Done(GetStatHistory());
            case ControlOpcode.ReloadNodesFile: return Done(ReloadNodesFile());
            case ControlOpcode.ProcessExists: return Done(ProcessExists(d));
            case ControlOpcode.CheckPidSrvid: return Done(CheckPidSrvid(d));
            case ControlOpcode.Shutdown: return Done(ShutdownControl());
            case ControlOpcode.DisableNode: return Done(ChangeOwnFlags(NodeFlags.PermanentlyDisabled, 0));
            case ControlOpcode.EnableNode: return Done(ChangeOwnFlags(0, NodeFlags.PermanentlyDisabled));
            case ControlOpcode.StopNode: return Done(StopNode());
            case ControlOpcode.ContinueNode: return Done(ChangeOwnFlags(0, NodeFlags.Stopped));
            case ControlOpcode.SetBanState: return Done(SetBanState(d));
            case ControlOpcode.GetBanState: return Done(ControlResult.Ok(new BanState(OwnPnn, IsBanned ? _banSeconds : 0).ToBytes()));
            case ControlOpcode.RecdPing: return Done(ControlResult.Ok());
            case ControlOpcode.Startup: return Done(PeerStarted(req.SrcNode));
            case ControlOpcode.GetTcpTickleList: return Done(GetTickleList(d));
            case ControlOpcode.TcpClient: return Done(TcpClient(req));
            case ControlOpcode.TcpAdd: return Done(TcpAdd(d, markUpdate: false));
            case ControlOpcode.TcpAddDelayedUpdate: return Done(TcpAdd(d, markUpdate: true));
            case ControlOpcode.TcpRemove: return Done(TcpRemove(d));
            case ControlOpcode.SetTcpTickleList: return Done(SetTickleList(d));
            case ControlOpcode.AddPublicIp: return Done(AddPublicIp(d));
            case ControlOpcode.DelPublicIp: return Done(DelPublicIp(d));
            case ControlOpcode.ReloadPublicIps: return Done(ReloadPublicIps());
            case ControlOpcode.SendGratuitousArp: return Done(SendGratuitousArp(d));
        }
        if (TryDispatchDatabaseControl(req) is { } dbControl)
            return dbControl;
        if (TryDispatchDbRecoveryControl(req) is { } dbRecoveryControl)
            return dbRecoveryControl;
        if (ObsoleteControls.Contains(req.Opcode))
        {
            _log.Error($"Control {ControlNames.Of(req.Opcode)} is obsolete");
            return Done(ControlResult.Fail());
        }
        _log.Error($"Unknown control {ControlNames.Of(req.Opcode)} ({(uint)req.Opcode})");
        return Done(ControlResult.Fail());
    }

    private static byte[] U32(uint v) => new WireWriter(4).U32(v).ToArray();

    private static byte[] CString(string s) => new WireWriter(s.Length + 1).CString(s).ToArray();

    private static void RequireSize(byte[] d, int size, string what)
    {
        if (d.Length != size)
            throw new ProtocolException($"{what}: expected {size} bytes of data, got {d.Length}");
    }

    private static uint ReadU32(byte[] d, string what)
    {
        RequireSize(d, 4, what);
        var r = new WireReader(d);
        return r.U32();
    }

    private ControlResult SetRecMode(byte[] d)
    {
        var mode = ReadU32(d, "SET_RECMODE");
        if (mode > 1)
            return ControlResult.Fail($"invalid recovery mode {mode}");
        var newMode = (RecoveryMode)mode;
        if (newMode == RecoveryMode.Normal && (Own.Flags & (NodeFlags.Banned | NodeFlags.Stopped)) != 0)
        {
            // A recovery planned before this node was banned/stopped must not bring it back (4.17's recovery
            // daemon keeps an inactive node's recovery mode ACTIVE); the leader's recovery itself goes on.
            _log.Notice("Node is inactive - keeping recovery mode ACTIVE");
            return ControlResult.Ok();
        }
        if (newMode != _recMode)
            _log.Notice($"Recovery mode set to {(newMode == RecoveryMode.Normal ? "NORMAL" : "ACTIVE")}");
        _recMode = newMode;
        if (newMode == RecoveryMode.Normal)
            ThawAllDatabases();
        return ControlResult.Ok();
    }

    private ControlResult SetVnnMap(byte[] d)
    {
        if (_recMode != RecoveryMode.Active)
            return ControlResult.Fail("SETVNNMAP is only allowed while recovery mode is active");
        var map = VnnMap.FromBytes(d);
        _vnnMap = map;
        _log.Info($"vnnmap set: generation {map.Generation}, {map.Map.Length} entries");
        return ControlResult.Ok();
    }

    private ControlResult GetNodesFile()
    {
        var res = SharpCtdb.Config.NodesFile.Load(_settings.Paths.NodesFile);
        if (!res.Ok)
            return ControlResult.Fail("Failed to read nodes file");
        var map = new NodeMap([.. res.Nodes.Select(n => new NodeAndFlags(n.Pnn,
            n.Deleted ? NodeFlags.Deleted : NodeFlags.None, new SockAddr(n.Address)))]);
        return ControlResult.Ok(map.ToBytes());
    }

    private ControlResult SetRole(byte[] d, Capabilities cap)
    {
        var on = ReadU32(d, "SET_ROLE") != 0;
        var old = _capabilities;
        _capabilities = on ? _capabilities | cap : _capabilities & ~cap;
        if (old != _capabilities)
        {
            _log.Notice($"Capabilities changed: 0x{(uint)old:x8} -> 0x{(uint)_capabilities:x8}");
            LeaderBroadcastTick();
        }
        return ControlResult.Ok();
    }

    private UptimeInfo BuildUptime() => new(
        Timeval.FromDateTimeOffset(_time.GetUtcNow()),
        Timeval.FromDateTimeOffset(_startTime),
        _lastRecoveryStarted == default ? default : Timeval.FromDateTimeOffset(_lastRecoveryStarted),
        _lastRecoveryFinished == default ? default : Timeval.FromDateTimeOffset(_lastRecoveryFinished));

    private ControlResult SetDebug(byte[] d)
    {
        RequireSize(d, 4, "SET_DEBUG");
        var r = new WireReader(d);
        _debugLevel = r.I32();
        _log.Level = _debugLevel;
        return ControlResult.Ok();
    }

    private ControlResult GetTunable(byte[] d)
    {
        var r = new WireReader(d);
        var len = r.U32();
        if (len > (uint)r.Remaining)
            throw new ProtocolException("GET_TUNABLE: name length exceeds data");
        var name = WireReader.DecodeCString(r.Bytes((int)len));
        return TunableGet(name, out var v) ? ControlResult.Ok(U32(v)) : ControlResult.Fail($"unknown tunable {name}", -EInval);
    }

    private ControlResult SetTunable(byte[] d)
    {
        var t = TunableValue.FromBytes(d);
        return TunableSetValue(t.Name, t.Value) switch
        {
            TunableSetOutcome.Ok => ControlResult.Ok(),
            TunableSetOutcome.Obsolete => ControlResult.Value(1),
            _ => ControlResult.Fail($"unknown tunable {t.Name}"),
        };
    }

    private ControlResult RegisterSrvid(ControlRequest req)
    {
        if (req.Client is not { } c)
            return ControlResult.Ok(); // a peer daemon registering on our side makes no sense; accept quietly
        c.Srvids.Add(req.Srvid);
        // The tool waits for a leader broadcast; give it the answer now instead of within a second.
        if (req.Srvid == Srvid.Leader && _leader != Pnn.Unknown && !_electionInProgress)
        {
            var m = new ReqMessage(PacketHeader.Create(Operation.ReqMessage, OwnPnn, _leader, 0), Srvid.Leader, LeaderPayload(_leader));
            var reply = m.Encode();
            _loop.Post(() => c.Enqueue(reply)); // after the REGISTER reply
        }
        return ControlResult.Ok();
    }

    private static ControlResult DeregisterSrvid(ControlRequest req) =>
        req.Client is { } c && !c.Srvids.Remove(req.Srvid) ? ControlResult.Fail("srvid not registered") : ControlResult.Ok();

    // ---- public IPs ----

    private bool AddressesAvailableHere =>
        _runState == RunState.Running && (Own.Flags & (NodeFlags.Inactive | NodeFlags.Disabled)) == 0;

    private ControlResult GetPublicIps(ControlFlags flags)
    {
        var onlyAvailable = (flags & ControlFlags.PublicIpOnlyAvailable) != 0;
        var list = new List<PublicIp>();
        foreach (var v in _ips.Addresses)
        {
            if (onlyAvailable && !(AddressesAvailableHere && !v.DeletePending && _ips.HasUsableInterface(v)))
                continue;
            list.Add(new PublicIp(v.Pnn, new SockAddr(v.Address)));
        }
        return ControlResult.Ok(new PublicIpList(list).ToBytes());
    }

    private ControlResult GetPublicIpInfo(byte[] d)
    {
        var r = new WireReader(d);
        var addr = SockAddr.Read(ref r);
        return _ips.Find(addr.Address) is { } v
            ? ControlResult.Ok(_ips.InfoFor(v).ToBytes())
            : ControlResult.Fail($"Could not get public IP info, {addr.Address} is not a public address");
    }

    private ControlResult GetIfaces() => ControlResult.Ok(
        new IfaceList([.. _ips.Interfaces.Select(i => new Iface(i.Name, (ushort)(i.LinkUp ? 1 : 0), i.References))]).ToBytes());

    private ControlResult SetIfaceLinkState(byte[] d)
    {
        var r = new WireReader(d);
        var iface = Iface.Read(ref r);
        if (iface.LinkState > 1)
            return ControlResult.Fail($"invalid link state {iface.LinkState}");
        if (_ips.FindInterface(iface.Name) is not { } st)
            return ControlResult.Fail($"interface {iface.Name} is not known");
        var up = iface.LinkState == 1;
        if (st.LinkUp != up)
        {
            _log.Notice($"iface[{iface.Name}] has changed it's link status {(st.LinkUp ? "up" : "down")} => {(up ? "up" : "down")}");
            st.LinkUp = up;
            RequestTakeoverRunFromLeader();
        }
        return ControlResult.Ok();
    }

    private async ValueTask<ControlResult> TakeoverIpAsync(byte[] d)
    {
        var ip = PublicIp.FromBytes(d);
        if (_ips.Find(ip.Addr.Address) is not { } v)
            return ControlResult.Fail($"Could not find public IP {ip.Addr.Address}");
        if (v.Pnn == OwnPnn && v.CurrentInterface is { } cur && _ips.FindInterface(cur) is { LinkUp: true } && StillHosted(v, cur))
            return ControlResult.Ok(); // already hosted here on a working interface
        var iface = _ips.BestInterface(v);
        if (iface is null)
            return ControlResult.Fail($"No usable interface for public IP {v.Address}");
        if (!await PrepareTakeAsync(v, iface))
            return ControlResult.Fail($"No IP ownership lease to take {v.Address}");
        var oldIface = v.CurrentInterface;
        var status = oldIface is not null && v.Pnn == OwnPnn
            ? await RunEventAsync("updateip", oldIface, iface, v.Address.ToString(), v.MaskBits.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : await RunEventAsync("takeip", iface, v.Address.ToString(), v.MaskBits.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (status != 0)
            return ControlResult.Fail($"takeip of {v.Address} failed");
        _ips.Assign(v, iface, OwnPnn);
        AnnounceAddress(v, iface);
        _log.Notice($"Takeover of IP {v.Address}/{v.MaskBits} on interface {iface}");
        _clients?.DeliverMessage(OwnPnn, OwnPnn, Srvid.TakeIp, CString(v.Address.ToString()));
        AfterAddressTaken(v, iface);
        return ControlResult.Ok();
    }

    private async ValueTask<ControlResult> ReleaseIpAsync(byte[] d)
    {
        var ip = PublicIp.FromBytes(d);
        if (_ips.Find(ip.Addr.Address) is not { } v)
            return ControlResult.Ok(); // not ours to know about
        if (v.CurrentInterface is null)
        {
            v.Pnn = ip.Pnn;
            return ControlResult.Ok();
        }
        await ReleaseLocalAddressAsync(v, ip.Pnn);
        return ControlResult.Ok();
    }

    private async Task ReleaseLocalAddressAsync(PublicAddress v, uint newOwner)
    {
        var iface = v.CurrentInterface!;
        await RunEventAsync("releaseip", iface, v.Address.ToString(), v.MaskBits.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _ips.Unassign(v, newOwner);
        LeaseAddressReleased(v);
        _log.Notice($"Release of IP {v.Address}/{v.MaskBits} on interface {iface}  node:{(int)newOwner}");
        _clients?.DeliverMessage(OwnPnn, OwnPnn, Srvid.ReleaseIp, CString(v.Address.ToString()));
        AfterAddressReleased(v);
    }

    private async Task ReleaseAllAddressesAsync()
    {
        foreach (var v in _ips.Addresses.Where(a => a.CurrentInterface is not null).ToList())
            await ReleaseLocalAddressAsync(v, Pnn.Unknown);
    }

    private async ValueTask<ControlResult> IpReallocatedAsync()
    {
        // A node on its way out has nothing to reconfigure and is busy with its shutdown event: failing here would
        // only earn it banning credits from the leader's takeover run.
        if (_shuttingDown)
            return ControlResult.Ok();
        var status = await RunEventAsync("ipreallocated");
        return status == 0 ? ControlResult.Ok() : ControlResult.Fail("ipreallocated event failed", status);
    }

    // ---- flags ----

    private ControlResult ModifyFlags(byte[] d)
    {
        var change = NodeFlagChange.FromBytes(d);
        if (change.Pnn == OwnPnn || NodeOrNull(change.Pnn) is not { } n || !n.Connected)
            return ControlResult.Ok();
        var newFlags = (change.NewFlags & ~NodeFlags.Disconnected) | (n.Flags & NodeFlags.Disconnected);
        if (newFlags != n.Flags)
        {
            _log.Notice($"Node {n.Pnn} has changed flags - 0x{(uint)n.Flags:x} -> 0x{(uint)newFlags:x}");
            var wasActive = n.Active;
            n.Flags = newFlags;
            if (newFlags == NodeFlags.None && _runState <= RunState.Startup && _recMode == RecoveryMode.Normal)
            {
                _log.Notice($"Node {n.Pnn} became healthy - force recovery for startup");
                _recMode = RecoveryMode.Active;
            }
            if (wasActive != n.Active)
                RequestLeaderCheck();
        }
        return ControlResult.Ok();
    }

    /// <summary>Admin or monitor change of this node's own flags: push to all peers and ask for a takeover run.</summary>
    private ControlResult ChangeOwnFlags(NodeFlags set, NodeFlags clear)
    {
        var old = Own.Flags;
        var now = (old | set) & ~clear;
        if (now == old)
            return ControlResult.Ok();
        Own.Flags = now;
        _log.Notice($"This node flags changed - 0x{(uint)old:x} -> 0x{(uint)now:x}");
        PushOwnFlags(old, now);
        return ControlResult.Ok();
    }

    private void PushOwnFlags(NodeFlags old, NodeFlags now)
    {
        var change = new NodeFlagChange(OwnPnn, now, old).ToBytes();
        foreach (var n in ConnectedNodes.Where(n => n.Pnn != OwnPnn).ToList())
            _ = SendControlAsync(n.Pnn, ControlOpcode.ModifyFlags, change, flags: ControlFlags.NoReply);
        if ((old & NodeFlags.Inactive) != (now & NodeFlags.Inactive))
        {
            if (!CanBeLeader && _leader == OwnPnn)
                LeaderBroadcastTick();
            RequestLeaderCheck();
        }
        RequestTakeoverRunFromLeader();
    }

    private void RequestTakeoverRunFromLeader() =>
        SendMessage(Pnn.BroadcastConnected, Srvid.TakeoverRun, new SrvidMessage(OwnPnn, 0).ToBytes());

    private ControlResult StopNode()
    {
        var r = ChangeOwnFlags(NodeFlags.Stopped, 0);
        BecomeInactive();
        return r;
    }

    private void BecomeInactive()
    {
        _vnnMap = _vnnMap with { Generation = Wire.InvalidGeneration };
        _recMode = RecoveryMode.Active;
        _ = ReleaseAllAddressesAsync();
    }

    private readonly LoopTimer _banTimer;
    private uint _banSeconds;
    private bool IsBanned => (Own.Flags & NodeFlags.Banned) != 0;

    private ControlResult SetBanState(byte[] d)
    {
        var b = BanState.FromBytes(d);
        if (b.Pnn != OwnPnn)
            return ControlResult.Fail($"SET_BAN_STATE for node {b.Pnn} sent to node {OwnPnn}");
        // A LoopTimer: a stale fire of an earlier ban must not end this one early.
        _banTimer.Cancel();
        if (b.Time == 0)
        {
            _log.Notice("Unbanning this node");
            return ChangeOwnFlags(0, NodeFlags.Banned);
        }
        if (Tunables.EnableBans == 0)
        {
            _log.Notice("Bans are disabled - ignoring ban of node");
            return ControlResult.Ok();
        }
        _log.Notice($"Banning this node for {b.Time} seconds");
        var wasBanned = IsBanned;
        _banSeconds = b.Time;
        _banTimer.Arm(TimeSpan.FromSeconds(b.Time), () =>
        {
            _log.Notice("Banning timed out");
            ChangeOwnFlags(0, NodeFlags.Banned);
        });
        var r = ChangeOwnFlags(NodeFlags.Banned, 0);
        if (!wasBanned)
            BecomeInactive();
        return r;
    }

    // ---- misc ----

    private static ControlResult ProcessExists(byte[] d)
    {
        RequireSize(d, 4, "PROCESS_EXISTS");
        var r = new WireReader(d);
        return Native.ProcessExists(r.I32()) ? ControlResult.Ok() : ControlResult.Fail();
    }

    private ControlResult CheckPidSrvid(byte[] d)
    {
        var ps = PidSrvid.FromBytes(d);
        if (_clients is null)
            return ControlResult.Fail();
        foreach (var c in _clients.Clients)
        {
            if (c.Pid == ps.Pid && c.Srvids.Contains(ps.Srvid))
                return ControlResult.Ok();
        }
        return ControlResult.Fail();
    }

    private ControlResult ShutdownControl()
    {
        _log.Notice("Received SHUTDOWN command.");
        // Reply (if asked) first, then shut down.
        _loop.Post(() => Shutdown(0));
        return ControlResult.Ok();
    }

    internal static IPAddress Unmapped(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
}
