using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

internal sealed class PendingControl(uint dest, TaskCompletionSource<ControlResult> tcs)
{
    public uint Dest { get; } = dest;
    public TaskCompletionSource<ControlResult> Tcs { get; } = tcs;
    public ITimer? Timer { get; set; }
}

/// <summary>
/// How packets travel: client socket / transport → (posted) → here → control handler table, message
/// dispatch, or a pending-control completion. Replies go back the way the request came.
/// </summary>
internal sealed partial class ClusterLoop
{
    // ================= inbound from the transport (called on the loop) =================

    public void OnPeerPacket(uint fromPnn, byte[] packet)
    {
        PacketHeader h;
        try
        {
            h = PacketHeader.Read(packet);
            CountNodePacketIn(h.Operation);
            switch (h.Operation)
            {
                case Operation.ReqControl:
                    HandlePeerControl(ReqControl.Decode(packet));
                    break;
                case Operation.ReplyControl:
                    CompletePending(ReplyControl.Decode(packet));
                    break;
                case Operation.ReqMessage:
                    var m = ReqMessage.Decode(packet);
                    DeliverMessageLocally(m.Header.SrcNode, m.Srvid, m.Data);
                    break;
                case Operation.ReqCall or Operation.ReplyCall or Operation.ReqDmaster or Operation.ReplyDmaster or Operation.ReplyError:
                    OnPeerCallPacket(fromPnn, h, packet);
                    break;
                default:
                    _log.Debug($"Ignoring {h.Operation} packet from node {fromPnn}");
                    break;
            }
        }
        catch (ProtocolException e)
        {
            _log.Error($"Dropping malformed packet from node {fromPnn}: {e.Message}");
        }
    }

    private async void HandlePeerControl(ReqControl req)
    {
        if (req.Header.DestNode != OwnPnn && req.Header.DestNode != Pnn.CurrentNode && !Pnn.IsBroadcast(req.Header.DestNode))
        {
            _log.Warning($"Control {ControlNames.Of(req.Opcode)} for node {req.Header.DestNode} arrived here; dropped");
            return;
        }
        var result = await DispatchControlAsync(new ControlRequest(req.Header.SrcNode, req.Opcode, req.Srvid, req.Flags, req.Data, null));
        if ((req.Flags & ControlFlags.NoReply) != 0)
            return;
        var reply = new ReplyControl(
            PacketHeader.Create(Operation.ReplyControl, req.Header.SrcNode, OwnPnn, req.Header.ReqId, Generation),
            result.Status, result.Data, result.Error);
        _network?.Send(req.Header.SrcNode, reply.Encode());
    }

    private void CompletePending(ReplyControl reply)
    {
        if (!_pending.Remove(reply.Header.ReqId, out var p))
            return; // late reply after a timeout
        p.Timer?.Dispose();
        p.Tcs.TrySetResult(new ControlResult(reply.Status, reply.Data, reply.ErrorMessage));
    }

    /// <summary>
    /// Keepalive version check (§3.2): with a peer of another version the more recently started node leaves
    /// (shutdown, exit 0), unless AllowMixedVersions is set. A bare (old-style) keepalive counts as mismatched.
    /// </summary>
    public void OnKeepalive(uint pnn, ReqKeepalive keepalive)
    {
        CountKeepaliveIn();
        if (Tunables.AllowMixedVersions != 0 || _shuttingDown)
            return;
        var ours = _settings.KeepaliveVersion;
        var uptime = (uint)(_time.GetUtcNow() - _startTime).TotalSeconds;
        var mismatch = keepalive.Bare || keepalive.Version != ours;
        if (!mismatch)
            return;
        if (keepalive.Bare || keepalive.Uptime > uptime || (keepalive.Uptime == uptime && keepalive.Version > ours))
        {
            _log.Error($"Node {pnn} runs version 0x{keepalive.Version:x8}, this node 0x{ours:x8}");
            _log.Error("CTDB Cluster with mixed versions, cannot continue");
            Shutdown(0);
        }
    }

    public void OnPeerConnected(uint pnn)
    {
        if (NodeOrNull(pnn) is not { } n || n.Deleted)
            return;
        n.Flags &= ~NodeFlags.Disconnected;
        _lastPeerConnectedAt = _time.GetUtcNow();
        _log.Notice($"Node {pnn} connected");
        // A joining node learns the leader at once instead of waiting for the next 1-s broadcast.
        if (_leader == OwnPnn && !_electionInProgress)
            SendMessage(pnn, Srvid.Leader, LeaderPayload(OwnPnn));
        RequestLeaderCheck();
    }

    public void OnPeerDisconnected(uint pnn, string reason)
    {
        if (NodeOrNull(pnn) is not { } n || n.Deleted)
            return;
        var wasConnected = n.Connected;
        NoteLeasePeerGone(pnn, reason);
        n.Flags |= NodeFlags.Disconnected | NodeFlags.Unhealthy;
        foreach (var (reqid, p) in _pending.Where(kv => kv.Value.Dest == pnn).ToList())
        {
            _pending.Remove(reqid);
            p.Timer?.Dispose();
            p.Tcs.TrySetResult(ControlResult.Fail($"node {pnn} disconnected"));
        }
        if (!wasConnected)
            return;
        _log.Notice($"Node {pnn} disconnected ({reason})");
        if (pnn == _leader)
        {
            // The leader's connection closed: its death is certain, no need to wait for the leader timeout.
            ForceElection($"Leader node {pnn} disconnected");
        }
        else
        {
            RequestLeaderCheck();
        }
    }

    // ================= inbound from local clients (called on the loop) =================

