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

        // Availability is matched by family and address bytes (ports and scope ids don't matter).
        var available = new HashSet<(System.Net.Sockets.AddressFamily, IpKey)>[nodeCount];
        var known = new HashSet<(System.Net.Sockets.AddressFamily, IpKey)>[nodeCount];
        for (var node = 0; node < nodeCount; node++)
        {
            available[node] = [];
            known[node] = [];
            var view = byPnn[node];
            if (view is null)
                continue;
            foreach (var a in view.Available)
                available[node].Add((a.AddressFamily, IpKey.Of(a)));
            foreach (var k in view.Known)
                known[node].Add((k.Address.AddressFamily, IpKey.Of(k.Address)));
        }

        var keys = new List<IpKey>(merged.Keys);
        keys.Sort((a, b) => b.CompareTo(a));
        var result = new AllocIp[keys.Count];
        var availableOn = new bool[nodeCount];
        var knownOn = new bool[nodeCount];
        for (var i = 0; i < keys.Count; i++)
        {
            var (address, pnn) = merged[keys[i]];
            var id = (address.AddressFamily, keys[i]);
            for (var node = 0; node < nodeCount; node++)
            {
                availableOn[node] = available[node].Contains(id);
                knownOn[node] = known[node].Contains(id);
            }
            result[i] = new AllocIp(address, pnn, availableOn, knownOn);
        }
        return result;
    }
}
