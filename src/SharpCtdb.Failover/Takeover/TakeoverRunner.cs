using System.Globalization;
using System.Net;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover;

/// <summary>
/// One takeover run (behaviour §6.4), as the leader's recovery daemon performs it: gather the nodes' public
/// addresses, allocate, release, take over, then IPREALLOCATED everywhere. Failed controls earn ban credits.
/// Disabling/re-enabling takeover runs on the other nodes, banning the culprit and retrying are the caller's job.
/// </summary>
public static class TakeoverRunner
{
    /// <summary>Runs the whole sequence including step 1 (tunables and node map fetched through <paramref name="source"/>).</summary>
    /// <param name="fetchTimeout">Limit for each of the two step-1 controls (normally the current TakeoverTimeout).</param>
    public static async Task<TakeoverResult> RunAsync(ITakeoverRunSource source, TimeSpan fetchTimeout, IReadOnlyDictionary<uint, RunState>? runStates,
        IReadOnlyCollection<uint> forceRebalance, ITakeoverControls controls, CtdbLog log, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(time);
        var run = new Run(controls, log, time, ct);
        var started = time.GetTimestamp();

        var settings = await run.CallAsync(source.LeaderPnn, fetchTimeout, c => source.GetSettingsAsync(c)).ConfigureAwait(false);
        if (settings.Failure is { } f1)
        {
            run.Notice($"control GET_ALL_TUNABLES failed, ret={f1.Status}");
            return run.Finish(f1.Status);
        }

        var nodeMap = await run.CallAsync(source.LeaderPnn, settings.Value!.TakeoverTimeout, c => source.GetNodeMapAsync(c)).ConfigureAwait(false);
        if (nodeMap.Failure is { } f2)
        {
            run.Notice(f2.TimedOut
                ? string.Create(CultureInfo.InvariantCulture, $"control GET_NODEMAP failed to node {source.LeaderPnn}, ret={f2.Status}")
                : $"control GET_NODEMAP failed, ret={f2.Status}");
            return run.Finish(f2.Status);
        }
        return await run.ExecuteAsync(nodeMap.Value!, runStates, settings.Value!, forceRebalance, started).ConfigureAwait(false);
    }

    /// <summary>Runs steps 2–7 with a node map and settings the caller already has.</summary>
    /// <param name="runStates">Known runstates; a node known not to be RUNNING is treated as able to host nothing. May be null.</param>
    /// <param name="forceRebalance">PNNs from REBALANCE_NODE requests (LCP2 may move addresses onto them).</param>
    public static Task<TakeoverResult> RunAsync(NodeMap nodeMap, IReadOnlyDictionary<uint, RunState>? runStates, TakeoverSettings settings,
        IReadOnlyCollection<uint> forceRebalance, ITakeoverControls controls, CtdbLog log, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(nodeMap);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(time);
        return new Run(controls, log, time, ct).ExecuteAsync(nodeMap, runStates, settings, forceRebalance, time.GetTimestamp());
    }

    private readonly record struct Failure(int Status, bool TimedOut, string Detail);

    private readonly record struct Outcome<T>(T? Value, Failure? Failure);

    /// <summary>State of one run: log lines, credits and the shared cancellation.</summary>
    private sealed class Run(ITakeoverControls controls, CtdbLog log, TimeProvider time, CancellationToken outer)
    {
        private readonly List<string> _messages = [];
        private readonly SortedDictionary<uint, int> _credits = [];
        private readonly List<int> _statuses = [];
        private IReadOnlyDictionary<IPAddress, uint> _assignment = new Dictionary<IPAddress, uint>();

