using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Tests.Unit;

public sealed class PublicIpTableTests
{
    private static PublicIpTable Sample()
    {
        var t = new PublicIpTable();
        t.Add(IPAddress.Parse("10.0.0.1"), 24, ["eth1", "eth2"]);
        t.Add(IPAddress.Parse("10.0.0.2"), 24, ["eth2", "eth3"]);
        return t;
    }

    [Fact]
    public void NewestAddressAndInterfaceComeFirstLikeCtdb()
    {
        var t = Sample();
        Assert.Equal(["10.0.0.2", "10.0.0.1"], t.Addresses.Select(a => a.Address.ToString()));
        Assert.Equal(["eth3", "eth2", "eth1"], t.Interfaces.Select(i => i.Name));
        Assert.All(t.Addresses, a => Assert.Equal(Pnn.Unknown, a.Pnn));
    }

    [Fact]
    public void DuplicateAddressIsRejected()
    {
        var t = Sample();
        Assert.Throws<InvalidOperationException>(() => t.Add(IPAddress.Parse("10.0.0.1"), 16, ["eth9"]));
    }

    [Fact]
    public void FindAcceptsIpv4MappedAddresses()
    {
        var t = Sample();
        Assert.NotNull(t.Find(IPAddress.Parse("::ffff:10.0.0.1")));
        Assert.Null(t.Find(IPAddress.Parse("10.0.0.9")));
    }

    [Fact]
    public void AssignAndUnassignCountReferences()
    {
        var t = Sample();
        var v = t.Find(IPAddress.Parse("10.0.0.1"))!;
        t.Assign(v, "eth1", 3);
        Assert.Equal(3u, v.Pnn);
        Assert.Equal(1u, t.FindInterface("eth1")!.References);
        t.Assign(v, "eth2", 3); // moving interface: old one released
        Assert.Equal(0u, t.FindInterface("eth1")!.References);
        Assert.Equal(1u, t.FindInterface("eth2")!.References);
        t.Unassign(v, 1);
        Assert.Null(v.CurrentInterface);
        Assert.Equal(1u, v.Pnn);
        Assert.Equal(0u, t.FindInterface("eth2")!.References);
    }

    [Fact]
    public void UsableOnlyWhileSomeConfiguredInterfaceIsUp()
    {
        var t = Sample();
        var v = t.Find(IPAddress.Parse("10.0.0.1"))!;
        t.FindInterface("eth1")!.LinkUp = false;
        Assert.True(t.HasUsableInterface(v));
        Assert.Equal("eth2", t.BestInterface(v));
        t.FindInterface("eth2")!.LinkUp = false;
        Assert.False(t.HasUsableInterface(v));
        Assert.Null(t.BestInterface(v));
    }

    [Fact]
    public void InfoListsConfiguredInterfacesWithActiveIndex()
    {
        var t = Sample();
        var v = t.Find(IPAddress.Parse("10.0.0.2"))!;
        Assert.Equal(uint.MaxValue, t.InfoFor(v).ActiveIdx);
        t.Assign(v, "eth3", 0);
        t.FindInterface("eth2")!.LinkUp = false;
        var info = t.InfoFor(v);
        Assert.Equal(1u, info.ActiveIdx);
        Assert.Equal(0u, info.Ip.Pnn);
        Assert.Equal([("eth2", (ushort)0, 0u), ("eth3", (ushort)1, 1u)],
            info.Ifaces.Ifaces.Select(i => (i.Name, i.LinkState, i.References)));
    }
}
