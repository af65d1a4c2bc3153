using System.Diagnostics;
using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover.Tests;

/// <summary>The incremental LCP2 must give exactly the reference result.</summary>
public class Lcp2EquivalenceTests
{
    public static TheoryData<int> Seeds()
    {
        var d = new TheoryData<int>();
        for (var seed = 1; seed <= 40; seed++)
            d.Add(seed);
        return d;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void FastPathEqualsReference(int seed)
    {
        var rng = new Random(seed);
        var n = rng.Next(1, 13);
        var count = rng.Next(0, 90);
        var (merged, _) = RandomCluster(rng, n, count);
        var noTakeover = rng.Next(8) == 0;
        var noFailback = rng.Next(8) == 0;
        var force = Enumerable.Range(0, rng.Next(3)).Select(_ => (uint)rng.Next(n + 1)).ToList();

        var fast = IpAllocator.Allocate(merged, n, new AllocOptions(IpAllocAlgorithm.Lcp2, noTakeover, noFailback) { ForceRebalance = force });
        var reference = ReferenceLcp2.Allocate(merged, n, noTakeover, noFailback, force);
        Assert.Equal(reference, fast.Pnns);
    }

    [Fact]
    public void UnsignedWrapAroundMatchesReference()
    {
        // 800 addresses in one /22 on one node: the pair sum exceeds 2^32 and wraps, as it does in CTDB.
        var ips = Enumerable.Range(0, 800).Select(i => IPAddress.Parse($"10.1.{i / 250}.{(i % 250) + 1}")).ToList();
        var views = new[]
        {
            new NodeIpView(0, [.. ips.Select(a => new ReportedIp(a, 0))], ips),
            new NodeIpView(1, [.. ips.Select(a => new ReportedIp(a, 0))], ips),
        };
        var merged = MergedIpList.Build(views, 2);
        ulong exact = 0;
        for (var i = 0; i < merged.Count; i++)
        {
            for (var j = i + 1; j < merged.Count; j++)
                exact += IpKey.Distance2(merged[i].Key, merged[j].Key);
        }
        Assert.True(exact > uint.MaxValue, "test setup must overflow 32 bits");

        var fast = IpAllocator.Allocate(merged, 2, new AllocOptions(IpAllocAlgorithm.Lcp2));
        var reference = ReferenceLcp2.Allocate(merged, 2, false, false, []);
        Assert.Equal(reference, fast.Pnns);
        Assert.Contains(1u, fast.Pnns);
    }

    [Fact]
    public void SixtyFourNodesByThousandAddressesIsFast()
    {
        var rng = new Random(64);
        var (merged, _) = RandomCluster(rng, 64, 1024, healthyFraction: 1.0, assignedFraction: 0.0);
        var sw = Stopwatch.StartNew();
        var r = IpAllocator.Allocate(merged, 64, new AllocOptions(IpAllocAlgorithm.Lcp2));
        sw.Stop();
        TestContext.Current.SendDiagnosticMessage($"LCP2 64 nodes x {merged.Count} addresses (all unassigned): {sw.Elapsed.TotalMilliseconds:F0} ms");
        Assert.DoesNotContain(Pnn.Unknown, r.Pnns);
        var counts = r.Pnns.GroupBy(p => p).Select(g => g.Count()).ToList();
        Assert.Equal(64, counts.Count);
        Assert.True(counts.Max() - counts.Min() <= 2, "LCP2 spreads addresses evenly when all nodes start empty");

        // Failback-heavy: one node held everything, all nodes now healthy.
        var views = Enumerable.Range(0, 64).Select(i => new NodeIpView((uint)i,
            [.. merged.Select(m => new ReportedIp(m.Address, 0))], [.. merged.Select(m => m.Address)])).ToList();
        var skewed = MergedIpList.Build(views, 64);
        sw.Restart();
        var r2 = IpAllocator.Allocate(skewed, 64, new AllocOptions(IpAllocAlgorithm.Lcp2));
        sw.Stop();
        TestContext.Current.SendDiagnosticMessage($"LCP2 64 nodes x {skewed.Count} addresses (all on node 0, failback): {sw.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(r2.Pnns.Count(p => p == 0) < 100, "failback moves most addresses off node 0");
    }

    /// <summary>Random cluster: addresses from a few IPv4 subnets plus some IPv6, random health and current holders.</summary>
    internal static (IReadOnlyList<AllocIp> Merged, List<NodeIpView> Views) RandomCluster(Random rng, int n, int count, double healthyFraction = 0.75, double assignedFraction = 0.6)
    {
        var addrs = new HashSet<IPAddress>();
        var prefixes = new[] { "10.0.0.", "10.0.1.", "192.168.20.", "172.16.5." };
        while (addrs.Count < count)
        {
            if (rng.Next(10) == 0)
                addrs.Add(IPAddress.Parse($"fd00:{rng.Next(4):x}::{rng.Next(1, 65535):x}"));
            else if (count > 900)
                addrs.Add(IPAddress.Parse($"10.{rng.Next(4)}.{rng.Next(256)}.{rng.Next(1, 255)}"));
            else
                addrs.Add(IPAddress.Parse(prefixes[rng.Next(prefixes.Length)] + rng.Next(1, 255)));
        }
        var list = addrs.ToList();
        var healthy = Enumerable.Range(0, n).Select(_ => rng.NextDouble() < healthyFraction).ToArray();
        var holder = list.ToDictionary(a => a, a => rng.NextDouble() < assignedFraction ? (uint)rng.Next(n) : Pnn.Unknown);
        var views = new List<NodeIpView>();
        for (var i = 0; i < n; i++)
        {
            // Most nodes know most addresses; a few addresses are limited to some nodes.
            var known = list.Where(a => rng.Next(10) != 0).ToList();
            views.Add(new NodeIpView((uint)i, [.. known.Select(a => new ReportedIp(a, holder[a]))], healthy[i] ? known : []));
        }
        return (MergedIpList.Build(views, n), views);
    }
}