        public async Task<TakeoverResult> ExecuteAsync(NodeMap nodeMap, IReadOnlyDictionary<uint, RunState>? runStates, TakeoverSettings settings,
            IReadOnlyCollection<uint> forceRebalance, long started)
        {
            ArgumentNullException.ThrowIfNull(controls);
            ArgumentNullException.ThrowIfNull(forceRebalance);
            var timeout = settings.TakeoverTimeout;
            var nodeCount = nodeMap.Nodes.Count;
            var connected = nodeMap.Nodes.Where(n => (n.Flags & (NodeFlags.Disconnected | NodeFlags.Deleted)) == 0).Select(n => n.Pnn).ToList();

            // When step 7 is reached directly its deadline counts from the start of the run.
            TimeSpan RemainingOfRun()
            {
                var left = (timeout * 3) - time.GetElapsedTime(started);
                return left > TimeSpan.Zero ? left : TimeSpan.Zero;
            }

            if (settings.FailoverDisabled)
                return await IpReallocatedAsync(connected, RemainingOfRun()).ConfigureAwait(false);

            // Step 3: every connected node's configured addresses ("known").
            var known = new Dictionary<uint, IReadOnlyList<PublicIp>>();
            var knownCalls = connected.Select(p => (Pnn: p, Task: CallAsync(p, timeout, c => controls.GetPublicIpsAsync(p, false, c)))).ToList();
            var knownFailed = false;
            foreach (var (pnn, task) in knownCalls)
            {
                var r = await task.ConfigureAwait(false);
                if (r.Failure is { } f)
                {
                    ControlFailed(pnn, f, f.TimedOut ? $"control GET_PUBLIC_IPS failed to node {pnn}, ret={f.Status}" : $"control GET_PUBLIC_IPS failed on node {pnn}, ret={f.Status}");
                    knownFailed = true;
                }
                else
                {
                    known[pnn] = r.Value!;
                }
            }
            if (knownFailed)
            {
                Notice("Failed to fetch known public IPs");
                return Finish(FirstStatus());
            }

            // Step 4: what each active node with addresses could host now ("available").
            var availableCalls = new List<(uint Pnn, Task<Outcome<IReadOnlyList<PublicIp>>> Task)>();
            foreach (var node in nodeMap.Nodes)
            {
                if ((node.Flags & NodeFlags.Inactive) != 0 || !known.TryGetValue(node.Pnn, out var k) || k.Count == 0)
                    continue;
                if (runStates is not null && runStates.TryGetValue(node.Pnn, out var rs) && rs != RunState.Running)
                    continue;
                var pnn = node.Pnn;
                availableCalls.Add((pnn, CallAsync(pnn, timeout, c => controls.GetPublicIpsAsync(pnn, true, c))));
            }
            var available = new Dictionary<uint, IReadOnlyList<PublicIp>>();
            var availableFailed = false;
            foreach (var (pnn, task) in availableCalls)
            {
                var r = await task.ConfigureAwait(false);
                if (r.Failure is { } f)
                {
                    ControlFailed(pnn, f, f.TimedOut ? $"control GET_PUBLIC_IPS failed to node {pnn}, ret={f.Status}" : $"control GET_PUBLIC_IPS failed on node {pnn}, ret={f.Status}");
                    availableFailed = true;
                }
                else
                {
                    available[pnn] = r.Value!;
                }
            }
            if (availableFailed)
            {
                Notice("Failed to fetch available public IPs");
                return Finish(FirstStatus());
            }

            // Step 5: nothing to do unless some node hosts an address or could host one.
            var anyHosted = known.Any(kv => kv.Value.Any(ip => ip.Pnn == kv.Key));
            var anyAvailable = available.Values.Any(l => l.Count > 0);
            if (!anyHosted && !anyAvailable)
            {
                Notice("No nodes available to host public IPs yet");
                return await IpReallocatedAsync(connected, RemainingOfRun()).ConfigureAwait(false);
            }

            // Step 6: allocate.
            var views = new List<NodeIpView>();
            foreach (var node in nodeMap.Nodes)
            {
                known.TryGetValue(node.Pnn, out var k);
                available.TryGetValue(node.Pnn, out var a);
                views.Add(new NodeIpView(node.Pnn,
                    k is null ? [] : [.. k.Select(ip => new ReportedIp(ip.Addr.Address, ip.Pnn))],
                    a is null ? [] : [.. a.Select(ip => ip.Addr.Address)]));
            }
            var merged = MergedIpList.Build(views, nodeCount);
            var options = new AllocOptions(settings.Algorithm, settings.NoIpTakeover, settings.NoIpFailback) { ForceRebalance = forceRebalance };
            var allocation = IpAllocator.Allocate(merged, nodeCount, options, new LogExplainer(this));
            _assignment = allocation.ToDictionary();

            using var deadline = Deadline(timeout * 3);

            // 6a: release everywhere the address is known but is not going to live.
            var releases = new List<(uint Pnn, IPAddress Address, Task<Outcome<bool>> Task)>();
            for (var i = 0; i < merged.Count; i++)
            {
                var ip = merged[i];
                var owner = allocation.PnnOf(i);
                var request = new PublicIp(owner, new SockAddr(ip.Address));
                foreach (var pnn in connected)
                {
                    if (pnn == owner || !ip.IsKnownOn(pnn))
                        continue;
                    releases.Add((pnn, ip.Address, CallAsync(pnn, deadline.Token, c => Unit(controls.ReleaseIpAsync(pnn, request, c)))));
                }
            }
            // 6b: take over on every owner, redundant ones included (repairs stray state). Each TAKEOVER_IP waits
            // only for the releases of its own address (the one-address-one-node rule), not for releases of
            // unrelated addresses: a node releasing two addresses runs its scripts one after the other, and the
            // first address need not wait for the second one's script. Once any release has failed no further
            // takeover starts (4.17 takes nothing then), and the run fails.
            var takeovers = new List<(uint Pnn, IPAddress Address, Task<Outcome<bool>> Task)>();
            var allReleases = releases.Select(r => r.Task).ToList();
            for (var i = 0; i < merged.Count; i++)
            {
                var owner = allocation.PnnOf(i);
                if (owner == Pnn.Unknown)
                    continue;
                var address = merged[i].Address;
                var request = new PublicIp(owner, new SockAddr(address));
                var before = releases.Where(r => r.Address.Equals(address)).Select(r => r.Task).ToList();
                takeovers.Add((owner, address, TakeAfterAsync(before, allReleases, owner, deadline.Token, c => controls.TakeoverIpAsync(owner, request, c))));
            }
            var releaseFailed = false;
            foreach (var (pnn, address, task) in releases)
            {
                var r = await task.ConfigureAwait(false);
                if (r.Failure is { } f)
                {
                    ControlFailed(pnn, f, $"RELEASE_IP {address} failed on node {pnn}, ret={f.Status}");
                    releaseFailed = true;
                }
            }
            var takeoverFailed = false;
            foreach (var (pnn, address, task) in takeovers)
            {
                var r = await task.ConfigureAwait(false);
                if (r.Failure is { } f)
                {
                    ControlFailed(pnn, f, f.TimedOut
                        ? $"TAKEOVER_IP {address} failed to node {pnn}, ret={f.Status}"
                        : $"TAKEOVER_IP {address} failed on node {pnn}, ret={f.Status}");
                    takeoverFailed = true;
                }
            }
            if (releaseFailed || takeoverFailed)
                return Finish(FirstStatus());

            return await IpReallocatedAsync(connected, deadline).ConfigureAwait(false);
        }

