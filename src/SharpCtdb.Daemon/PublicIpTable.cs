using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>One public address as this node knows it (a "VNN" in CTDB terms).</summary>
internal sealed class PublicAddress(IPAddress address, uint maskBits, IReadOnlyList<string> interfaces)
{
    public IPAddress Address { get; } = address;
    public uint MaskBits { get; } = maskBits;
    public IReadOnlyList<string> Interfaces { get; } = interfaces;
    /// <summary>Interface the address is assigned to on this node, or null.</summary>
    public string? CurrentInterface { get; set; }
    /// <summary>The node this node believes hosts the address.</summary>
    public uint Pnn { get; set; } = SharpCtdb.Protocol.Pnn.Unknown;
    /// <summary>DEL_PUBLIC_IP while hosted: unavailable here, deleted when released (§6.10).</summary>
    public bool DeletePending { get; set; }
}

internal sealed class InterfaceState(string name)
{
    public string Name { get; } = name;
    public bool LinkUp { get; set; } = true;
    public uint References { get; set; }
}

/// <summary>Public addresses and interfaces of this node (§6.1). Owned by the cluster loop.</summary>
internal sealed class PublicIpTable
{
    // Newest first, like CTDB (GET_PUBLIC_IPS returns reverse file order, GET_IFACES reverse first mention).
    private readonly List<PublicAddress> _addresses = [];
    private readonly List<InterfaceState> _interfaces = [];

    public IReadOnlyList<PublicAddress> Addresses => _addresses;
    public IReadOnlyList<InterfaceState> Interfaces => _interfaces;

    public void Add(IPAddress address, uint maskBits, IReadOnlyList<string> interfaces)
    {
        if (Find(address) is not null)
            throw new InvalidOperationException($"Duplicate public IP address '{address}'");
        foreach (var name in interfaces)
        {
            if (FindInterface(name) is null)
                _interfaces.Insert(0, new InterfaceState(name));
        }
        _addresses.Insert(0, new PublicAddress(address, maskBits, interfaces));
    }

    /// <summary>Deletes an address and every interface no address names any more.</summary>
    public void Remove(PublicAddress v)
    {
        _addresses.Remove(v);
        _interfaces.RemoveAll(i => !_addresses.Any(a => a.Interfaces.Contains(i.Name)));
    }

    public PublicAddress? Find(IPAddress address)
    {
        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var v in _addresses)
        {
            if (v.Address.Equals(a))
                return v;
        }
        return null;
    }

    public InterfaceState? FindInterface(string name)
    {
        foreach (var i in _interfaces)
        {
            if (i.Name == name)
                return i;
        }
        return null;
    }

    /// <summary>Can this address be hosted here as far as interfaces go (assigned one up, or any configured one up)?</summary>
    public bool HasUsableInterface(PublicAddress v)
    {
        if (v.CurrentInterface is { } cur && FindInterface(cur) is { LinkUp: true })
            return true;
        return BestInterface(v) is not null;
    }

    /// <summary>The interface to use when taking the address: first configured one with link up.</summary>
    public string? BestInterface(PublicAddress v)
    {
        foreach (var name in v.Interfaces)
        {
            if (FindInterface(name) is { LinkUp: true })
                return name;
        }
        return null;
    }

    public void Assign(PublicAddress v, string iface, uint ownPnn)
    {
        if (v.CurrentInterface is { } old && FindInterface(old) is { } oi && oi.References > 0)
            oi.References--;
        v.CurrentInterface = iface;
        if (FindInterface(iface) is { } ni)
            ni.References++;
        v.Pnn = ownPnn;
    }

    public void Unassign(PublicAddress v, uint newOwner)
    {
        if (v.CurrentInterface is { } old && FindInterface(old) is { } oi && oi.References > 0)
            oi.References--;
        v.CurrentInterface = null;
        v.Pnn = newOwner;
    }

    public PublicIpInfo InfoFor(PublicAddress v)
    {
        var ifaces = new List<Iface>();
        uint active = uint.MaxValue;
        for (var i = 0; i < v.Interfaces.Count; i++)
        {
            var st = FindInterface(v.Interfaces[i]);
            ifaces.Add(new Iface(v.Interfaces[i], (ushort)(st is { LinkUp: true } ? 1 : 0), st?.References ?? 0));
            if (v.CurrentInterface == v.Interfaces[i])
                active = (uint)i;
        }
        return new PublicIpInfo(new PublicIp(v.Pnn, new SockAddr(v.Address)), active, new IfaceList(ifaces));
    }
}
