using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>Messages the daemon itself consumes (the recovery-daemon srvids of §5.5 and §8).</summary>
internal sealed partial class ClusterLoop
{
    private void HandleInternalMessage(uint src, ulong srvid, byte[] data)
    {
        try
        {
            switch (srvid)
            {
                case LeaseRequestSrvid:
                    OnLeaseRequest(src, data);
                    break;
                case LeaseGrantSrvid:
                    OnLeaseGrant(src, data);
                    break;
                case Srvid.Leader:
                    ReceiveLeaderBroadcast(src, data);
                    break;
                case Srvid.Election:
                    ReceiveElection(src, data);
                    break;
                case Srvid.TakeoverRun:
                    var request = SrvidMessage.FromBytes(data);
                    KeepTakeoverRequestForNextLeader(request);
                    QueueTakeoverRequest(request);
                    break;
                case Srvid.RebalanceNode:
                    if (data.Length == 4 && _leader == OwnPnn)
                        _rebalanceTargets.Add(new WireReader(data).U32());
                    break;
                case Srvid.DisableTakeoverRuns:
                    HandleDisable(DisableMessage.FromBytes(data), ref _takeoverRunsDisabledUntil, "takeover runs", _takeoverRunning);
                    break;
                case Srvid.DisableRecoveries:
                    HandleDisable(DisableMessage.FromBytes(data), ref _recoveriesDisabledUntil, "recoveries", _recoveryRunning);
                    break;
                case Srvid.DisableIpCheck:
                    if (data.Length >= 4)
                    {
                        var seconds = new WireReader(data).U32();
                        _takeoverRunsDisabledUntil = _time.GetUtcNow() + TimeSpan.FromSeconds(seconds);
                        _log.Notice($"Disabling takeover runs for {seconds} seconds");
                    }
                    break;
                case Srvid.Banning:
                    if (data.Length == 4)
                        AddCulpritCredits(new WireReader(data).U32(), (uint)_nodes.Length);
                    break;
                case Srvid.ReloadNodes:
                    _log.Debug("Reload of the nodes file requested; RELOAD_NODES_FILE has already done it");
                    break;
            }
        }
        catch (ProtocolException e)
        {
            _log.Error($"Bad message on srvid 0x{srvid:x16} from node {src}: {e.Message}");
        }
    }

    private void HandleDisable(DisableMessage m, ref DateTimeOffset until, string what, bool running)
    {
        int reply;
        if (m.Timeout == 0)
        {
            until = default;
            _log.Notice($"Reenabling {what}");
            reply = (int)OwnPnn;
            if (what == "takeover runs" && _pendingTakeoverRequests.Count > 0)
                RequestLeaderCheck();
        }
        else if (running)
        {
            reply = -11; // EAGAIN
        }
        else
        {
            until = _time.GetUtcNow() + TimeSpan.FromSeconds(m.Timeout);
            _log.Notice($"Disabling {what} for {m.Timeout} seconds");
            reply = (int)OwnPnn;
        }
        if (m.Srvid != 0)
            SendMessage(m.Pnn, m.Srvid, new WireWriter(4).I32(reply).ToArray());
    }
}
