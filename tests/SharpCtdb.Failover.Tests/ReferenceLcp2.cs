using SharpCtdb.Protocol;

namespace SharpCtdb.Failover.Tests;

/// <summary>
/// LCP2 written the obvious way from behaviour.md §6.5: every cost recomputed from scratch, unsigned 32-bit
/// arithmetic. Slow (cubic), used only to check the incremental implementation.
/// </summary>
internal static class ReferenceLcp2
{
    public static uint[] Allocate(IReadOnlyList<AllocIp> ips, int n, bool noTakeover, bool noFailback, IReadOnlyCollection<uint> force)
    {
        var a = ips.Count;
        var pnn = ips.Select(i => i.Pnn).ToArray();
        // Distances are pure functions of the addresses; tabulating them keeps this reference bearable.
        var d2 = new uint[a, a];
        for (var u = 0; u < a; u++)
        {
            for (var v = 0; v < a; v++)
                d2[u, v] = IpKey.Distance2(ips[u].Key, ips[v].Key);
        }
        bool CanHost(int node, int t) => ips[t].IsAvailableOn((uint)node);
        bool CanTake(int node, int t) => !noTakeover && CanHost(node, t);
        uint Dsum(int t, int node)
        {
            uint sum = 0;
            for (var u = 0; u < a; u++)
            {
                if (u != t && pnn[u] == (uint)node)
                    sum += d2[t, u];
            }
            return sum;
        }
        uint Imbalance(int node)
        {
            uint sum = 0;
            for (var u = 0; u < a; u++)
            {
                for (var v = u + 1; v < a; v++)
                {
                    if (pnn[u] == (uint)node && pnn[v] == (uint)node)
                        sum += d2[u, v];
                }
            }
            return sum;
        }

        for (var t = 0; t < a; t++)
        {
            if (pnn[t] != Pnn.Unknown && !CanHost((int)pnn[t], t))
                pnn[t] = Pnn.Unknown;
        }

        var imbalance = new uint[n];
        var candidate = new bool[n];
        for (var i = 0; i < n; i++)
        {
            imbalance[i] = Imbalance(i);
            candidate[i] = !pnn.Contains((uint)i);
        }
        foreach (var f in force)
        {
            if (f < (uint)n)
                candidate[f] = true;
        }

        var assignedSomething = true;
        while (assignedSomething && pnn.Contains(Pnn.Unknown))
        {
            assignedSomething = false;
            int bt = -1, bn = -1;
            uint bs = 0;
            for (var t = 0; t < a; t++)
            {
                if (pnn[t] != Pnn.Unknown)
                    continue;
                for (var node = 0; node < n; node++)
                {
                    if (!CanTake(node, t))
                        continue;
                    var s = Dsum(t, node);
                    if (bn < 0 || s < bs)
                    {
                        bt = t;
                        bn = node;
                        bs = s;
                    }
                }
            }
            if (bn >= 0)
            {
                pnn[bt] = (uint)bn;
                imbalance[bn] += bs;
                assignedSomething = true;
            }
        }

        if (noFailback || !candidate.Contains(true))
            return pnn;

        while (true)
        {
            // Stable sort by imbalance descending (OrderByDescending is stable).
            var order = Enumerable.Range(0, n).OrderByDescending(i => imbalance[i]).ToList();
            var moved = false;
            foreach (var src in order)
            {
                if (imbalance[src] == 0)
                    break;
                int mt = -1, md = -1;
                uint msi = 0, mdi = 0;
                for (var t = 0; t < a; t++)
                {
                    if (pnn[t] != (uint)src)
                        continue;
                    var srcdsum = Dsum(t, src);
                    var srcimbl = imbalance[src] - srcdsum;
                    for (var dst = 0; dst < n; dst++)
                    {
                        if (!candidate[dst] || !CanTake(dst, t))
                            continue;
                        var dstdsum = Dsum(t, dst);
                        var dstimbl = imbalance[dst] + dstdsum;
                        if (dstimbl < imbalance[src] && dstdsum < srcdsum && (md < 0 || srcimbl + dstimbl < msi + mdi))
                        {
                            mt = t;
                            md = dst;
                            msi = srcimbl;
                            mdi = dstimbl;
                        }
                    }
                }
                if (md >= 0)
                {
                    imbalance[src] = msi;
                    imbalance[md] = mdi;
                    pnn[mt] = (uint)md;
                    moved = true;
                    break;
                }
            }
            if (!moved)
                return pnn;
        }
    }
}
