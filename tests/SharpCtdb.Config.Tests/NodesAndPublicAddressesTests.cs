using System.Net;

namespace SharpCtdb.Config.Tests;

public class NodesFileTests
{
    [Fact]
    public void ParsesAddressesDeletedSlotsAndBlankLines()
    {
        var r = NodesFile.Parse("127.0.84.1\n\n  127.0.84.2\t\n#127.0.84.3\n[fd00::1]\nfd00::2\n::ffff:10.0.0.1\n\n\n", "nodes");
        Assert.True(r.Ok);
        Assert.Equal(
            [
                new NodeEntry(0, IPAddress.Parse("127.0.84.1"), false),
                new NodeEntry(1, IPAddress.Parse("127.0.84.2"), false),
                new NodeEntry(2, IPAddress.Any, true),
                new NodeEntry(3, IPAddress.Parse("fd00::1"), false),
                new NodeEntry(4, IPAddress.Parse("fd00::2"), false),
                new NodeEntry(5, IPAddress.Parse("10.0.0.1"), false),
            ],
            r.Nodes);
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, r.Nodes[5].Address.AddressFamily);
    }

    [Fact]
    public void EveryHashLineIsADeletedNodeNotAComment()
    {
        var r = NodesFile.Parse("# nodes of the cluster\n127.0.0.1\n", "nodes");
        Assert.Equal(2, r.Nodes.Count);
        Assert.True(r.Nodes[0].Deleted);
        Assert.Equal(1u, r.Nodes[1].Pnn);
    }

    [Theory]
    [InlineData("1.2.3.4:4379")]
    [InlineData("[fd00::1]:4379")]
    [InlineData("1.2.3")]
    [InlineData("node1")]
    [InlineData("1.2.3.4 extra")]
    public void BadLinesAreErrorsWithLineNumbers(string bad)
    {
        var r = NodesFile.Parse($"127.0.0.1\n{bad}\n", "nodes");
        Assert.False(r.Ok);
        var e = Assert.Single(r.Errors);
        Assert.Equal(2, e.Line);
        Assert.StartsWith("nodes:2: ", e.ToString());
    }

    [Fact]
    public void MissingFileIsAnError()
    {
        var r = NodesFile.Load("/tmp/sc-does-not-exist/nodes");
        Assert.False(r.Ok);
        Assert.Empty(r.Nodes);
    }

    [Fact]
    public void LoadReadsTheFile()
    {
        using var dir = new TempDir();
        var path = dir.Write("nodes", "127.0.84.1\n127.0.84.2\n");
        var r = NodesFile.Load(path);
        Assert.True(r.Ok);
        Assert.Equal(2, r.Nodes.Count);
    }
}

public class PublicAddressesFileTests
{
    [Fact]
    public void ParsesEntries()
    {
        var r = PublicAddressesFile.Parse("# comment\n\n  127.0.84.101/24 eth0\n127.0.84.102/24\teth0,eth1  ignored\nfd00::5357:5f02/64 eth2\n", "pa");
        Assert.True(r.Ok);
        Assert.Equal(3, r.Entries.Count);
        Assert.Equal(IPAddress.Parse("127.0.84.101"), r.Entries[0].Address);
        Assert.Equal(24, r.Entries[0].MaskBits);
        Assert.Equal(["eth0"], r.Entries[0].Interfaces);
        Assert.Equal(["eth0", "eth1"], r.Entries[1].Interfaces);
        Assert.Equal(IPAddress.Parse("fd00::5357:5f02"), r.Entries[2].Address);
        Assert.Equal(64, r.Entries[2].MaskBits);
    }

    [Theory]
    [InlineData("127.0.84.101 eth0", "Badly formed line 2")]
    [InlineData("127.0.84.101/ eth0", "Badly formed line 2")]
    [InlineData("bogus/24 eth0", "Badly formed line 2")]
    [InlineData("127.0.84.101/x eth0", "Badly formed line 2")]
    [InlineData("127.0.84.101/24", "No interface specified")]
    [InlineData("127.0.84.101/24 ,", "No interface specified")]
    [InlineData("127.0.84.101/24 averyveryverylongname", "too long")]
    [InlineData("127.0.84.1/24 eth0", "Duplicate")]
    public void Errors(string line, string message)
    {
        var r = PublicAddressesFile.Parse($"127.0.84.1/24 eth0\n{line}\n", "pa");
        Assert.False(r.Ok);
        var e = Assert.Single(r.Errors);
        Assert.Equal(2, e.Line);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MaskBitsAreNotRangeChecked()
    {
        var r = PublicAddressesFile.Parse("127.0.84.1/99 eth0\n", "pa");
        Assert.True(r.Ok);
        Assert.Equal(99, r.Entries[0].MaskBits);
    }

    [Fact]
    public void FifteenCharacterInterfaceNamesAreAllowed()
    {
        Assert.True(PublicAddressesFile.Parse("127.0.84.1/24 abcdefghijklmno\n", "pa").Ok);
    }

    [Fact]
    public void InterfaceExistenceIsCheckedOnlyWhenAsked()
    {
        const string text = "127.0.84.1/24 lo\n127.0.84.2/24 scnoiface0\n";
        Assert.True(PublicAddressesFile.Parse(text, "pa").Ok);
        var checkedResult = PublicAddressesFile.Parse(text, "pa", checkInterfacesExist: true);
        var e = Assert.Single(checkedResult.Errors);
        Assert.Equal(2, e.Line);
        Assert.Contains("scnoiface0", e.Message);
    }

    [Fact]
    public void MissingFileIsNotAnError()
    {
        var r = PublicAddressesFile.Load("/tmp/sc-does-not-exist/public_addresses");
        Assert.True(r.Ok);
        Assert.False(r.FileExists);
        Assert.Empty(r.Entries);
    }
}
