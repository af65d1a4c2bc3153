using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover;

/// <summary>One address as a node reports it in GET_PUBLIC_IPS: the address and who the node believes hosts it.</summary>
public readonly record struct ReportedIp(IPAddress Address, uint Pnn);

/// <summary>
/// What one node told the leader: its "known" list (all configured addresses with its belief of the holder)
/// and its "available" list (addresses it could host now). Empty lists for nodes that were not asked.
/// </summary>
public sealed record NodeIpView(uint Pnn, IReadOnlyList<ReportedIp> Known, IReadOnlyList<IPAddress> Available)
{
    public static NodeIpView Empty(uint pnn) => new(pnn, [], []);
}

/// <summary>
/// One entry of the merged list: the address, the node currently hosting it (or <see cref="Pnn.Unknown"/>),
/// and per node (index = PNN) whether the node can host it now and whether it knows it at all.
/// </summary>
public sealed class AllocIp
{
    private readonly bool[] _availableOn;
    private readonly bool[] _knownOn;

    public AllocIp(IPAddress address, uint pnn, IReadOnlyList<bool> availableOn, IReadOnlyList<bool> knownOn)
    {
        if (availableOn.Count != knownOn.Count)
            throw new ArgumentException("availableOn and knownOn must cover the same nodes");
        Address = address;
        Key = IpKey.Of(address);
        Pnn = pnn;
        _availableOn = [.. availableOn];
        _knownOn = new bool[knownOn.Count];
        for (var i = 0; i < _knownOn.Length; i++)
            _knownOn[i] = knownOn[i] || availableOn[i];
    }

    public IPAddress Address { get; }
    public IpKey Key { get; }

    /// <summary>Current holder before allocation, <see cref="Pnn.Unknown"/> if none.</summary>
    public uint Pnn { get; }

    public int NodeCount => _availableOn.Length;

    /// <summary>available_on[n]: node n reported the address as available (can host it).</summary>
    public bool IsAvailableOn(uint pnn) => pnn < (uint)_availableOn.Length && _availableOn[pnn];

    /// <summary>known_on[n]: node n has the address configured (available or known).</summary>
    public bool IsKnownOn(uint pnn) => pnn < (uint)_knownOn.Length && _knownOn[pnn];

    public override string ToString() => $"{Address} {(Pnn == SharpCtdb.Protocol.Pnn.Unknown ? -1 : (long)Pnn)}";
}

/// <summary>Inputs of the allocation besides the merged list.</summary>
public sealed record AllocOptions(IpAllocAlgorithm Algorithm, bool NoIpTakeover = false, bool NoIpFailback = false)
{
    /// <summary>LCP2 only: nodes that may receive addresses even though they already host some (REBALANCE_NODE).</summary>
    public IReadOnlyCollection<uint> ForceRebalance { get; init; } = [];

    /// <summary>
    /// Deterministic only, not in CTDB 4.17 (newer upstream "home_nodes"): preferred node per address,
    /// used instead of "index mod node count".
    /// </summary>
    public IReadOnlyDictionary<IPAddress, uint>? HomeNodes { get; init; }
}

/// <summary>Result of one allocation: the new holder for every merged-list entry, in merged-list order.</summary>
public sealed class IpAllocation
{
    private readonly uint[] _pnns;

    internal IpAllocation(IReadOnlyList<AllocIp> ips, uint[] pnns)
    {
        Ips = ips;
        _pnns = pnns;
    }

    /// <summary>The merged list the allocation ran on (CTDB order).</summary>
    public IReadOnlyList<AllocIp> Ips { get; }

    /// <summary>New holder of <c>Ips[i]</c>, or <see cref="Pnn.Unknown"/>.</summary>
    public IReadOnlyList<uint> Pnns => _pnns;

    public uint PnnOf(int index) => _pnns[index];

    public Dictionary<IPAddress, uint> ToDictionary()
    {
        var d = new Dictionary<IPAddress, uint>(_pnns.Length);
        for (var i = 0; i < _pnns.Length; i++)
            d[Ips[i].Address] = _pnns[i];
        return d;
    }
}

public enum AllocEventKind
{
    /// <summary>General information ("Deterministic IPs enabled ...", "Forcing rebalancing ...").</summary>
    Info,
    /// <summary>Deterministic algorithm put the entry on its fixed slot (From = old, To = slot).</summary>
    DeterministicSlot,
    /// <summary>The holder cannot host the address any more (From = old holder).</summary>
    Unassigned,
    /// <summary>An unassigned entry got a node (To); Cost = LCP2 distance sum, or the node's coverage.</summary>
    Assigned,
    /// <summary>No node can take the entry: it stays unhosted.</summary>
    NotCovered,
    /// <summary>Rebalancing moved the entry (From → To); for LCP2 Cost = source imbalance before the move.</summary>
    Rebalanced,
}

/// <summary>One step of the allocation, for logs and the what-if tool.</summary>
public readonly record struct AllocEvent(AllocEventKind Kind, int Index, IPAddress? Address, uint From, uint To, uint Cost, string Message);

/// <summary>Receives allocation steps in the order they happen.</summary>
public interface IAllocExplainer
{
    void OnEvent(in AllocEvent e);
}