    public void OnClientPacket(ClientConnection client, byte[] packet)
    {
        var h = PacketHeader.Read(packet);
        CountClientPacketIn(h.Operation);
        switch (h.Operation)
        {
            case Operation.ReqControl:
                HandleClientControl(client, ReqControl.Decode(packet));
                break;
            case Operation.ReqMessage:
                var m = ReqMessage.Decode(packet);
                SendMessage(m.Header.DestNode, m.Srvid, m.Data);
                break;
            case Operation.ReqCall:
                OnClientCall(client, packet);
                break;
            case Operation.ReqTunnel:
                _log.Debug($"Client {client.Id} sent REQ_TUNNEL; tunnels are not supported, dropped");
                break;
            default:
                _log.Error($"Client {client.Id} sent operation {(uint)h.Operation}, not allowed from clients; dropped");
                break;
        }
    }

    private async void HandleClientControl(ClientConnection client, ReqControl req)
    {
        var dest = req.Header.DestNode;
        ControlResult result;
        if (dest == OwnPnn || dest == Pnn.CurrentNode)
        {
            result = await DispatchControlAsync(new ControlRequest(OwnPnn, req.Opcode, req.Srvid, req.Flags, req.Data, client));
        }
        else if (dest < _nodes.Length)
        {
            result = await SendControlAsync(dest, req.Opcode, req.Data, req.Srvid, req.Flags & ~ControlFlags.NoReply,
                TimeSpan.FromSeconds(Math.Max(1u, Tunables.ControlTimeout)));
        }
        else
        {
            result = ControlResult.Fail($"Invalid destination node 0x{dest:x}");
        }
        if ((req.Flags & ControlFlags.NoReply) != 0 || client.Closed)
            return;
        var reply = new ReplyControl(
            PacketHeader.Create(Operation.ReplyControl, req.Header.SrcNode, OwnPnn, req.Header.ReqId, Generation),
            result.Status, result.Data, result.Error);
        client.Enqueue(reply.Encode());
    }

    public void OnClientDisconnected(ClientConnection client)
    {
        _log.Debug($"Client {client.Id} (pid {client.Pid}) disconnected");
        OnClientDisconnectedPersistent(client);
        DropClientConnections(client);
    }

    // ================= outbound =================

    /// <summary>Sends a control to a node (locally dispatched for our own pnn) and returns its result; never throws.</summary>
    public Task<ControlResult> SendControlAsync(uint dest, ControlOpcode op, byte[] data, ulong srvid = 0,
        ControlFlags flags = ControlFlags.None, TimeSpan? timeout = null)
    {
        if (dest == OwnPnn)
            return DispatchControlAsync(new ControlRequest(OwnPnn, op, srvid, flags, data, null)).AsTask();
        if (_network is null || _shuttingDown)
            return Task.FromResult(ControlResult.Fail("no transport"));
        var reqid = NextReqId();
        var req = new ReqControl(PacketHeader.Create(Operation.ReqControl, dest, OwnPnn, reqid, Generation), op, srvid, 0, flags, data);
        if (!_network.Send(dest, req.Encode()))
            return Task.FromResult(ControlResult.Fail($"node {dest} is not connected"));
        if ((flags & ControlFlags.NoReply) != 0)
            return Task.FromResult(ControlResult.Ok());
        var tcs = new TaskCompletionSource<ControlResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var p = new PendingControl(dest, tcs);
        _pending[reqid] = p;
        p.Timer = After(timeout ?? TimeSpan.FromSeconds(Math.Max(1u, Tunables.ControlTimeout)), () =>
        {
            if (_pending.Remove(reqid))
            {
                CountControlTimeout();
                tcs.TrySetResult(ControlResult.Fail($"control {ControlNames.Of(op)} to node {dest} timed out", -110));
            }
        });
        return tcs.Task;
    }

    private uint NextReqId()
    {
        do
        {
            _nextReqId++;
        }
        while (_nextReqId == 0 || _pending.ContainsKey(_nextReqId));
        return _nextReqId;
    }

    /// <summary>Sends a message: to one node, or to a broadcast set (our own node and its clients included).</summary>
    public void SendMessage(uint dest, ulong srvid, byte[] data)
    {
        if (dest == OwnPnn || dest == Pnn.CurrentNode)
        {
            DeliverMessageLocally(OwnPnn, srvid, data);
            return;
        }
        if (Pnn.IsBroadcast(dest))
        {
            foreach (var n in _nodes)
            {
                if (n.Deleted || (dest != Pnn.BroadcastAll && !n.Connected))
                    continue;
                if (dest == Pnn.BroadcastActive && !_vnnMap.Map.Contains(n.Pnn))
                    continue;
                if (n.Pnn == OwnPnn)
                    DeliverMessageLocally(OwnPnn, srvid, data);
                else
                    SendMessageToPeer(n.Pnn, srvid, data);
            }
            return;
        }
        if (dest < _nodes.Length)
            SendMessageToPeer(dest, srvid, data);
    }

    private void SendMessageToPeer(uint pnn, ulong srvid, byte[] data)
    {
        var m = new ReqMessage(PacketHeader.Create(Operation.ReqMessage, pnn, OwnPnn, 0, Generation), srvid, data);
        _network?.Send(pnn, m.Encode());
    }

    /// <summary>A message addressed to this node: internal handlers first, then every client registered for it.</summary>
    private void DeliverMessageLocally(uint srcNode, ulong srvid, byte[] data)
    {
        if (TryHandleDbRecoveryMessage(srcNode, srvid, data))
            return;
        HandleInternalMessage(srcNode, srvid, data);
        _clients?.DeliverMessage(srcNode, OwnPnn, srvid, data);
    }
}
