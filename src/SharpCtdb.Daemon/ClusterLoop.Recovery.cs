using System.Security.Cryptography;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>
/// The leader's periodic membership check and the (database-less, for now) recovery of §5.1/§5.2, plus the
/// per-node START_RECOVERY / END_RECOVERY handlers and the wait-until-recovered → startup step.
/// Deviation: no RerecoveryTimeout suppression. 4.17 suppresses new recoveries for 10 s after one; that only
/// delays failover after a node dies. Recoveries here are cheap and idempotent, so a needed one runs at once.
/// </summary>
internal sealed partial class ClusterLoop
{
    private bool _leaderCheckRunning;
    private bool _leaderCheckAgain;
    private bool _recoveryRunning;
    private bool _needRecovery;
    private DateTimeOffset _recoveriesDisabledUntil;

    private TimeSpan RecoverTimeout => TimeSpan.FromSeconds(Math.Clamp(Tunables.RecoverTimeout, 1u, 10u));

    /// <summary>Run the leader's check now (coalesced: at most one runs, one more queued).</summary>
    private void RequestLeaderCheck()
    {
        if (_leader != OwnPnn || _shuttingDown)
            return;
        if (_leaderCheckRunning)
        {
            _leaderCheckAgain = true;
            return;
        }
        _ = LeaderCheckAsync();
    }

    private async Task LeaderCheckAsync()
    {
        _leaderCheckRunning = true;
        try
        {
            do
            {
                _leaderCheckAgain = false;
                if (_leader != OwnPnn || _electionInProgress || !Own.Active || _shuttingDown)
                    return;
                if (HaveClusterLock && _lock is null)
                    return;
                await LeaderCheckOnceAsync();
            }
            while (_leaderCheckAgain);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.Error($"Leader check failed: {e}");
        }
        finally
        {
            _leaderCheckRunning = false;
        }
    }

    private async Task LeaderCheckOnceAsync()
    {
        // 1. Every connected node's own view (§5.1 step 12).
        var connected = ConnectedNodes.Select(n => n.Pnn).ToList();
        var maps = await GatherAsync(connected, ControlOpcode.GetNodeMap, static d => NodeMap.FromBytes(d));
        if (maps is null || _leader != OwnPnn)
            return;
        if (BanMisbehavingNodes())
            return;

        // 2. Flag reconciliation: each node's report of its own flags wins (§3.3 path 2).
        foreach (var pnn in connected)
        {
            if (!maps.TryGetValue(pnn, out var own) || pnn >= own.Nodes.Count)
                continue;
            var truth = own.Nodes[(int)pnn].Flags & ~NodeFlags.Disconnected;
            var differs = false;
            foreach (var (viewer, map) in maps)
            {
                if (pnn < map.Nodes.Count && (map.Nodes[(int)pnn].Flags & ~NodeFlags.Disconnected) != truth)
                    differs = true;
            }
            if (!differs)
                continue;
            var old = _nodes[pnn].Flags & ~NodeFlags.Disconnected;
            var change = new NodeFlagChange(pnn, truth, old).ToBytes();
            foreach (var target in connected)
                _ = SendControlAsync(target, ControlOpcode.ModifyFlags, change, timeout: RecoverTimeout);
        }

        // 3. Active nodes: connected in our map and not inactive by their own report.
        var active = connected.Where(p => maps.TryGetValue(p, out var m) && p < m.Nodes.Count
            && (m.Nodes[(int)p].Flags & NodeFlags.Inactive & ~NodeFlags.Disconnected) == 0).ToList();
        if (!active.Contains(OwnPnn))
            return;

        if (_recoveriesDisabledUntil > _time.GetUtcNow())
        {
            await MaybeTakeoverRunAsync();
            return;
        }

        var reason = _needRecovery ? "previous recovery failed" : null;
        if (reason is null)
        {
            var recmodes = await GatherStatusAsync(active, ControlOpcode.GetRecMode);
            if (recmodes is null)
                return;
            if (recmodes.Any(kv => kv.Value != (int)RecoveryMode.Normal))
                reason = $"node {recmodes.First(kv => kv.Value != 0).Key} is in recovery mode";
        }
        var caps = await GatherAsync(active, ControlOpcode.GetCapabilities, static d => new WireReader(d).U32());
        if (caps is null)
            return;
        var lmasters = active.Where(p => (caps[p] & (uint)Capabilities.Lmaster) != 0).OrderBy(p => p).ToList();
        if (reason is null)
        {
            if (_vnnMap.Generation == Wire.InvalidGeneration)
                reason = "vnnmap generation is invalid";
            else if (!_vnnMap.Map.OrderBy(p => p).SequenceEqual(lmasters.Count > 0 ? lmasters : [OwnPnn]))
                reason = "vnnmap does not match the active nodes";
        }
        if (reason is null)
        {
            var vnnmaps = await GatherAsync(active, ControlOpcode.GetVnnMap, static d => VnnMap.FromBytes(d));
            if (vnnmaps is null)
                return;
            foreach (var (pnn, vm) in vnnmaps)
            {
                if (vm.Generation != _vnnMap.Generation || !vm.Map.SequenceEqual(_vnnMap.Map))
                {
                    reason = $"node {pnn} has a different vnnmap";
                    break;
                }
            }
        }
        if (reason is not null)
        {
            await RecoverAsync(reason, active, lmasters);
            return;
        }
        await MaybeTakeoverRunAsync();
    }

