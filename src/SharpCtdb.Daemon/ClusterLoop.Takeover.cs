using System.Net;
using SharpCtdb.Events;
using SharpCtdb.Failover;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>
/// Takeover runs on the leader (§6.3/§6.4), using the Failover project's merged list and allocators, and the
/// monitor loop (§2.3/§7.2).
/// </summary>
internal sealed partial class ClusterLoop
{
    private bool _takeoverNeeded;
    private bool _takeoverRunning;
    private DateTimeOffset _takeoverRunsDisabledUntil;
    private readonly List<SrvidMessage> _pendingTakeoverRequests = [];
    private readonly List<uint> _rebalanceTargets = [];

    private void QueueTakeoverRequest(SrvidMessage m)
    {
        if (_leader != OwnPnn)
            return; // only the leader serves them (others would discard their queue anyway)
        _pendingTakeoverRequests.Add(m);
        RequestLeaderCheck();
    }

    private async Task MaybeTakeoverRunAsync()
    {
        if (!_takeoverNeeded && _pendingTakeoverRequests.Count == 0)
            return;
        if (_takeoverRunning)
            return;
        if (_takeoverRunsDisabledUntil > _time.GetUtcNow())
        {
            _log.Info("Unable to begin - takeover runs are disabled");
            return;
        }
        var requests = _pendingTakeoverRequests.ToList();
        _pendingTakeoverRequests.Clear();
        _takeoverRunning = true;
        bool ok;
        try
        {
            _log.Notice("Takeover run starting");
            ok = await TakeoverRunAsync();
            _log.Notice(ok ? "Takeover run completed successfully" : "Takeover run unsuccessful");
        }
        finally
        {
            _takeoverRunning = false;
        }
        _takeoverNeeded = !ok;
        if (ok)
            _rebalanceTargets.Clear();
        var reply = new WireWriter(4).I32(ok ? (int)OwnPnn : -1).ToArray();
        foreach (var r in requests.Where(r => r.Srvid != 0))
            SendMessage(r.Pnn, r.Srvid, reply);
    }

    private async Task<bool> TakeoverRunAsync()
    {
        var t = TimeSpan.FromSeconds(Math.Max(1u, Tunables.TakeoverTimeout));
        var nodeCount = _nodes.Length;
        var connected = ConnectedNodes.Select(n => n.Pnn).ToList();
        if (!_settings.Config.Failover.Disabled)
        {
            var known = await GatherIpsAsync(connected, ControlFlags.None, t);
            if (known is null)
                return false;
            var activeWithIps = connected.Where(p => _nodes[p].Active && known[p].Count > 0).ToList();
            var available = await GatherIpsAsync(activeWithIps, ControlFlags.PublicIpOnlyAvailable, t);
            if (available is null)
                return false;
            var views = new List<NodeIpView>();
            for (uint p = 0; p < nodeCount; p++)
            {
                views.Add(new NodeIpView(p,
                    known.TryGetValue(p, out var k) ? [.. k.Select(i => new ReportedIp(i.Addr.Address, i.Pnn))] : [],
                    available.TryGetValue(p, out var a) ? [.. a.Select(i => i.Addr.Address)] : []));
            }
            var canHost = views.Any(v => v.Known.Any(r => r.Pnn == v.Pnn)) || views.Any(v => v.Available.Count > 0);
            if (known.Values.Any(l => l.Count > 0) && !canHost)
                _log.Notice("No nodes available to host public IPs yet");
            else if (canHost)
            {
                var merged = MergedIpList.Build(views, nodeCount);
                var options = new AllocOptions(IpAllocAlgorithms.FromTunable(Tunables.IPAllocAlgorithm),
                    NoIpTakeover: Tunables.NoIPTakeover != 0, NoIpFailback: Tunables.NoIPFailback != 0)
                { ForceRebalance = [.. _rebalanceTargets] };
                var alloc = IpAllocator.Allocate(merged, nodeCount, options);
                if (!await ApplyAllocationAsync(alloc, connected, t * 3))
                    return false;
            }
        }
        var done = await Task.WhenAll(connected.Select(p => SendControlAsync(p, ControlOpcode.IpReallocated, [], timeout: t * 3)));
        return done.All(r => r.Success);
    }

