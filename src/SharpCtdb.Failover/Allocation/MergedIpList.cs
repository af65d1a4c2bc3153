using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover;

/// <summary>Builds the single address list every allocation algorithm runs on (behaviour §6.4).</summary>
public static class MergedIpList
{
    /// <summary>
    /// Merges the nodes' views. A node's claim is only trusted for itself (reported pnn == its own PNN);
    /// a later node's entry replaces an earlier one but keeps the earlier holder when it has none, so the
    /// highest-numbered node that claims an address wins. The result is in descending key order
    /// (IPv6 first, then IPv4 from highest to lowest), which is the order CTDB allocates and prints in.
    /// </summary>
    /// <param name="views">Per-node views; nodes without a view (not connected, not asked) know nothing.</param>
    /// <param name="nodeCount">Number of nodes in the node map (deleted/disconnected included).</param>
    public static IReadOnlyList<AllocIp> Build(IReadOnlyList<NodeIpView> views, int nodeCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeCount);
        var byPnn = new NodeIpView?[nodeCount];
        foreach (var v in views)
        {
            if (v.Pnn < (uint)nodeCount)
                byPnn[v.Pnn] = v;
        }

        var merged = new Dictionary<IpKey, (IPAddress Address, uint Pnn)>();
        for (var node = 0; node < nodeCount; node++)
        {
            var view = byPnn[node];
            if (view is null)
                continue;
            foreach (var ip in view.Known)
            {
                var key = IpKey.Of(ip.Address);
                var pnn = ip.Pnn == (uint)node ? ip.Pnn : Pnn.Unknown;
                if (pnn == Pnn.Unknown && merged.TryGetValue(key, out var earlier))
                    pnn = earlier.Pnn;
                merged[key] = (ip.Address, pnn);
            }
        }

        var keys = new List<IpKey>(merged.Keys);
        keys.Sort((a, b) => b.CompareTo(a));
        var indexOf = new Dictionary<IpKey, int>(keys.Count);
        for (var i = 0; i < keys.Count; i++)
            indexOf[keys[i]] = i;

        // Availability is matched by family and address bytes (ports and scope ids don't matter).
        var availableOn = new bool[keys.Count][];
        var knownOn = new bool[keys.Count][];
        for (var i = 0; i < keys.Count; i++)
        {
            availableOn[i] = new bool[nodeCount];
            knownOn[i] = new bool[nodeCount];
        }
        for (var node = 0; node < nodeCount; node++)
        {
            var view = byPnn[node];
            if (view is null)
                continue;
            foreach (var a in view.Available)
            {
                if (indexOf.TryGetValue(IpKey.Of(a), out var i) && merged[keys[i]].Address.AddressFamily == a.AddressFamily)
                    availableOn[i][node] = true;
            }
            foreach (var k in view.Known)
            {
                if (indexOf.TryGetValue(IpKey.Of(k.Address), out var i) && merged[keys[i]].Address.AddressFamily == k.Address.AddressFamily)
                    knownOn[i][node] = true;
            }
        }

        var result = new AllocIp[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var (address, pnn) = merged[keys[i]];
            result[i] = new AllocIp(address, pnn, availableOn[i], knownOn[i]);
        }
        return result;
    }
}
