using System.Globalization;
using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover;

/// <summary>
/// CTDB's three public-IP allocation algorithms (behaviour §6.5), run on the merged list of §6.4.
/// Pure and deterministic: the same input always gives the same assignment.
/// </summary>
public static class IpAllocator
{
    /// <summary>Computes the new holder of every merged-list entry.</summary>
    /// <param name="mergedIps">The merged list (see <see cref="MergedIpList.Build"/>), in CTDB order.</param>
    /// <param name="nodeCount">Number of nodes in the node map; every entry must describe exactly this many nodes.</param>
    public static IpAllocation Allocate(IReadOnlyList<AllocIp> mergedIps, int nodeCount, AllocOptions options, IAllocExplainer? explain = null)
    {
        ArgumentNullException.ThrowIfNull(mergedIps);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(nodeCount);
        foreach (var ip in mergedIps)
        {
            if (ip.NodeCount != nodeCount)
                throw new ArgumentException($"entry {ip.Address} describes {ip.NodeCount} nodes, expected {nodeCount}", nameof(mergedIps));
        }

        var state = new AllocState(mergedIps, nodeCount, options.NoIpTakeover, explain);
        switch (options.Algorithm)
        {
            case IpAllocAlgorithm.Deterministic:
                RunDeterministic(state, options);
                break;
            case IpAllocAlgorithm.NonDeterministic:
                RunNonDeterministic(state, options);
                break;
            default:
                Lcp2.Run(state, options.NoIpFailback, options.ForceRebalance);
                break;
        }
        return new IpAllocation(mergedIps, state.Pnns);
    }

    private static void RunDeterministic(AllocState s, AllocOptions options)
    {
        s.Info("Deterministic IPs enabled. Resetting all ip allocations");
        if (options.NoIpFailback)
            s.Info("WARNING: 'NoIPFailback' set but ignored - incompatible with 'Deterministic IPs'");

        // The fixed slot ignores NoIPTakeover and where the address is now; unsuitable slots are fixed below.
        for (var i = 0; i < s.Count; i++)
        {
            var old = s.Pnns[i];
            uint slot;
            if (options.HomeNodes is not null && options.HomeNodes.TryGetValue(s.Ips[i].Address, out var home))
                slot = home;
            else
                slot = s.NodeCount == 0 ? Pnn.Unknown : (uint)(i % s.NodeCount);
            s.SetPnn(i, slot);
            s.Emit(AllocEventKind.DeterministicSlot, i, old, slot, 0, string.Empty);
        }
        s.UnassignUnsuitable();
        s.BasicAllocateUnassigned();
    }

    private static void RunNonDeterministic(AllocState s, AllocOptions options)
    {
        s.UnassignUnsuitable();
        s.BasicAllocateUnassigned();
        if (options.NoIpFailback)
            return;

        var retries = 0;
        var limit = s.Count + 5;
        bool moved;
        do
        {
            moved = false;
            for (var t = 0; t < s.Count; t++)
            {
                if (s.Pnns[t] == Pnn.Unknown)
                    continue;
                int maxNode = -1, minNode = -1;
                for (var n = 0; n < s.NodeCount; n++)
                {
                    if (!s.CanTake(n, t))
                        continue;
                    if (maxNode < 0 || s.Coverage[n] > s.Coverage[maxNode])
                        maxNode = n;
                    if (minNode < 0 || s.Coverage[n] < s.Coverage[minNode])
                        minNode = n;
                }
                if (maxNode < 0)
                    continue;
                if (s.Coverage[maxNode] > s.Coverage[minNode] + 1 && retries < limit)
                {
                    // CTDB moves the first address of the busiest node, not necessarily t.
                    var victim = s.FirstAssignedTo((uint)maxNode);
                    var target = s.LeastCoveredTaker(victim);
                    if (target >= 0 && (uint)target != s.Pnns[victim])
                    {
                        var from = s.Pnns[victim];
                        s.SetPnn(victim, (uint)target);
                        s.Emit(AllocEventKind.Rebalanced, victim, from, (uint)target, (uint)s.Coverage[target],
                            string.Create(CultureInfo.InvariantCulture,
                                $"Rebalance IP: {s.Ips[victim].Address} from {from} to {target}"));
                    }
                    retries++;
                    moved = true;
                    break;
                }
            }
        }
        while (moved);
    }
}

/// <summary>Mutable working state shared by the algorithms.</summary>
internal sealed class AllocState
{
    private readonly bool[] _canHost; // [entry * NodeCount + node]
    private readonly IAllocExplainer? _explain;

