using System.Net;
using System.Text.Json;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover.Tests;

public class TakeoverRunnerTests
{
    private static readonly TakeoverSettings Settings = TakeoverSettings.Default with { TakeoverTimeout = TimeSpan.FromSeconds(2) };

    private static FakeCluster Cluster(string nodeFlags, params (string Addr, int Pnn)[] ips)
    {
        var flags = nodeFlags.Split(',').Select(f => Convert.ToUInt32(f, 16)).ToArray();
        var json = JsonSerializerFree(flags, ips);
        using var doc = JsonDocument.Parse(json);
        return new FakeCluster(doc.RootElement.Clone(), Settings);
    }

    // Builds the structured "state" by hand so the test needs no reflection-based serializer.
    private static string JsonSerializerFree(uint[] flags, (string Addr, int Pnn)[] ips)
    {
        var nodes = string.Join(",", flags.Select((f, i) => $"{{\"pnn\":{i},\"addr\":\"192.168.20.{41 + i}\",\"flags\":{f}}}"));
        var pubs = string.Join(",", ips.Select(ip => $"{{\"addr\":\"{ip.Addr}\",\"pnn\":{ip.Pnn}}}"));
        return $"{{\"current_pnn\":0,\"recmaster_pnn\":0,\"nodemap\":[{nodes}],\"public_ips\":[{pubs}]}}";
    }

    private static Task<TakeoverResult> Run(FakeCluster cluster, ITakeoverControls? controls = null, IReadOnlyDictionary<uint, RunState>? runStates = null,
        TimeProvider? time = null, CancellationToken ct = default) =>
        TakeoverRunner.RunAsync(cluster.NodeMap, runStates, Settings, [], controls ?? cluster, CtdbLog.Null, time ?? new ManualTimeProvider(),
            ct == default ? TestContext.Current.CancellationToken : ct);