        private async Task<TakeoverResult> IpReallocatedAsync(List<uint> connected, TimeSpan limit)
        {
            using var deadline = Deadline(limit);
            return await IpReallocatedAsync(connected, deadline).ConfigureAwait(false);
        }

        // Step 7.
        private async Task<TakeoverResult> IpReallocatedAsync(List<uint> connected, Deadline deadline)
        {
            var calls = connected.Select(p => (Pnn: p, Task: CallAsync(p, deadline.Token, c => Unit(controls.IpReallocatedAsync(p, c))))).ToList();
            var failed = false;
            foreach (var (pnn, task) in calls)
            {
                var r = await task.ConfigureAwait(false);
                if (r.Failure is { } f)
                {
                    ControlFailed(pnn, f, $"IPREALLOCATED failed on node {pnn}, ret={f.Status}");
                    failed = true;
                }
            }
            return Finish(failed ? FirstStatus() : 0);
        }

        private void ControlFailed(uint pnn, Failure f, string message)
        {
            Notice(message);
            if (f.Detail.Length > 0)
                log.Info($"  ({f.Detail})");
            _statuses.Add(f.Status);
            _credits[pnn] = _credits.GetValueOrDefault(pnn) + 1;
        }

        private int FirstStatus() => _statuses.Count > 0 ? _statuses[0] : -1;

        public TakeoverResult Finish(int status)
        {
            uint? culprit = null;
            foreach (var (pnn, credits) in _credits)
            {
                // SortedDictionary walks PNNs ascending, so strict ">" leaves ties on the lowest PNN.
                if (culprit is null || credits > _credits[culprit.Value])
                    culprit = pnn;
            }
            if (culprit is { } c)
                Notice(string.Create(CultureInfo.InvariantCulture, $"Assigning banning credits to node {c}"));
            if (status != 0)
                Notice(string.Create(CultureInfo.InvariantCulture, $"takeover run failed, ret={status}"));
            return new TakeoverResult(status, new Dictionary<uint, int>(_credits), culprit, [.. _messages], _assignment);
        }

