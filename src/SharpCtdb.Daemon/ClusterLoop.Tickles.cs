using System.Net;
using SharpCtdb.Daemon.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>
/// Tickle lists (behaviour.md §6.9): TCP_CLIENT / TCP_ADD / TCP_ADD_DELAYED_UPDATE / TCP_REMOVE /
/// GET_TCP_TICKLE_LIST / SET_TCP_TICKLE_LIST, their replication every TickleUpdateInterval and at a peer's
/// STARTUP, and the tickle ACKs a new owner sends for the connections of an address it takes over (§6.7).
/// </summary>
internal sealed partial class ClusterLoop
{
    private readonly TickleTable _tickles = new();

    /// <summary>TCP_CLIENT registrations of local clients (smbd), by client id, so a disconnect can drop them.</summary>
    private readonly Dictionary<uint, List<Connection>> _clientConnections = [];

    private ControlResult TcpClient(ControlRequest req)
    {
        var c = Connection.FromBytes(req.Data);
        if (_ips.Addresses.Count == 0)
            return ControlResult.Ok();
        if (_ips.Find(c.Dst.Address) is not { } v)
        {
            if (!IPAddress.IsLoopback(c.Dst.Address))
                _log.Error($"Could not register TCP connection from {c.Src.ToStringWithPort()} to {c.Dst.ToStringWithPort()} (not a public address)");
            return ControlResult.Ok();
        }
        if (v.Pnn != OwnPnn)
        {
            _log.Error($"Attempt to register tcp client for IP {v.Address} we don't hold - failing (client_id {req.Client?.Id} pid {req.Client?.Pid})");
            return ControlResult.Fail("address not hosted here");
        }
        if (req.Client is { } client)
        {
            if (!_clientConnections.TryGetValue(client.Id, out var list))
                _clientConnections[client.Id] = list = [];
            if (!list.Any(x => TickleTable.Same(x, c)))
                list.Add(c);
        }
        _log.Info($"Registered TCP connection from {c.Src.ToStringWithPort()} to {c.Dst.ToStringWithPort()}");
        // Every node learns it (ourselves included) through TCP_ADD.
        var payload = c.ToBytes();
        foreach (var n in ConnectedNodes.ToList())
            _ = SendControlAsync(n.Pnn, ControlOpcode.TcpAdd, payload, flags: ControlFlags.NoReply);
        return ControlResult.Ok();
    }

    private ControlResult TcpAdd(byte[] d, bool markUpdate)
    {
        var c = Connection.FromBytes(d);
        if (_ips.Find(c.Dst.Address) is not { } v)
        {
            _log.Error($"unable to find public address {SockAddr.FormatAddress(Unmapped(c.Dst.Address))}");
            return ControlResult.Fail("not a public address");
        }
        if (_tickles.Add(v.Address, c, markUpdate))
            _log.Info($"Added tickle info for {c.Dst.ToStringWithPort()} from {c.Src.ToStringWithPort()}");
        return ControlResult.Ok();
    }

    private ControlResult TcpRemove(byte[] d)
    {
        var c = Connection.FromBytes(d);
        if (_ips.Find(c.Dst.Address) is { } v && _tickles.Remove(v.Address, c))
            _log.Info($"Removed tickle info for {c.Dst.ToStringWithPort()} from {c.Src.ToStringWithPort()}");
        return ControlResult.Ok(); // an unknown address or connection is not an error
    }

    private ControlResult GetTickleList(byte[] d)
    {
        var r = new WireReader(d);
        var addr = SockAddr.Read(ref r);
        if (_ips.Find(addr.Address) is not { } v)
            return ControlResult.Value(1);
        var list = _tickles.Get(v.Address).Where(c => addr.Port == 0 || c.Dst.Port == addr.Port).ToList();
        return ControlResult.Ok(new TickleList(new SockAddr(v.Address), list).ToBytes());
    }

