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
        if (LeaseDefersTakeover())
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
        _takeoverNeeded = !ok; // a failed run is retried by the next leader check (every RecoverInterval)
        if (ok)
            _rebalanceTargets.Clear();
        var reply = new WireWriter(4).I32(ok ? (int)OwnPnn : -1).ToArray();
        foreach (var r in requests.Where(r => r.Srvid != 0))
            SendMessage(r.Pnn, r.Srvid, reply);
    }

    /// <summary>One run of the Failover project's <see cref="TakeoverRunner"/> with our node map and tunables.</summary>
    private async Task<bool> TakeoverRunAsync()
    {
        var settings = new TakeoverSettings(IpAllocAlgorithms.FromTunable(Tunables.IPAllocAlgorithm),
            NoIpTakeover: Tunables.NoIPTakeover != 0, NoIpFailback: Tunables.NoIPFailback != 0,
            TakeoverTimeout: TimeSpan.FromSeconds(Math.Max(1u, Tunables.TakeoverTimeout)),
            FailoverDisabled: _settings.Config.Failover.Disabled);
        TakeoverResult result;
        try
        {
            result = await TakeoverRunner.RunAsync(BuildNodeMap(), null, settings, [.. _rebalanceTargets],
                new LoopTakeoverControls(this, settings.TakeoverTimeout * 3), _log, _time, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        if (!result.Succeeded && Tunables.EnableBans != 0 && result.Culprit is { } culprit)
            AddCulpritCredits(culprit, (uint)_nodes.Length); // the runner has logged "Assigning banning credits"
        return result.Succeeded;
    }

    /// <summary>
    /// The takeover runner's controls, sent through the loop's control machinery. The runner continues on pool
    /// threads (ConfigureAwait(false)), so every call is marshalled into the loop first.
    /// </summary>
    private sealed class LoopTakeoverControls(ClusterLoop loop, TimeSpan limit) : ITakeoverControls
    {
        private async Task<ControlResult> CallAsync(uint pnn, ControlOpcode op, byte[] data, ControlFlags flags, CancellationToken ct)
        {
            var result = await loop._loop.InvokeAsync(() => loop.SendControlAsync(pnn, op, data, flags: flags, timeout: limit))
                .Unwrap().WaitAsync(ct).ConfigureAwait(false);
            if (result.Status == -110)
                throw new TimeoutException(result.Error);
            if (!result.Success)
                throw new TakeoverControlException(pnn, result.Status, result.Error);
            return result;
        }

        public async Task<IReadOnlyList<PublicIp>> GetPublicIpsAsync(uint pnn, bool onlyAvailable, CancellationToken ct)
        {
            var r = await CallAsync(pnn, ControlOpcode.GetPublicIps, [],
                onlyAvailable ? ControlFlags.PublicIpOnlyAvailable : ControlFlags.None, ct).ConfigureAwait(false);
            return PublicIpList.FromBytes(r.Data).Ips;
        }

        public Task ReleaseIpAsync(uint pnn, PublicIp ip, CancellationToken ct) =>
            CallAsync(pnn, ControlOpcode.ReleaseIp, ip.ToBytes(), ControlFlags.None, ct);

        public Task TakeoverIpAsync(uint pnn, PublicIp ip, CancellationToken ct) =>
            CallAsync(pnn, ControlOpcode.TakeoverIp, ip.ToBytes(), ControlFlags.None, ct);

        public Task IpReallocatedAsync(uint pnn, CancellationToken ct) =>
            CallAsync(pnn, ControlOpcode.IpReallocated, [], ControlFlags.None, ct);
    }

    // ---------------- ban credits (§6.4 "Failure handling", §8.2) ----------------

    private readonly Dictionary<uint, (uint Credits, DateTimeOffset Last)> _culpritCredits = [];

    /// <summary>Blames <paramref name="pnn"/> (leader only, and only while this node is active).</summary>
    private void AddCulpritCredits(uint pnn, uint credits)
    {
        if (_leader != OwnPnn || !Own.Active || NodeOrNull(pnn) is null)
            return;
        var now = _time.GetUtcNow();
        var grace = TimeSpan.FromSeconds(Tunables.RecoveryGracePeriod);
        var current = _culpritCredits.TryGetValue(pnn, out var c) && now - c.Last <= grace ? c.Credits : 0;
        _culpritCredits[pnn] = (current + credits, now);
    }

    /// <summary>
    /// Bans every node whose credits reached 2 × nodemap size for RecoveryBanPeriod and forgets its credits.
    /// Returns true if this node banned itself (the leader check then stops).
    /// </summary>
    private bool BanMisbehavingNodes()
    {
        var threshold = 2u * (uint)_nodes.Length;
        var bannedSelf = false;
        foreach (var (pnn, (credits, _)) in _culpritCredits.ToList())
        {
            if (credits < threshold)
                continue;
            _culpritCredits.Remove(pnn);
            if (Tunables.EnableBans == 0)
                continue;
            var period = Tunables.RecoveryBanPeriod;
            _log.Notice($"Node {pnn} reached {credits} banning credits - banning it for {period} seconds");
            var payload = new BanState(pnn, period).ToBytes();
            if (pnn == OwnPnn)
                bannedSelf = true;
            _ = SendControlAsync(pnn, ControlOpcode.SetBanState, payload, timeout: RecoverTimeout);
        }
        return bannedSelf;
    }

    private void ResetCulpritCredits() => _culpritCredits.Clear();

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