    /// <summary>§5.2/§5.3 without databases.</summary>
    private async Task RecoverAsync(string reason, List<uint> active, List<uint> lmasters)
    {
        _log.Notice($"Starting recovery: {reason}");
        _needRecovery = true;
        _recoveryRunning = true;
        var t0 = _time.GetTimestamp();
        try
        {
            uint generation;
            do
            {
                generation = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4));
            }
            while (generation is 0 or Wire.InvalidGeneration || generation == _vnnMap.Generation);
            var map = new VnnMap(generation, lmasters.Count > 0 ? [.. lmasters] : [OwnPnn]);

            // SET_RECMODE(ACTIVE), START_RECOVERY and SETVNNMAP go out back to back: a node handles them in order, the
            // first completes at once and makes the third legal, and START_RECOVERY's event runs meanwhile (both
            // daemons serve further controls while an event runs). One round trip plus the event instead of three.
            var started = new[]
            {
                AllOkAsync(active, ControlOpcode.SetRecMode, U32((uint)RecoveryMode.Active)),
                AllOkAsync(active, ControlOpcode.StartRecovery, []),
                AllOkAsync(active, ControlOpcode.SetVnnMap, map.ToBytes()),
            };
            if ((await Task.WhenAll(started)).Any(ok => !ok))
                return;
            var tStarted = _time.GetTimestamp();
            if (!await RecoverDatabasesAsync(active, generation))
                return;
            var tDbs = _time.GetTimestamp();
            if (!await AllOkAsync(active, ControlOpcode.SetRecMode, U32((uint)RecoveryMode.Normal)))
                return;
            if (!await AllOkAsync(active, ControlOpcode.EndRecovery, []))
                return;
            _needRecovery = false;
            ResetCulpritCredits();
            _log.Notice($"Recovery complete, generation {generation}, {_time.GetElapsedTime(t0).TotalMilliseconds:F0} ms "
                + $"(started {_time.GetElapsedTime(t0, tStarted).TotalMilliseconds:F0}, databases {_time.GetElapsedTime(tStarted, tDbs).TotalMilliseconds:F0}, "
                + $"ended {_time.GetElapsedTime(tDbs).TotalMilliseconds:F0})");
        }
        finally
        {
            _recoveryRunning = false;
        }
        _takeoverNeeded = true;
        await MaybeTakeoverRunAsync();
        SendMessage(Pnn.BroadcastConnected, Srvid.Reconfigure, []);
    }

    private async Task<bool> AllOkAsync(List<uint> nodes, ControlOpcode op, byte[] data)
    {
        var tasks = nodes.Select(p => SendControlAsync(p, op, data, timeout: RecoverTimeout)).ToArray();
        var results = await Task.WhenAll(tasks);
        for (var i = 0; i < results.Length; i++)
        {
            if (!results[i].Success)
            {
                _log.Error($"Recovery: {ControlNames.Of(op)} failed on node {nodes[i]} ({results[i].Status} {results[i].Error})");
                return false;
            }
        }
        return true;
    }

    private Task<Dictionary<uint, T>?> GatherAsync<T>(List<uint> nodes, ControlOpcode op, Func<byte[], T> parse) =>
        GatherDataAsync(nodes, op, [], parse);

    private async Task<Dictionary<uint, int>?> GatherStatusAsync(List<uint> nodes, ControlOpcode op)
    {
        var tasks = nodes.Select(p => SendControlAsync(p, op, [], timeout: RecoverTimeout)).ToArray();
        var results = await Task.WhenAll(tasks);
        var d = new Dictionary<uint, int>();
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].Status < 0)
                return null;
            d[nodes[i]] = results[i].Status;
        }
        return d;
    }

    // ---- per-node recovery controls ----

    private async ValueTask<ControlResult> StartRecoveryAsync()
    {
        _lastRecoveryStarted = _time.GetUtcNow();
        _recoveriesStarted++;
        _log.Notice("Recovery has started");
        var status = await RunEventAsync("startrecovery");
        return status == 0 ? ControlResult.Ok() : ControlResult.Fail("startrecovery event failed");
    }

    private async ValueTask<ControlResult> EndRecoveryAsync()
    {
        EndPendingCommitsAfterRecovery();
        await RunEventAsync("recovered");
        CountRecovery();
        _lastRecoveryFinished = _time.GetUtcNow();
        _log.Notice("Recovery has finished");
        if (_runState == RunState.FirstRecovery)
        {
            SetRunState(RunState.Startup);
            _loop.Post(WaitUntilRecoveredTick);
        }
        return ControlResult.Ok();
    }

    // ---- wait until recovered → startup → RUNNING (§2.2 steps 18–19) ----

    private bool _startupRunning;

    private async void WaitUntilRecoveredTick()
    {
        if (_runState != RunState.Startup || _startupRunning || _shuttingDown)
            return;
        if (_vnnMap.Generation == Wire.InvalidGeneration || _recMode != RecoveryMode.Normal)
            return;
        _startupRunning = true;
        try
        {
            while (!_shuttingDown)
            {
                if (await RunEventAsync("startup") == 0)
                    break;
                await Delay(TimeSpan.FromSeconds(5));
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        finally
        {
            _startupRunning = false;
        }
        if (_shuttingDown)
            return;
        SetRunState(RunState.Running);
        _events.Notify("startup");
        foreach (var n in ConnectedNodes.Where(n => n.Pnn != OwnPnn).ToList())
            _ = SendControlAsync(n.Pnn, ControlOpcode.Startup, [], flags: ControlFlags.NoReply);
        StartMonitoring();
    }
}
