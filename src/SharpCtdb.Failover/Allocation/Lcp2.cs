using System.Globalization;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover;

/// <summary>
/// LCP2 (behaviour §6.5). The cost of putting entry t on node n is dsum(t, n) = Σ distance²(t, u) over the
/// entries u on n. Computing that on demand makes the algorithm cubic, so a table of dsum for every
/// (entry, node) pair is kept and updated in O(entries) whenever an entry changes node. All sums are
/// unsigned 32-bit and wrap exactly like CTDB's; addition modulo 2³² is order-independent, so the table
/// gives bit-identical costs to the direct computation.
/// </summary>
internal static class Lcp2
{
    public static void Run(AllocState s, bool noIpFailback, IReadOnlyCollection<uint> forceRebalance)
    {
        s.UnassignUnsuitable();

        var n = s.NodeCount;
        var a = s.Count;
        var keys = new IpKey[a];
        for (var i = 0; i < a; i++)
            keys[i] = s.Ips[i].Key;

        // dsum[t * n + node] and the per-node imbalance (Σ over unordered pairs on the node).
        var dsum = new uint[a * n];
        var imbalance = new uint[n];
        for (var i = 0; i < a; i++)
        {
            var pi = s.Pnns[i];
            for (var j = i + 1; j < a; j++)
            {
                var pj = s.Pnns[j];
                if (pi == Pnn.Unknown && pj == Pnn.Unknown)
                    continue;
                var d2 = IpKey.Distance2(keys[i], keys[j]);
                if (pj != Pnn.Unknown)
                    dsum[(i * n) + (int)pj] += d2;
                if (pi != Pnn.Unknown)
                    dsum[(j * n) + (int)pi] += d2;
                if (pi == pj)
                    imbalance[pi] += d2;
            }
        }

        // Nodes that host nothing now (typically just became healthy) may receive addresses during failback.
        var candidate = new bool[n];
        Array.Fill(candidate, true);
        for (var i = 0; i < a; i++)
        {
            if (s.Pnns[i] != Pnn.Unknown)
                candidate[s.Pnns[i]] = false;
        }
        foreach (var p in forceRebalance)
        {
            if (p >= (uint)n)
            {
                s.Info(string.Create(CultureInfo.InvariantCulture, $"unknown node {p} in force rebalance list, ignored"));
                continue;
            }
            s.Info(string.Create(CultureInfo.InvariantCulture, $"Forcing rebalancing of IPs to node {p}"));
            candidate[p] = true;
        }

        var table = new Table(s, keys, dsum, n);
        AllocateUnassigned(s, table, imbalance);

        if (noIpFailback || Array.IndexOf(candidate, true) < 0)
            return;
        Failback(s, table, imbalance, candidate);
    }

    // Largest entry count for which one entry's distance sum cannot wrap (127² per other entry < 2^14).
    private const int NoWrapEntryLimit = 1 << 18;

    private static void AllocateUnassigned(AllocState s, Table table, uint[] imbalance)
    {
        var n = s.NodeCount;
        var unassigned = new List<int>();
        for (var i = 0; i < s.Count; i++)
        {
            if (s.Pnns[i] == Pnn.Unknown)
                unassigned.Add(i);
        }
        if (unassigned.Count == 0 || s.NoIpTakeover || n == 0)
        {
            ReportUncovered(s, unassigned);
            return;
        }

        // Per entry, its cheapest node and cost. Assigning entry u to node m only raises dsum(t, m) (the
        // sums cannot wrap below NoWrapEntryLimit), so only entries whose cheapest node was m need a rescan.
        var cached = s.Count < NoWrapEntryLimit;
        var bestNode = new int[s.Count];
        var bestSum = new uint[s.Count];
        foreach (var t in unassigned)
            (bestNode[t], bestSum[t]) = CheapestNode(s, table, t);

        while (unassigned.Count > 0)
        {
            // Cheapest (entry, node) pair; the first one wins ties (earlier entry, then lower PNN).
            var slot = -1;
            for (var k = 0; k < unassigned.Count; k++)
            {
                var t = unassigned[k];
                if (!cached)
                    (bestNode[t], bestSum[t]) = CheapestNode(s, table, t);
                if (bestNode[t] >= 0 && (slot < 0 || bestSum[t] < bestSum[unassigned[slot]]))
                    slot = k;
            }
            if (slot < 0)
                break;

            var entry = unassigned[slot];
            var node = bestNode[entry];
            var sum = bestSum[entry];
            unassigned.RemoveAt(slot);
            imbalance[node] += sum;
            table.Move(entry, Pnn.Unknown, (uint)node);
            if (s.Explaining)
                s.Emit(AllocEventKind.Assigned, entry, Pnn.Unknown, (uint)node, sum,
                    string.Create(CultureInfo.InvariantCulture, $" {s.AddressOf(entry)} -> {node} [+{sum}]"));

            if (cached)
            {
                foreach (var t in unassigned)
                {
                    if (bestNode[t] == node)
                        (bestNode[t], bestSum[t]) = CheapestNode(s, table, t);
                }
            }
        }
        ReportUncovered(s, unassigned);
    }