        public void Notice(string message) => Write(DebugLevel.Notice, message);

        public void Write(DebugLevel level, string message)
        {
            // Messages keeps what the helper would print at NOTICE, independent of the log's own level.
            if (level <= DebugLevel.Notice)
            {
                lock (_messages)
                    _messages.Add(message);
            }
            log.Write(level, message);
        }

        private Deadline Deadline(TimeSpan limit) => new(limit, time, outer);

        public Task<Outcome<T>> CallAsync<T>(uint pnn, TimeSpan limit, Func<CancellationToken, Task<T>> call) =>
            CallWithOwnDeadlineAsync(pnn, limit, call);

        private async Task<Outcome<T>> CallWithOwnDeadlineAsync<T>(uint pnn, TimeSpan limit, Func<CancellationToken, Task<T>> call)
        {
            using var deadline = Deadline(limit);
            return await CallAsync(pnn, deadline.Token, call).ConfigureAwait(false);
        }

        /// <summary>Runs one control under a deadline and turns its failure into a status (110 for a timeout).</summary>
        public async Task<Outcome<T>> CallAsync<T>(uint pnn, CancellationToken deadline, Func<CancellationToken, Task<T>> call)
        {
            try
            {
                // WaitAsync: a control that ignores its token still cannot hold the run past the deadline.
                var value = await call(deadline).WaitAsync(deadline).ConfigureAwait(false);
                return new Outcome<T>(value, null);
            }
            catch (TakeoverControlException e)
            {
                return new Outcome<T>(default, new Failure(e.Status == 0 ? -1 : e.Status, false, e.Message));
            }
            catch (Exception e) when (!outer.IsCancellationRequested && (deadline.IsCancellationRequested || e is TimeoutException))
            {
                return new Outcome<T>(default, new Failure(TakeoverResult.TimedOut, true, string.Empty));
            }
            catch (Exception e) when (!outer.IsCancellationRequested && e is not OperationCanceledException)
            {
                // Transport trouble (connection lost, garbage reply) counts as a failed control for that node.
                return new Outcome<T>(default, new Failure(-1, false, $"node {pnn}: {e.Message}"));
            }
        }

        private static async Task<bool> Unit(Task task)
        {
            await task.ConfigureAwait(false);
            return true;
        }

        /// <summary>
        /// TAKEOVER_IP once every release of the same address has succeeded; skipped (no failure of this node) when one
        /// of them failed, since the address may still be up elsewhere, or when any release of the run has failed so far.
        /// </summary>
        private async Task<Outcome<bool>> TakeAfterAsync(List<Task<Outcome<bool>>> own, List<Task<Outcome<bool>>> all, uint pnn,
            CancellationToken deadline, Func<CancellationToken, Task> take)
        {
            foreach (var r in own)
                await r.ConfigureAwait(false);
            if (all.Any(r => r.IsCompletedSuccessfully && r.Result.Failure is not null))
                return new Outcome<bool>(false, null);
            return await CallAsync(pnn, deadline, c => Unit(take(c))).ConfigureAwait(false);
        }
    }

    /// <summary>A timer on the run's clock linked with the caller's cancellation.</summary>
    private sealed class Deadline : IDisposable
    {
        private readonly CancellationTokenSource _timer;
        private readonly CancellationTokenSource _linked;

        public Deadline(TimeSpan limit, TimeProvider time, CancellationToken outer)
        {
            _timer = new CancellationTokenSource(limit, time);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(outer, _timer.Token);
        }

        public CancellationToken Token => _linked.Token;

        public void Dispose()
        {
            _linked.Dispose();
            _timer.Dispose();
        }
    }

    /// <summary>Logs allocation steps the way the helper does: NOTICE for decisions, INFO/DEBUG for detail.</summary>
    private sealed class LogExplainer(Run run) : IAllocExplainer
    {
        public void OnEvent(in AllocEvent e)
        {
            var level = e.Kind switch
            {
                AllocEventKind.Info => e.Message.StartsWith("WARNING", StringComparison.Ordinal) ? DebugLevel.Warning : DebugLevel.Notice,
                AllocEventKind.NotCovered => DebugLevel.Warning,
                AllocEventKind.Assigned or AllocEventKind.Rebalanced => DebugLevel.Info,
                _ => DebugLevel.Debug,
            };
            if (e.Kind == AllocEventKind.DeterministicSlot)
                return;
            run.Write(level, e.Message);
        }
    }
}