    private ControlResult SetTickleList(byte[] d)
    {
        var list = TickleList.FromBytes(d);
        if (_ips.Find(list.Addr.Address) is not { } v)
            return ControlResult.Value(1);
        if (v.Pnn == OwnPnn)
            return ControlResult.Ok(); // we host it: our list is the truth
        _tickles.Replace(v.Address, list.Connections);
        return ControlResult.Ok();
    }

    /// <summary>A local client went away: its connections leave the lists of addresses still hosted here.</summary>
    private void DropClientConnections(ClientConnection client)
    {
        if (!_clientConnections.Remove(client.Id, out var list))
            return;
        foreach (var c in list)
        {
            if (_ips.Find(c.Dst.Address) is { } v && v.Pnn == OwnPnn)
                _tickles.Remove(v.Address, c);
        }
    }

    /// <summary>The address was released here: local clients' registrations for it are forgotten (the list stays).</summary>
    private void ForgetClientConnections(IPAddress address)
    {
        foreach (var list in _clientConnections.Values)
            list.RemoveAll(c => SameAddress(c.Dst.Address, address));
    }

    // ---- replication ----

    private ITimer? _tickleTimer;

    private void StartTickleUpdates()
    {
        // Re-armed after each pass so a changed TickleUpdateInterval takes effect, as 4.17 does.
        _tickleTimer?.Dispose();
        _tickleTimer = After(TimeSpan.FromSeconds(Math.Max(1u, Tunables.TickleUpdateInterval)), () =>
        {
            if (_shuttingDown)
                return;
            SendHostedTickleLists(onlyMarked: true);
            StartTickleUpdates();
        });
    }

    /// <summary>SET_TCP_TICKLE_LIST (no reply) to every connected peer for addresses hosted here.</summary>
    private void SendHostedTickleLists(bool onlyMarked)
    {
        var peers = ConnectedNodes.Where(n => n.Pnn != OwnPnn).Select(n => n.Pnn).ToList();
        foreach (var v in _ips.Addresses)
        {
            if (v.Pnn != OwnPnn || (onlyMarked && !_tickles.UpdateNeeded(v.Address)))
                continue;
            var payload = new TickleList(new SockAddr(v.Address), _tickles.Get(v.Address)).ToBytes();
            foreach (var p in peers)
                _ = SendControlAsync(p, ControlOpcode.SetTcpTickleList, payload, flags: ControlFlags.NoReply);
            _tickles.ClearUpdateNeeded(v.Address);
        }
    }

    /// <summary>STARTUP from another node (its startup event succeeded): it gets our lists at once.</summary>
    private ControlResult PeerStarted(uint src)
    {
        if (src != OwnPnn)
            SendHostedTickleLists(onlyMarked: false);
        return ControlResult.Ok();
    }

    // ---- tickle ACKs after a takeover ----

    /// <summary>
    /// After a successful takeip: for every tracked connection a TCP ACK (seq 0, ack 0) from the public side to the
    /// client, in 3 rounds 1.1 s apart, so clients notice the move at once. Sent off the loop on a copy of the list.
    /// Deviation: 4.17 rides this on its gratuitous-ARP job, which does nothing on loopback interfaces; we send
    /// the ACKs on any interface.
    /// </summary>
    private void AfterAddressTaken(PublicAddress v, string iface)
    {
        var conns = _tickles.Get(v.Address).ToList();
        if (conns.Count == 0)
            return;
        _log.Notice($"Sending {conns.Count} tickle ACKs for public IP {v.Address} on interface {iface}");
        var log = _log;
        RepeatOffLoop(3, TimeSpan.FromMilliseconds(1100), () =>
        {
            foreach (var c in conns)
                TickleAck.Send(new IPEndPoint(c.Dst.Address, c.Dst.Port), new IPEndPoint(c.Src.Address, c.Src.Port), log: log);
            return true;
        });
    }
}
