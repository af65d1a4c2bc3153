using System.Net;
using System.Net.Sockets;
using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.FakeDaemon;

/// <summary>
/// A stand-in for a whole CTDB cluster on one Unix socket, in the spirit of upstream's fake_ctdbd: every control,
/// whatever node it is addressed to, is answered from <see cref="FakeState"/>. The node the tool talks to is
/// <see cref="FakeState.CurrentPnn"/>; the leader broadcasts CTDB_SRVID_LEADER and answers takeover-run requests.
/// </summary>
public sealed partial class FakeCtdbd : IAsyncDisposable
{
    private readonly FakeState _state;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ClientConn> _clients = [];
    private readonly Lock _lock = new();
    private readonly Dictionary<string, uint> _tunables = new(StringComparer.OrdinalIgnoreCase);
    private readonly DateTimeOffset _startTime = DateTimeOffset.UtcNow;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _leaderLoop = Task.CompletedTask;
    private int _debugLevel = 3;
    private int _nextClientId;

    /// <summary>Socket path the daemon listens on.</summary>
    public string SocketPath { get; }

    /// <summary>CTDB_BASE used for reading nodes files on GET_NODES_FILE / RELOAD_NODES_FILE.</summary>
    public string CtdbBase { get; }

    /// <summary>Where database files are created (GETDBPATH returns DbDir/name).</summary>
    public string DbDir { get; }

    public FakeState State => _state;

    private FakeCtdbd(FakeState state, string socketPath, string ctdbBase, string dbDir)
    {
        _state = state;
        SocketPath = socketPath;
        CtdbBase = ctdbBase;
        DbDir = dbDir;
        foreach (var (name, value, _) in Tunables.Table)
            _tunables[name] = value;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    }

    /// <summary>Starts listening on <paramref name="socketPath"/> (replacing a stale socket file).</summary>
    public static FakeCtdbd Start(FakeState state, string socketPath, string ctdbBase, string dbDir)
    {
        var d = new FakeCtdbd(state, socketPath, ctdbBase, dbDir);
        Directory.CreateDirectory(dbDir);
        foreach (var db in state.Dbs)
            d.CreateDbFile(db);
        if (File.Exists(socketPath))
            File.Delete(socketPath);
        d._listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        d._listener.Listen(16);
        d._acceptLoop = Task.Run(() => d.AcceptLoopAsync(d._stop.Token));
        d._leaderLoop = Task.Run(() => d.LeaderLoopAsync(d._stop.Token));
        return d;
    }

