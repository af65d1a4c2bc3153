using SharpCtdb.Daemon.Transport;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>
/// Node administration that is not a plain flag change: RELOAD_NODES_FILE (behaviour.md §8.3).
/// </summary>
internal sealed partial class ClusterLoop
{
    /// <summary>
    /// Re-reads the nodes file. An entry whose address and deleted state are unchanged keeps its state (and its
    /// connection); a new, undeleted or re-addressed entry starts DISCONNECTED|UNHEALTHY and is dialled; a deleted
    /// entry becomes DELETED|DISCONNECTED and its connection is closed. The leader's next check sees the new
    /// membership and recovers. Unlike 4.17 (which exits) an unreadable file, a shorter file or a change of this
    /// node's own entry is refused with an error and nothing changes.
    /// </summary>
    private ControlResult ReloadNodesFile()
    {
        var path = _settings.Paths.NodesFile;
        _log.Notice($"Reloading nodes file {path}");
        var res = SharpCtdb.Config.NodesFile.Load(path);
        if (!res.Ok || res.Nodes.Count == 0)
        {
            foreach (var e in res.Errors)
                _log.Error(e.ToString());
            _log.Error("Failed to reload nodes file; keeping the current nodes");
            return ControlResult.Fail("Failed to reload nodes file");
        }
        if (res.Nodes.Count < _nodes.Length)
        {
            _log.Error($"Reloaded nodes file has {res.Nodes.Count} entries, fewer than {_nodes.Length}; nodes can only be deleted with '#'");
            return ControlResult.Fail("nodes file must not shrink");
        }
        var own = res.Nodes[(int)OwnPnn];
        if (own.Deleted || !SameAddress(own.Address, Own.Address))
        {
            _log.Error("Reloaded nodes file changes this node's own entry; refused");
            return ControlResult.Fail("own node changed in nodes file");
        }

        var updated = new NodeInfo[res.Nodes.Count];
        for (var i = 0; i < updated.Length; i++)
        {
            var e = res.Nodes[i];
            var old = i < _nodes.Length ? _nodes[i] : null;
            if (old is not null && old.Deleted == e.Deleted && SameAddress(old.Address, e.Address))
            {
                updated[i] = old;
                continue;
            }
            if (old is null)
                _log.Notice($"Node {e.Pnn} ({e.Address}) added");
            else if (e.Deleted)
                _log.Notice($"Node {e.Pnn} ({old.Address}) deleted");
            else
                _log.Notice($"Node {e.Pnn} ({e.Address}) {(old.Deleted ? "undeleted" : $"changed address from {old.Address}")}");
            updated[i] = new NodeInfo(e.Pnn, e.Address,
                e.Deleted ? NodeFlags.Deleted | NodeFlags.Disconnected : NodeFlags.Unhealthy | NodeFlags.Disconnected);
            FailPendingTo(e.Pnn, "node removed by reloadnodes");
            _culpritCredits.Remove(e.Pnn);
        }
        _nodes = updated;
        _network?.ReloadNodes([.. res.Nodes.Select(n => new TransportNode(n.Pnn, n.Address, n.Deleted))]);
        RequestLeaderCheck();
        return ControlResult.Ok();
    }

    private void FailPendingTo(uint pnn, string why)
    {
        foreach (var (reqid, p) in _pending.Where(kv => kv.Value.Dest == pnn).ToList())
        {
            _pending.Remove(reqid);
            p.Timer?.Dispose();
            p.Tcs.TrySetResult(ControlResult.Fail(why));
        }
    }
}

/// <summary>
/// Takeover-run requests that arrive while leadership changes. The tool (`ctdb stop`, `ban`, `disable`...) broadcasts
/// CTDB_SRVID_TAKEOVER_RUN and waits -t seconds (10) for the leader's answer before asking again. When the command
/// itself makes the leader yield (stop/ban of the leader), nobody is leader at that moment and 4.17 answers only the
/// retry, ~10 s later. Every node therefore keeps recent requests, and a node that becomes leader serves them.
/// </summary>
internal sealed partial class ClusterLoop
{
    private static readonly TimeSpan KeptRequestLifetime = TimeSpan.FromSeconds(10);
    private const int MaxKeptRequests = 64;
    private readonly List<(SrvidMessage Request, DateTimeOffset At)> _keptTakeoverRequests = [];

    private void KeepTakeoverRequestForNextLeader(SrvidMessage request)
    {
        if (request.Srvid == 0 || _leader == OwnPnn)
            return; // no answer wanted, or served right now by this leader
        var now = _time.GetUtcNow();
        _keptTakeoverRequests.RemoveAll(k => now - k.At > KeptRequestLifetime || k.Request == request);
        if (_keptTakeoverRequests.Count >= MaxKeptRequests)
            _keptTakeoverRequests.RemoveAt(0);
        _keptTakeoverRequests.Add((request, now));
    }

    private void ServeKeptTakeoverRequests()
    {
        var now = _time.GetUtcNow();
        var fresh = _keptTakeoverRequests.Where(k => now - k.At <= KeptRequestLifetime).Select(k => k.Request).ToList();
        _keptTakeoverRequests.Clear();
        if (fresh.Count == 0)
            return;
        _log.Info($"Serving {fresh.Count} takeover run request(s) received before this node became leader");
        foreach (var r in fresh)
            QueueTakeoverRequest(r);
    }
}