    private static (int Node, uint Sum) CheapestNode(AllocState s, Table table, int t)
    {
        var n = s.NodeCount;
        var canHost = s.CanHostRow(t);
        var row = table.Dsum.AsSpan(t * n, n);
        var best = -1;
        uint bestSum = 0;
        for (var node = 0; node < n; node++)
        {
            if (canHost[node] && (best < 0 || row[node] < bestSum))
            {
                best = node;
                bestSum = row[node];
            }
        }
        return (best, bestSum);
    }

    private static void ReportUncovered(AllocState s, List<int> unassigned)
    {
        if (!s.Explaining)
            return;
        foreach (var t in unassigned)
            s.Emit(AllocEventKind.NotCovered, t, Pnn.Unknown, Pnn.Unknown, 0, $"Failed to find node to cover ip {s.AddressOf(t)}");
    }

    private static void Failback(AllocState s, Table table, uint[] imbalance, bool[] candidate)
    {
        var n = s.NodeCount;
        if (s.NoIpTakeover)
            return;
        var targets = new List<int>();
        for (var i = 0; i < n; i++)
        {
            if (candidate[i])
                targets.Add(i);
        }
        var dsts = targets.ToArray();

        var order = new int[n];
        while (true)
        {
            // Most imbalanced first; equal imbalances stay in PNN order (CTDB's sort behaves stably here).
            for (var i = 0; i < n; i++)
                order[i] = i;
            Array.Sort(order, (x, y) =>
            {
                var c = imbalance[y].CompareTo(imbalance[x]);
                return c != 0 ? c : x.CompareTo(y);
            });

            var moved = false;
            foreach (var src in order)
            {
                if (imbalance[src] == 0)
                    break;
                if (TryMoveOneAway(s, table, imbalance, dsts, src))
                {
                    moved = true;
                    break;
                }
            }
            if (!moved)
                return;
        }
    }

    private static bool TryMoveOneAway(AllocState s, Table table, uint[] imbalance, int[] dsts, int src)
    {
        var n = s.NodeCount;
        var pnns = s.Pnns;
        var dsum = table.Dsum;
        var srcImbalance = imbalance[src];
        int bestEntry = -1, bestDst = -1;
        uint bestSrcImbl = 0, bestDstImbl = 0, bestSrcDsum = 0, bestDstDsum = 0;
        for (var t = 0; t < pnns.Length; t++)
        {
            if (pnns[t] != (uint)src)
                continue;
            var row = t * n;
            var canHost = s.CanHostRow(t);
            var srcDsum = dsum[row + src];
            var srcImbl = srcImbalance - srcDsum;
            foreach (var dst in dsts)
            {
                if (!canHost[dst])
                    continue;
                var dstDsum = dsum[row + dst];
                var dstImbl = imbalance[dst] + dstDsum;
                if (dstImbl < srcImbalance && dstDsum < srcDsum
                    && (bestDst < 0 || srcImbl + dstImbl < bestSrcImbl + bestDstImbl))
                {
                    bestEntry = t;
                    bestDst = dst;
                    bestSrcImbl = srcImbl;
                    bestDstImbl = dstImbl;
                    bestSrcDsum = srcDsum;
                    bestDstDsum = dstDsum;
                }
            }
        }
        if (bestDst < 0)
            return false;

        imbalance[src] = bestSrcImbl;
        imbalance[bestDst] = bestDstImbl;
        table.Move(bestEntry, (uint)src, (uint)bestDst);
        if (s.Explaining)
            s.Emit(AllocEventKind.Rebalanced, bestEntry, (uint)src, (uint)bestDst, bestSrcDsum,
                string.Create(CultureInfo.InvariantCulture, $"{src} [-{bestSrcDsum}] -> {s.AddressOf(bestEntry)} -> {bestDst} [+{bestDstDsum}]"));
        return true;
    }

    /// <summary>The dsum table plus the assignment it mirrors.</summary>
    private sealed class Table(AllocState s, IpKey[] keys, uint[] dsum, int nodeCount)
    {
        public uint[] Dsum { get; } = dsum;

        /// <summary>Moves entry from one node to another (either may be Unknown) and fixes every other entry's sums.</summary>
        public void Move(int entry, uint from, uint to)
        {
            s.SetPnn(entry, to);
            var key = keys[entry];
            var count = keys.Length;
            for (var j = 0; j < count; j++)
            {
                if (j == entry)
                    continue;
                var d2 = IpKey.Distance2(key, keys[j]);
                var row = j * nodeCount;
                if (from != Pnn.Unknown)
                    Dsum[row + (int)from] -= d2;
                if (to != Pnn.Unknown)
                    Dsum[row + (int)to] += d2;
            }
        }
    }
}