    public AllocState(IReadOnlyList<AllocIp> ips, int nodeCount, bool noIpTakeover, IAllocExplainer? explain)
    {
        Ips = ips;
        Count = ips.Count;
        NodeCount = nodeCount;
        NoIpTakeover = noIpTakeover;
        _explain = explain;
        Pnns = new uint[Count];
        Coverage = new int[nodeCount];
        _canHost = new bool[Count * nodeCount];
        for (var i = 0; i < Count; i++)
        {
            for (var n = 0; n < nodeCount; n++)
                _canHost[(i * nodeCount) + n] = ips[i].IsAvailableOn((uint)n);
            Pnns[i] = ips[i].Pnn;
            if (Pnns[i] < (uint)nodeCount)
                Coverage[Pnns[i]]++;
        }
    }

    public IReadOnlyList<AllocIp> Ips { get; }
    public int Count { get; }
    public int NodeCount { get; }
    public bool NoIpTakeover { get; }
    public uint[] Pnns { get; }

    /// <summary>Entries currently assigned per node.</summary>
    public int[] Coverage { get; }

    public bool Explaining => _explain is not null;

    public bool CanHost(int node, int entry) => (uint)node < (uint)NodeCount && _canHost[(entry * NodeCount) + node];

    public bool CanTake(int node, int entry) => !NoIpTakeover && CanHost(node, entry);

    /// <summary>can_host for every node for one entry (index = PNN).</summary>
    public ReadOnlySpan<bool> CanHostRow(int entry) => new(_canHost, entry * NodeCount, NodeCount);

    public void SetPnn(int entry, uint pnn)
    {
        var old = Pnns[entry];
        if (old < (uint)NodeCount)
            Coverage[old]--;
        Pnns[entry] = pnn;
        if (pnn < (uint)NodeCount)
            Coverage[pnn]++;
    }

    public void Emit(AllocEventKind kind, int entry, uint from, uint to, uint cost, string message) =>
        _explain?.OnEvent(new AllocEvent(kind, entry, entry >= 0 ? Ips[entry].Address : null, from, to, cost, message));

    public void Info(string message) => _explain?.OnEvent(new AllocEvent(AllocEventKind.Info, -1, null, Pnn.Unknown, Pnn.Unknown, 0, message));

    /// <summary>Drops every holder that cannot host its address any more.</summary>
    public void UnassignUnsuitable()
    {
        for (var i = 0; i < Count; i++)
        {
            var p = Pnns[i];
            if (p == Pnn.Unknown || CanHost((int)p, i))
                continue;
            SetPnn(i, Pnn.Unknown);
            if (Explaining)
                Emit(AllocEventKind.Unassigned, i, p, Pnn.Unknown, 0, string.Create(CultureInfo.InvariantCulture, $"Unassign IP: {Ips[i].Address} from {p}"));
        }
    }

    /// <summary>Node with the fewest addresses that can take the entry (ties → lowest PNN), or -1.</summary>
    public int LeastCoveredTaker(int entry)
    {
        var best = -1;
        for (var n = 0; n < NodeCount; n++)
        {
            if (CanTake(n, entry) && (best < 0 || Coverage[n] < Coverage[best]))
                best = n;
        }
        return best;
    }

    /// <summary>Gives every unassigned entry (list order) to the least covered node that can take it.</summary>
    public void BasicAllocateUnassigned()
    {
        for (var i = 0; i < Count; i++)
        {
            if (Pnns[i] != Pnn.Unknown)
                continue;
            var best = LeastCoveredTaker(i);
            if (best < 0)
            {
                if (Explaining)
                    Emit(AllocEventKind.NotCovered, i, Pnn.Unknown, Pnn.Unknown, 0, $"Failed to find node to cover ip {Ips[i].Address}");
                continue;
            }
            var coverage = (uint)Coverage[best];
            SetPnn(i, (uint)best);
            if (Explaining)
                Emit(AllocEventKind.Assigned, i, Pnn.Unknown, (uint)best, coverage, string.Create(CultureInfo.InvariantCulture, $" {Ips[i].Address} -> {best} [covers {coverage}]"));
        }
    }

    public int FirstAssignedTo(uint pnn)
    {
        for (var i = 0; i < Count; i++)
        {
            if (Pnns[i] == pnn)
                return i;
        }
        throw new InvalidOperationException("node has no addresses");
    }

    public IPAddress AddressOf(int entry) => Ips[entry].Address;
}