    private async Task AcceptLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket s;
            try
            {
                s = await _listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var conn = new ClientConn(this, s, (uint)Interlocked.Increment(ref _nextClientId));
            lock (_lock)
                _clients.Add(conn);
            conn.Run = Task.Run(() => conn.RunAsync(ct));
        }
    }

    /// <summary>The leader's once-a-second CTDB_SRVID_LEADER broadcast, as the recovery daemon does it.</summary>
    private async Task LeaderLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                if (_state.LeaderPnn != Pnn.Unknown)
                    Broadcast(Srvid.Leader, LeaderMessage(), _state.LeaderPnn);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private byte[] LeaderMessage() => new WireWriter(4).U32(_state.LeaderPnn).ToArray();

    private void Broadcast(ulong srvid, byte[] data, uint srcNode)
    {
        ClientConn[] clients;
        lock (_lock)
            clients = [.. _clients];
        foreach (var c in clients)
        {
            if (c.IsRegistered(srvid))
                c.SendMessage(srvid, data, srcNode);
        }
    }

    internal void Remove(ClientConn conn)
    {
        lock (_lock)
            _clients.Remove(conn);
    }

    // A tool that just exited leaves its connection here until the reader sees EOF; the real
    // daemon has already dropped it by the time the next tool asks, so do not count it.
    private int LiveClientCount
    {
        get
        {
            lock (_lock)
                return _clients.Count(c => !c.PeerHasClosed());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        ClientConn[] clients;
        lock (_lock)
            clients = [.. _clients];
        foreach (var c in clients)
            c.Close();
        try
        {
            await Task.WhenAll(clients.Select(c => c.Run).Append(_acceptLoop).Append(_leaderLoop)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
        {
        }
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
        }
        _stop.Dispose();
    }

    /// <summary>One client connection: packets in, replies and messages out.</summary>
    internal sealed class ClientConn(FakeCtdbd daemon, Socket socket, uint clientId)
    {
        private readonly NetworkStream _stream = new(socket, ownsSocket: true);
        private readonly Lock _sendLock = new();
        private readonly HashSet<ulong> _srvids = [];

        public Task Run { get; set; } = Task.CompletedTask;
        public uint ClientId { get; } = clientId;

        public bool PeerHasClosed()
        {
            try
            {
                return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return true;
            }
        }

        public bool IsRegistered(ulong srvid)
        {
            lock (_srvids)
                return _srvids.Contains(srvid) || _srvids.Contains(Srvid.All);
        }

        public void Register(ulong srvid)
        {
            lock (_srvids)
                _srvids.Add(srvid);
        }

        public bool Deregister(ulong srvid)
        {
            lock (_srvids)
                return _srvids.Remove(srvid);
        }

        public async Task RunAsync(CancellationToken ct)
        {
            var reader = new PacketStreamReader(_stream);
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    var packet = await reader.ReadPacketAsync(ct).ConfigureAwait(false);
                    if (packet is null)
                        break;
                    daemon.Handle(this, packet);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ProtocolException
                                           or ObjectDisposedException)
            {
            }
            finally
            {
                daemon.Remove(this);
                Close();
            }
        }

        public void Send(byte[] packet)
        {
            try
            {
                lock (_sendLock)
                    _stream.Write(packet);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
            }
        }

        public void SendMessage(ulong srvid, byte[] data, uint srcNode) =>
            Send(new ReqMessage(PacketHeader.Create(Operation.ReqMessage, daemon._state.CurrentPnn, srcNode, 0), srvid, data).Encode());

        public void Close()
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
            _stream.Dispose();
        }
    }

    private void Handle(ClientConn conn, byte[] packet)
    {
        var header = PacketHeader.Read(packet);
        switch (header.Operation)
        {
            case Operation.ReqControl:
                HandleControl(conn, ReqControl.Decode(packet));
                break;
            case Operation.ReqMessage:
                HandleMessage(ReqMessage.Decode(packet));
                break;
            case Operation.ReqCall:
                HandleCall(conn, ReqCall.Decode(packet));
                break;
        }
    }

    /// <summary>Messages the tool sends to the cluster: the leader answers takeover-run style requests.</summary>
    private void HandleMessage(ReqMessage msg)
    {
        switch (msg.Srvid)
        {
            case Srvid.TakeoverRun:
                {
                    var req = SrvidMessage.FromBytes(msg.Data);
                    if (req.Srvid != 0)
                        ReplyToSrvid(req.Srvid, (int)_state.LeaderPnn);
                    break;
                }
            case Srvid.DisableTakeoverRuns:
            case Srvid.DisableRecoveries:
                {
                    var req = DisableMessage.FromBytes(msg.Data);
                    if (req.Srvid != 0)
                        ReplyToSrvid(req.Srvid, (int)_state.LeaderPnn);
                    break;
                }
            case Srvid.MemDump:
                {
                    var req = SrvidMessage.FromBytes(msg.Data);
                    if (req.Srvid != 0)
                        Broadcast(req.Srvid, Encoding.UTF8.GetBytes("fake recovery daemon memory\n\0"), _state.LeaderPnn);
                    break;
                }
            default:
                Broadcast(msg.Srvid, msg.Data, msg.Header.SrcNode);
                break;
        }
    }

    /// <summary>The leader answers; without a leader nobody does (the tool then keeps asking).</summary>
    private void ReplyToSrvid(ulong srvid, int result)
    {
        if (_state.LeaderPnn != Pnn.Unknown)
            Broadcast(srvid, new WireWriter(4).I32(result).ToArray(), _state.LeaderPnn);
    }

    private ControlFailure? FailureFor(ControlOpcode op, uint pnn) =>
        _state.ControlFailures.Find(f => f.Opcode == op && f.Pnn == pnn);

    private void HandleControl(ClientConn conn, ReqControl req)
    {
        var dest = req.Header.DestNode == Pnn.CurrentNode ? _state.CurrentPnn : req.Header.DestNode;
        var node = _state.Node(dest);
        var noReply = (req.Flags & ControlFlags.NoReply) != 0;

        void Reply(int status, byte[]? data = null, string? error = null)
        {
            if (noReply)
                return;
            var h = PacketHeader.Create(Operation.ReplyControl, req.Header.SrcNode, dest, req.Header.ReqId);
            conn.Send(new ReplyControl(h, status, status == 0 ? data ?? [] : [], error).Encode());
        }

        if (node is null)
        {
            Reply(-1, error: $"node {dest} does not exist");
            return;
        }
        if (node.Timeout)
            return;
        var failure = FailureFor(req.Opcode, dest);
        if (failure is not null)
        {
            if (failure.Kind == FailureKind.Error)
                Reply(-1, error: failure.Comment);
            return;
        }
        if ((node.Flags & NodeFlags.Disconnected) != 0 && dest != _state.CurrentPnn)
        {
            Reply(-1, error: $"node {dest} is disconnected");
            return;
        }
        try
        {
            lock (_lock)
                Dispatch(conn, req, dest, node, Reply);
        }
        catch (ProtocolException ex)
        {
            Reply(-1, error: ex.Message);
        }
    }

    private delegate void Replier(int status, byte[]? data = null, string? error = null);

    private static byte[] U32(uint v) => new WireWriter(4).U32(v).ToArray();

    private static byte[] CStringBytes(string s) => new WireWriter().CString(s).ToArray();

    private void Dispatch(ClientConn conn, ReqControl req, uint dest, FakeNode node, Replier reply)
    {
        var data = req.Data;
        switch (req.Opcode)
        {
            case ControlOpcode.GetPnn:
                reply((int)dest);
                break;
            case ControlOpcode.RegisterSrvid:
                conn.Register(req.Srvid);
                reply(0);
                if (req.Srvid == Srvid.Leader && _state.LeaderPnn != Pnn.Unknown)
                    conn.SendMessage(Srvid.Leader, LeaderMessage(), _state.LeaderPnn);
                break;
            case ControlOpcode.DeregisterSrvid:
                reply(conn.Deregister(req.Srvid) ? 0 : -1);
                break;
            case ControlOpcode.Ping:
                reply(LiveClientCount);
                break;
            case ControlOpcode.GetPid:
                reply(Environment.ProcessId);
                break;
            case ControlOpcode.ProcessExists:
                {
                    var r = new WireReader(data);
                    var pid = r.I32();
                    reply(pid > 0 && Directory.Exists($"/proc/{pid}") ? 0 : -1);
                    break;
                }
            case ControlOpcode.CheckPidSrvid:
                {
                    var ps = PidSrvid.FromBytes(data);
                    ClientConn[] clients;
                    clients = [.. _clients];
                    reply(Directory.Exists($"/proc/{ps.Pid}") && clients.Any(c => c.IsRegistered(ps.Srvid)) ? 0 : -1);
                    break;
                }
            case ControlOpcode.GetNodeMap:
                reply(0, NodeMapNow().ToBytes());
                break;
            case ControlOpcode.GetNodesFile:
                {
                    var map = ReadNodesFile(dest);
                    if (map is null)
                        reply(-1, error: "Failed to read nodes file");
                    else
                        reply(0, map.ToBytes());
                    break;
                }
            case ControlOpcode.ReloadNodesFile:
                ReloadNodes(dest);
                reply(0);
                break;
            case ControlOpcode.GetRunState:
                reply(0, U32((uint)_state.RunState));
                break;
            case ControlOpcode.GetVnnMap:
                reply(0, new VnnMap(_state.Generation, VnnMapNow()).ToBytes());
                break;
            case ControlOpcode.GetRecMode:
                reply((int)_state.RecMode);
                break;
            case ControlOpcode.SetRecMode:
                {
                    var r = new WireReader(data);
                    if (r.U32() == (uint)RecoveryMode.Active)
                    {
                        // A recovery: new generation, back to normal at once.
                        _state.Generation = (uint)Random.Shared.Next(2, int.MaxValue);
                        _lastRecoveryStarted = DateTimeOffset.UtcNow;
                        _lastRecoveryFinished = DateTimeOffset.UtcNow;
                    }
                    reply(0);
                    break;
                }
            case ControlOpcode.GetCapabilities:
                reply(0, U32((uint)node.Capabilities));
                break;
            case ControlOpcode.SetRecmasterRole:
            case ControlOpcode.SetLmasterRole:
                {
                    var r = new WireReader(data);
                    var on = r.U32() != 0;
                    var bit = req.Opcode == ControlOpcode.SetRecmasterRole ? Capabilities.Recmaster : Capabilities.Lmaster;
                    node.Capabilities = on ? node.Capabilities | bit : node.Capabilities & ~bit;
                    reply(0);
                    break;
                }
            case ControlOpcode.GetIfaces:
                reply(0, IfaceListNow().ToBytes());
                break;
            case ControlOpcode.SetIfaceLinkState:
                {
                    var iface = Iface.FromBytes(data);
                    var found = _state.Ifaces.Find(i => i.Name == iface.Name);
                    if (found is null)
                    {
                        reply(-1, error: $"interface {iface.Name} not found");
                        break;
                    }
                    found.LinkUp = iface.LinkState != 0;
                    reply(0);
                    break;
                }
            case ControlOpcode.GetPublicIps:
                reply(0, new PublicIpList([.. PublicIpsOf(dest).Select(ip => new PublicIp(ip.Pnn, new SockAddr(ip.Address)))]).ToBytes());
                break;
            case ControlOpcode.GetPublicIpInfo:
                {
                    var addr = SockAddr.FromBytes(data);
                    var ip = PublicIpsOf(dest).FirstOrDefault(i => new SockAddr(i.Address).SameAddress(addr));
                    if (ip is null)
                    {
                        reply(-1);
                        break;
                    }
                    var info = new PublicIpInfo(new PublicIp(ip.Pnn, new SockAddr(ip.Address)), 0, IfaceListNow());
                    reply(0, info.ToBytes());
                    break;
                }
            case ControlOpcode.ReleaseIp:
            case ControlOpcode.TakeoverIp:
                {
                    var pip = PublicIp.FromBytes(data);
                    var ip = _state.PublicIps.Find(i => new SockAddr(i.Address).SameAddress(pip.Addr));
                    if (ip is not null)
                        ip.Pnn = pip.Pnn;
                    reply(0);
                    break;
                }
            case ControlOpcode.AddPublicIp:
                {
                    var ai = AddrInfo.FromBytes(data);
                    if (!_state.PublicIps.Exists(i => new SockAddr(i.Address).SameAddress(ai.Addr)))
                        _state.PublicIps.Add(new FakePublicIp { Address = ai.Addr.Address, Pnn = Pnn.Unknown, Allowed = [dest] });
                    reply(0);
                    break;
                }
            case ControlOpcode.DelPublicIp:
                {
                    var ai = AddrInfo.FromBytes(data);
                    _state.PublicIps.RemoveAll(i => new SockAddr(i.Address).SameAddress(ai.Addr));
                    reply(0);
                    break;
                }
            case ControlOpcode.GetReclockFile:
                reply(0, _state.Reclock is null ? [] : CStringBytes(_state.Reclock));
                break;
            case ControlOpcode.GetDebug:
                reply(0, new WireWriter(4).I32(_debugLevel).ToArray());
                break;
            case ControlOpcode.SetDebug:
                {
                    var r = new WireReader(data);
                    _debugLevel = r.I32();
                    reply(0);
                    break;
                }
            case ControlOpcode.ListTunables:
                reply(0, new VarList([.. Tunables.Table.Where(t => !t.Obsolete).Select(t => t.Name)]).ToBytes());
                break;
            case ControlOpcode.GetTunable:
                {
                    var r = new WireReader(data);
                    var name = r.StringN() ?? "";
                    var entry = Tunables.Table.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
                    if (entry.Name is null || entry.Obsolete)
                        reply(-1);
                    else
                        reply(0, U32(_tunables[name]));
                    break;
                }
            case ControlOpcode.SetTunable:
                {
                    var tv = TunableValue.FromBytes(data);
                    var entry = Tunables.Table.FirstOrDefault(t => string.Equals(t.Name, tv.Name, StringComparison.OrdinalIgnoreCase));
                    if (entry.Name is null)
                    {
                        reply(-1);
                        break;
                    }
                    _tunables[entry.Name] = tv.Value;
                    reply(entry.Obsolete ? 1 : 0);
                    break;
                }
            case ControlOpcode.Uptime:
                reply(0, new UptimeInfo(Timeval.Now, Timeval.FromDateTimeOffset(_startTime),
                    Timeval.FromDateTimeOffset(_lastRecoveryStarted), Timeval.FromDateTimeOffset(_lastRecoveryFinished)).ToBytes());
                break;
            case ControlOpcode.Statistics:
                reply(0, StatisticsBytes());
                break;
            case ControlOpcode.GetStatHistory:
                reply(0, new WireWriter(8).I32(0).U32(0).ToArray());
                break;
            case ControlOpcode.StatisticsReset:
            case ControlOpcode.SendGratuitousArp:
            case ControlOpcode.TcpAddDelayedUpdate:
            case ControlOpcode.TcpAdd:
            case ControlOpcode.TcpRemove:
            case ControlOpcode.ReloadPublicIps:
            case ControlOpcode.IpReallocated:
            case ControlOpcode.ScheduleForDeletion:
                reply(0);
                break;
            case ControlOpcode.GetTcpTickleList:
                reply(0, new TickleList(SockAddr.FromBytes(data), []).ToBytes());
                break;
            case ControlOpcode.DumpMemory:
                reply(0, CStringBytes("fake ctdbd memory report\n"));
                break;
            case ControlOpcode.Shutdown:
                reply(0);
                _ = Task.Run(() => DisposeAsync().AsTask());
                break;
            case ControlOpcode.DisableNode:
                node.Flags |= NodeFlags.PermanentlyDisabled;
                reply(0);
                break;
            case ControlOpcode.EnableNode:
                node.Flags &= ~NodeFlags.PermanentlyDisabled;
                reply(0);
                break;
            case ControlOpcode.StopNode:
                node.Flags |= NodeFlags.Stopped;
                reply(0);
                break;
            case ControlOpcode.ContinueNode:
                node.Flags &= ~NodeFlags.Stopped;
                reply(0);
                break;
            case ControlOpcode.SetBanState:
                {
                    var ban = BanState.FromBytes(data);
                    var target = _state.Node(ban.Pnn) ?? node;
                    target.Flags = ban.Time > 0 ? target.Flags | NodeFlags.Banned : target.Flags & ~NodeFlags.Banned;
                    _banTimes[target.Pnn] = ban.Time;
                    reply(0);
                    break;
                }
            case ControlOpcode.GetBanState:
                reply(0, new BanState(dest, _banTimes.GetValueOrDefault(dest)).ToBytes());
                break;
            case ControlOpcode.ModifyFlags:
                {
                    var change = NodeFlagChange.FromBytes(data);
                    var target = _state.Node(change.Pnn);
                    if (target is not null)
                        target.Flags = change.NewFlags;
                    reply(0);
                    break;
                }
            default:
                if (!DispatchDb(req, dest, reply))
                    reply(-1, error: $"fake_ctdbd: control {ControlNames.Of(req.Opcode)} not implemented");
                break;
        }
    }

    private readonly Dictionary<uint, uint> _banTimes = [];
    private DateTimeOffset _lastRecoveryStarted = DateTimeOffset.UtcNow;
    private DateTimeOffset _lastRecoveryFinished = DateTimeOffset.UtcNow;

    private NodeMap NodeMapNow() =>
        new([.. _state.Nodes.Select(n => new NodeAndFlags(n.Pnn, n.Flags,
            (n.Flags & NodeFlags.Deleted) != 0 ? new SockAddr(IPAddress.Any) : new SockAddr(n.Address)))]);

    private uint[] VnnMapNow()
    {
        if (_state.VnnMap.Count > 0)
            return [.. _state.VnnMap];
        return [.. _state.Nodes.Where(n => (n.Flags & NodeFlags.Inactive) == 0 && (n.Capabilities & Capabilities.Lmaster) != 0)
            .Select(n => n.Pnn)];
    }

    private IfaceList IfaceListNow() =>
        new([.. _state.Ifaces.Select(i => new Iface(i.Name, i.LinkUp ? (ushort)1 : (ushort)0, i.References))]);

    private IEnumerable<FakePublicIp> PublicIpsOf(uint pnn) =>
        _state.PublicIps.Where(ip => ip.Allowed is null || ip.Allowed.Contains(pnn));

    private byte[] StatisticsBytes()
    {
        var w = new WireWriter(488);
        w.U32((uint)LiveClientCount);
        w.Zero(448 - 4);
        Timeval.FromDateTimeOffset(_startTime).Write(w);
        Timeval.Now.Write(w);
        w.Zero(8);
        return w.ToArray();
    }

    /// <summary>Reads CTDB_BASE/nodes.PNN (if present) or CTDB_BASE/nodes as that node would; null when unusable.</summary>
    private NodeMap? ReadNodesFile(uint pnn)
    {
        var perNode = Path.Combine(CtdbBase, $"nodes.{pnn}");
        var path = File.Exists(perNode) ? perNode : Path.Combine(CtdbBase, "nodes");
        if (!File.Exists(path))
            return null;
        var lines = File.ReadAllLines(path).Select(l => l.Trim()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
            lines.RemoveAt(lines.Count - 1);
        if (lines.Count == 0)
            return null;
        var nodes = new List<NodeAndFlags>();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.StartsWith('#'))
            {
                nodes.Add(new NodeAndFlags((uint)i, NodeFlags.Deleted, new SockAddr(IPAddress.Any)));
                continue;
            }
            var addrText = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0];
            if (!IPAddress.TryParse(addrText, out var addr))
                return null;
            nodes.Add(new NodeAndFlags((uint)i, 0, new SockAddr(addr)));
        }
        return new NodeMap(nodes);
    }

    private void ReloadNodes(uint pnn)
    {
        // Only the node the tool talks to changes the shared view.
        if (pnn != _state.CurrentPnn)
            return;
        var map = ReadNodesFile(pnn);
        if (map is null)
            return;
        foreach (var entry in map.Nodes)
        {
            var existing = _state.Node(entry.Pnn);
            if (existing is null)
            {
                _state.Nodes.Add(new FakeNode
                {
                    Pnn = entry.Pnn,
                    Address = entry.Addr.Address,
                    Flags = (entry.Flags & NodeFlags.Deleted) != 0 ? NodeFlags.Deleted | NodeFlags.Disconnected : NodeFlags.Disconnected,
                });
            }
            else if ((entry.Flags & NodeFlags.Deleted) != 0)
            {
                existing.Flags = NodeFlags.Deleted | NodeFlags.Disconnected;
            }
            else if ((existing.Flags & NodeFlags.Deleted) != 0)
            {
                existing.Flags = NodeFlags.Disconnected;
                existing.Address = entry.Addr.Address;
            }
        }
    }
}