    private async Task<bool> ApplyAllocationAsync(IpAllocation alloc, List<uint> connected, TimeSpan timeout)
    {
        var releases = new List<Task<ControlResult>>();
        for (var i = 0; i < alloc.Ips.Count; i++)
        {
            var ip = alloc.Ips[i];
            var owner = alloc.PnnOf(i);
            var payload = new PublicIp(owner, new SockAddr(ip.Address)).ToBytes();
            foreach (var p in connected)
            {
                if (p != owner && ip.IsKnownOn(p))
                    releases.Add(SendControlAsync(p, ControlOpcode.ReleaseIp, payload, timeout: timeout));
            }
        }
        if ((await Task.WhenAll(releases)).Any(r => !r.Success))
            return false;
        var takes = new List<Task<ControlResult>>();
        for (var i = 0; i < alloc.Ips.Count; i++)
        {
            var owner = alloc.PnnOf(i);
            if (owner == Pnn.Unknown)
                continue;
            takes.Add(SendControlAsync(owner, ControlOpcode.TakeoverIp,
                new PublicIp(owner, new SockAddr(alloc.Ips[i].Address)).ToBytes(), timeout: timeout));
        }
        var results = await Task.WhenAll(takes);
        foreach (var r in results.Where(r => !r.Success))
            _log.Error($"TAKEOVER_IP failed: {r.Status} {r.Error}");
        return results.All(r => r.Success);
    }

    private async Task<Dictionary<uint, IReadOnlyList<PublicIp>>?> GatherIpsAsync(List<uint> nodes, ControlFlags flags, TimeSpan t)
    {
        var results = await Task.WhenAll(nodes.Select(p => SendControlAsync(p, ControlOpcode.GetPublicIps, [], flags: flags, timeout: t)));
        var d = new Dictionary<uint, IReadOnlyList<PublicIp>>();
        for (var i = 0; i < results.Length; i++)
        {
            if (!results[i].Success)
            {
                _log.Error($"GET_PUBLIC_IPS failed on node {nodes[i]}");
                return null;
            }
            d[nodes[i]] = PublicIpList.FromBytes(results[i].Data).Ips;
        }
        return d;
    }

    // ---------------- monitoring ----------------

    private ITimer? _monitorTimer;
    private MonitorHealthTracker? _health;

    private void StartMonitoring()
    {
        _health = new MonitorHealthTracker(TimeSpan.FromSeconds(Math.Max(1u, Tunables.MonitorInterval)),
            (int)Math.Max(1u, Tunables.MonitorTimeoutCount), initiallyUnhealthy: (Own.Flags & NodeFlags.Unhealthy) != 0);
        _health.Started();
        // The first monitor runs at once (4.17 waits 2 s); the cadence afterwards is 4.17's.
        _loop.Post(() => _ = MonitorTickAsync());
    }

    private async Task MonitorTickAsync()
    {
        _monitorTimer = null;
        if (_shuttingDown || _health is null)
            return;
        TimeSpan delay;
        if (_recMode == RecoveryMode.Normal && Own.Active && _runState == RunState.Running)
        {
            var status = await RunEventAsync("monitor");
            if (_shuttingDown)
                return;
            if (status == EventRefused)
            {
                delay = _health.LaunchFailed();
            }
            else
            {
                var outcome = _health.OnResult(status);
                if (outcome.LogMessage is { } msg)
                    _log.Notice(msg);
                switch (outcome.Transition)
                {
                    case HealthTransition.BecameUnhealthy:
                        ChangeOwnFlags(NodeFlags.Unhealthy, 0); // pushed to every connected node + TAKEOVER_RUN at once
                        break;
                    case HealthTransition.BecameHealthy:
                        ChangeOwnFlags(0, NodeFlags.Unhealthy);
                        break;
                }
                if (outcome.Notification is { } n)
                    _events.Notify(n);
                delay = outcome.NextDelay;
            }
        }
        else
        {
            delay = _health.Skipped();
        }
        if (!_shuttingDown)
            _monitorTimer = After(delay, () => _ = MonitorTickAsync());
    }

    internal static bool SameAddress(IPAddress a, IPAddress b) => Unmapped(a).Equals(Unmapped(b));
}