    [Fact]
    public async Task HealthyRunSpreadsAndReleasesEverywhereElse()
    {
        var cluster = Cluster("0,0,0", ("10.0.0.31", -1), ("10.0.0.32", -1), ("10.0.0.33", -1));
        var recorder = new Hooked(cluster);
        var result = await Run(cluster, recorder);

        Assert.Equal(0, result.Status);
        Assert.Null(result.Culprit);
        Assert.Empty(result.BanCredits);
        Assert.Equal(0u, result.Assignment[IPAddress.Parse("10.0.0.33")]);
        Assert.Equal(1u, result.Assignment[IPAddress.Parse("10.0.0.32")]);
        Assert.Equal(2u, result.Assignment[IPAddress.Parse("10.0.0.31")]);
        // Every node that knows an address and doesn't get it is told the new owner.
        Assert.Contains("RELEASE 1 10.0.0.33 -> 0", recorder.Log);
        Assert.Contains("RELEASE 2 10.0.0.33 -> 0", recorder.Log);
        Assert.DoesNotContain("RELEASE 0 10.0.0.33 -> 0", recorder.Log);
        Assert.Contains("TAKEOVER 0 10.0.0.33", recorder.Log);
        Assert.Equal(3, recorder.Log.Count(l => l.StartsWith("IPREALLOCATED", StringComparison.Ordinal)));
        // Each address is released everywhere before it is taken, and ipreallocated comes last.
        foreach (var a in new[] { "10.0.0.31", "10.0.0.32", "10.0.0.33" })
        {
            Assert.True(recorder.Log.FindLastIndex(l => l.StartsWith("RELEASE", StringComparison.Ordinal) && l.Contains($" {a} ", StringComparison.Ordinal))
                < recorder.Log.FindIndex(l => l == $"TAKEOVER {result.Assignment[IPAddress.Parse(a)]} {a}"));
        }
        Assert.True(recorder.Log.FindLastIndex(l => l.StartsWith("TAKEOVER", StringComparison.Ordinal)) < recorder.Log.FindIndex(l => l.StartsWith("IPREALLOCATED", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task TakeoverWaitsOnlyForItsOwnAddressRelease()
    {
        // Node 1 hosts both addresses and is disabled: .31's release hangs until .32 has been taken over.
        var cluster = Cluster("0,4,0", ("10.0.0.31", 1), ("10.0.0.32", 1));
        var slowRelease = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = new Hooked(cluster)
        {
            OnRelease = (_, ip, _) => ip.Addr.Address.Equals(IPAddress.Parse("10.0.0.31")) ? slowRelease.Task : null,
            OnTakeover = (_, ip, _) =>
            {
                if (ip.Addr.Address.Equals(IPAddress.Parse("10.0.0.32")))
                    slowRelease.TrySetResult();
                return null;
            },
        };
        var result = await Run(cluster, recorder);

        Assert.Equal(0, result.Status);
        var log = recorder.Log;
        var take31 = log.FindIndex(l => l.StartsWith("TAKEOVER", StringComparison.Ordinal) && l.EndsWith(" 10.0.0.31", StringComparison.Ordinal));
        var take32 = log.FindIndex(l => l.StartsWith("TAKEOVER", StringComparison.Ordinal) && l.EndsWith(" 10.0.0.32", StringComparison.Ordinal));
        Assert.True(take32 >= 0 && take31 > take32, string.Join(" | ", log));
        Assert.True(slowRelease.Task.IsCompleted);
    }

    [Fact]
    public async Task LateFailedReleaseKeepsItsAddressButNotOthers()
    {
        // .31's release on node 1 fails only after .32 has been taken over: .32 stays taken, .31 is not taken.
        var cluster = Cluster("0,4,0", ("10.0.0.31", 1), ("10.0.0.32", 1));
        var taken32 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var controls = new Hooked(cluster)
        {
            OnRelease = (pnn, ip, _) => pnn == 1 && ip.Addr.Address.Equals(IPAddress.Parse("10.0.0.31"))
                ? taken32.Task.ContinueWith(_ => throw new TakeoverControlException(pnn, -1, "no"), TaskScheduler.Default) : null,
            OnTakeover = (_, ip, _) =>
            {
                if (ip.Addr.Address.Equals(IPAddress.Parse("10.0.0.32")))
                    taken32.TrySetResult();
                return null;
            },
        };
        var result = await Run(cluster, controls);
        Assert.Equal(-1, result.Status);
        Assert.Equal(1u, result.Culprit);
        Assert.DoesNotContain(controls.Log, l => l.StartsWith("TAKEOVER", StringComparison.Ordinal) && l.EndsWith(" 10.0.0.31", StringComparison.Ordinal));
        Assert.Contains(controls.Log, l => l.StartsWith("TAKEOVER", StringComparison.Ordinal) && l.EndsWith(" 10.0.0.32", StringComparison.Ordinal));
        Assert.DoesNotContain(controls.Log, l => l.StartsWith("IPREALLOCATED", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NodesNotRunningGetNothing()
    {
        var cluster = Cluster("0,0,0", ("10.0.0.31", -1), ("10.0.0.32", -1), ("10.0.0.33", -1));
        var result = await Run(cluster, runStates: new Dictionary<uint, RunState> { [1] = RunState.Startup });
        Assert.Equal(0, result.Status);
        Assert.DoesNotContain(1u, result.Assignment.Values);
        Assert.DoesNotContain("GET_PUBLIC_IPS 1", cluster.Calls.Skip(3)); // only the "known" round asks node 1
    }

    [Fact]
    public async Task DisconnectedAndDeletedNodesAreNotContacted()
    {
        var cluster = Cluster("0,1,11", ("10.0.0.31", 1), ("10.0.0.32", -1));
        var result = await Run(cluster);
        Assert.Equal(0, result.Status);
        Assert.All(cluster.Calls, c => Assert.EndsWith(" 0", c, StringComparison.Ordinal));
        Assert.All(result.Assignment.Values, p => Assert.Equal(0u, p));
    }

    [Fact]
    public async Task ControlIgnoringItsTokenStillTimesOut()
    {
        var cluster = Cluster("0,0,0", ("10.0.0.31", -1), ("10.0.0.32", -1), ("10.0.0.33", -1));
        var never = new TaskCompletionSource();
        var controls = new Hooked(cluster) { OnTakeover = (pnn, _, _) => pnn == 1 ? never.Task : null };
        var time = new ManualTimeProvider();
        var run = Run(cluster, controls, time: time);
        Assert.False(run.IsCompleted);
        Assert.Equal(TimeSpan.FromSeconds(6), time.NextDue() - time.GetUtcNow());
        time.Advance(TimeSpan.FromSeconds(6));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(TakeoverResult.TimedOut, result.Status);
        Assert.Equal(1u, result.Culprit);
        Assert.Contains("TAKEOVER_IP 10.0.0.32 failed to node 1, ret=110", result.Messages);
    }

    [Fact]
    public async Task TransportErrorCountsAsFailedControl()
    {
        var cluster = Cluster("0,0,0");
        var controls = new Hooked(cluster) { OnIpReallocated = pnn => pnn == 2 ? Task.FromException(new IOException("connection reset")) : null };
        var result = await Run(cluster, controls);
        Assert.Equal(-1, result.Status);
        Assert.Equal(2u, result.Culprit);
        Assert.Equal(1, result.BanCredits[2]);
    }

    [Fact]
    public async Task CulpritTieGoesToLowestPnnAndStatusComesFromTheControl()
    {
        var cluster = Cluster("0,0,0");
        var controls = new Hooked(cluster) { OnIpReallocated = pnn => pnn == 0 ? null : Task.FromException(new TakeoverControlException(pnn, -5, "event failed")) };
        var result = await Run(cluster, controls);
        Assert.Equal(-5, result.Status);
        Assert.Equal(1u, result.Culprit);
        Assert.Equal(new Dictionary<uint, int> { [1] = 1, [2] = 1 }, result.BanCredits);
        Assert.Equal(["No nodes available to host public IPs yet", "IPREALLOCATED failed on node 1, ret=-5", "IPREALLOCATED failed on node 2, ret=-5",
            "Assigning banning credits to node 1", "takeover run failed, ret=-5"], result.Messages);
    }

    [Fact]
    public async Task MostCreditsWins()
    {
        // Node 2 fails two RELEASE_IPs, node 1 one: node 2 is blamed and no TAKEOVER_IP is sent.
        var cluster = Cluster("0,0,0", ("10.0.0.31", -1), ("10.0.0.32", -1), ("10.0.0.33", -1));
        var controls = new Hooked(cluster)
        {
            OnRelease = (pnn, ip, _) => pnn == 2 || (pnn == 1 && ip.Addr.Address.Equals(IPAddress.Parse("10.0.0.33")))
                ? Task.FromException(new TakeoverControlException(pnn, -1, "no")) : null,
        };
        var result = await Run(cluster, controls);
        Assert.Equal(-1, result.Status);
        Assert.Equal(2u, result.Culprit);
        Assert.Equal(2, result.BanCredits[2]);
        Assert.Equal(1, result.BanCredits[1]);
        Assert.DoesNotContain(controls.Log, l => l.StartsWith("TAKEOVER", StringComparison.Ordinal) || l.StartsWith("IPREALLOCATED", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CallerCancellationAbortsTheRun()
    {
        var cluster = Cluster("0,0,0", ("10.0.0.31", -1));
        using var cts = new CancellationTokenSource();
        var controls = new Hooked(cluster) { OnTakeover = (_, _, ct) => Task.Delay(Timeout.Infinite, ct) };
        var run = Run(cluster, controls, ct: cts.Token);
        Assert.False(run.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task FailoverDisabledOnlySendsIpReallocated()
    {
        var cluster = Cluster("0,0,0", ("10.0.0.31", -1));
        var result = await TakeoverRunner.RunAsync(cluster.NodeMap, null, Settings with { FailoverDisabled = true }, [], cluster, CtdbLog.Null,
            new ManualTimeProvider(), TestContext.Current.CancellationToken);
        Assert.Equal(0, result.Status);
        Assert.Equal(["IPREALLOCATED 0", "IPREALLOCATED 1", "IPREALLOCATED 2"], cluster.Calls);
        Assert.Empty(result.Assignment);
    }

    /// <summary>Forwards to the fake cluster unless a hook returns a task of its own; records every call.</summary>
    private sealed class Hooked(FakeCluster inner) : ITakeoverControls
    {
        public List<string> Log { get; } = [];
        public Func<uint, PublicIp, CancellationToken, Task?>? OnRelease { get; init; }
        public Func<uint, PublicIp, CancellationToken, Task?>? OnTakeover { get; init; }
        public Func<uint, Task?>? OnIpReallocated { get; init; }

        public Task<IReadOnlyList<PublicIp>> GetPublicIpsAsync(uint pnn, bool onlyAvailable, CancellationToken ct) => inner.GetPublicIpsAsync(pnn, onlyAvailable, ct);

        public Task ReleaseIpAsync(uint pnn, PublicIp ip, CancellationToken ct)
        {
            lock (Log)
                Log.Add($"RELEASE {pnn} {ip.Addr} -> {(ip.Pnn == Pnn.Unknown ? -1 : ip.Pnn)}");
            return OnRelease?.Invoke(pnn, ip, ct) ?? inner.ReleaseIpAsync(pnn, ip, ct);
        }

        public Task TakeoverIpAsync(uint pnn, PublicIp ip, CancellationToken ct)
        {
            lock (Log)
                Log.Add($"TAKEOVER {pnn} {ip.Addr}");
            return OnTakeover?.Invoke(pnn, ip, ct) ?? inner.TakeoverIpAsync(pnn, ip, ct);
        }

        public Task IpReallocatedAsync(uint pnn, CancellationToken ct)
        {
            lock (Log)
                Log.Add($"IPREALLOCATED {pnn}");
            return OnIpReallocated?.Invoke(pnn) ?? inner.IpReallocatedAsync(pnn, ct);
        }
    }
}
