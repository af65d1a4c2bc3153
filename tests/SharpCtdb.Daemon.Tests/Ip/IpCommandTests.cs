using SharpCtdb.Client;
using SharpCtdb.Daemon.Tests.Cluster;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Tests.Ip;

/// <summary>
/// addip / delip / reloadips / moveip / ifaces / setifacelink / gratarp / ipinfo with Debian's real `ctdb` against
/// three of our daemons on 127.0.121.0/24 (public addresses 198.51.100.1-6 on lo, never really configured: no
/// event scripts). Expected outputs were observed with Samba's 4.17 daemon on the same layout.
/// </summary>
[Collection("Net121")]
public sealed class IpCommandTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AddDeleteReloadMoveAndInterfaceLinkBehaveAs417()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var c = new TestCluster(3, IpTestSupport.Net);
        c.StartAll();
        await c.WaitHealthyAsync([0, 1, 2], 3);

        // ---- addip: added with no owner, then hosted (forced rebalance onto the node that added it) ----
        var add = await c.CtdbAsync(0, "addip", "198.51.100.7/24", "lo");
        Assert.True(add.ExitCode == 0, add.ToString());
        await IpTestSupport.WaitAsync(c, async () => (await IpTestSupport.OwnersAsync(c, 0, all: false)).GetValueOrDefault("198.51.100.7", -1) == 0,
            "198.51.100.7 hosted by node 0");
        Assert.Contains("Add IP 198.51.100.7", IpTestSupport.Log(c, 0));
        var again = await c.CtdbAsync(0, "addip", "198.51.100.7/24", "lo");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal("Node already knows about IP 198.51.100.7\n", again.Stderr);

        // Bad interface / duplicate: the control fails (the real tool would retry 5 times, 3 s apart).
        await using (var client = await CtdbClient.ConnectAsync(c.SocketPath(0), ct))
        {
            var bad = await client.ControlAsync(0, ControlOpcode.AddPublicIp,
                new AddrInfo(SockAddr.Parse("198.51.100.9"), 24, "nosuchif0").ToBytes(), TimeSpan.FromSeconds(10), ct: ct);
            Assert.Equal(-1, bad.Status);
            var dup = await client.ControlAsync(0, ControlOpcode.AddPublicIp,
                new AddrInfo(SockAddr.Parse("198.51.100.7"), 24, "lo").ToBytes(), TimeSpan.FromSeconds(10), ct: ct);
            Assert.Equal(-1, dup.Status);
            var delUnknown = await client.ControlAsync(0, ControlOpcode.DelPublicIp,
                new AddrInfo(SockAddr.Parse("198.51.100.99"), 0, "").ToBytes(), TimeSpan.FromSeconds(10), ct: ct);
            Assert.Equal(-1, delUnknown.Status);
        }
        Assert.Contains("Unknown interface nosuchif0 for public address 198.51.100.9", IpTestSupport.Log(c, 0));

        // ---- delip of a hosted address: pending until the next takeover run releases it ----
        var del = await c.CtdbAsync(0, "delip", "198.51.100.7");
        Assert.True(del.ExitCode == 0, del.ToString());
        Assert.Equal(0, (await IpTestSupport.OwnersAsync(c, 0, all: false))["198.51.100.7"]);
        var realloc = await c.CtdbAsync(0, "ipreallocate");
        Assert.True(realloc.ExitCode == 0, realloc.ToString());
        await IpTestSupport.WaitAsync(c, async () => !(await IpTestSupport.OwnersAsync(c, 0, all: false)).ContainsKey("198.51.100.7"),
            "198.51.100.7 deleted on node 0");
        Assert.Contains("Delete IP 198.51.100.7", IpTestSupport.Log(c, 0));
        var unknown = await c.CtdbAsync(0, "delip", "198.51.100.77");
        Assert.Equal(0, unknown.ExitCode);
        Assert.Equal("Node does not know about IP address 198.51.100.77\n", unknown.Stderr);

        // ---- reloadips: node 1 drops .2 and gains .8 ----
        var file = Path.Combine(c.NodeBase(1), "public_addresses");
        File.WriteAllText(file, File.ReadAllText(file).Replace("198.51.100.2/24", "198.51.100.8/24", StringComparison.Ordinal));
        var reload = await c.CtdbAsync(0, "reloadips", "1");
        Assert.True(reload.ExitCode == 0, reload.ToString());
        await IpTestSupport.WaitAsync(c, async () =>
        {
            var mine = await IpTestSupport.OwnersAsync(c, 1, all: false);
            return !mine.ContainsKey("198.51.100.2") && mine.GetValueOrDefault("198.51.100.8", -1) == 1;
        }, "node 1 hosts 198.51.100.8 and no longer knows 198.51.100.2");
        Assert.Contains("IP 198.51.100.2 no longer configured, deleting it", IpTestSupport.Log(c, 1));
        Assert.Contains("New IP 198.51.100.8 configured, adding it", IpTestSupport.Log(c, 1));
        await IpTestSupport.WaitAsync(c, async () => (await IpTestSupport.OwnersAsync(c, 0)).GetValueOrDefault("198.51.100.2", 1) is 0 or 2,
            "198.51.100.2 hosted by a node that still has it");

        // ---- moveip ----
        var owners = await IpTestSupport.OwnersAsync(c, 0);
        var onTwo = "198.51.100.1"; // known by every node (unlike .2 and .8 now)
        var target = owners[onTwo] == 0 ? 1 : 0;
        var move = await c.CtdbAsync(0, "moveip", onTwo, target.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(move.ExitCode == 0, move.ToString());
        for (var pnn = 0; pnn < 3; pnn++)
        {
            var p = pnn;
            await IpTestSupport.WaitAsync(c, async () => (await IpTestSupport.OwnersAsync(c, p, all: false)).GetValueOrDefault(onTwo, -2) == target,
                $"node {p} sees {onTwo} on node {target}");
        }

        // ---- ifaces, ipinfo ----
        var ifaces = await c.CtdbAsync(2, "ifaces");
        Assert.Matches(@"^Interfaces on node 2\nname:lo link:up references:\d+\n$", ifaces.Stdout);
        var xifaces = await c.CtdbAsync(2, "-X", "ifaces");
        Assert.Matches(@"^\|Name\|LinkStatus\|References\|\n\|lo\|1\|\d+\|\n$", xifaces.Stdout);
        var info = await c.CtdbAsync(target, "ipinfo", onTwo);
        Assert.Equal($"Public IP[{onTwo}] info on node {target}\nIP:{onTwo}\nCurrentNode:{target}\nNumInterfaces:1\n", info.Stdout[..info.Stdout.IndexOf("Interface[1]", StringComparison.Ordinal)]);
        Assert.Matches(@"Interface\[1\]: Name:lo Link:up References:\d+ \(active\)\n$", info.Stdout);

        // ---- setifacelink: the only interface down → node 2's addresses move, PARTIALLYONLINE ----
        var unknownIface = await c.CtdbAsync(2, "setifacelink", "eth9", "down");
        Assert.Equal(1, unknownIface.ExitCode);
        Assert.Equal("Interface eth9 not configured on node 2\n", unknownIface.Stdout + unknownIface.Stderr);
        Assert.Contains(2, (await IpTestSupport.OwnersAsync(c, 0)).Values);
        var down = await c.CtdbAsync(2, "setifacelink", "lo", "down");
        Assert.True(down.ExitCode == 0, down.ToString());
        await IpTestSupport.WaitAsync(c, async () =>
        {
            var o = await IpTestSupport.OwnersAsync(c, 0);
            return o.Count > 0 && o.Values.All(v => v is 0 or 1);
        }, "node 2's addresses moved away");
        Assert.Contains("name:lo link:down", (await c.CtdbAsync(2, "ifaces")).Stdout);
        Assert.Contains("pnn:2 127.0.121.3      PARTIALLYONLINE", (await c.CtdbAsync(0, "status")).Stdout);
        Assert.Contains("iface[lo] has changed it's link status up => down", IpTestSupport.Log(c, 2));
        var up = await c.CtdbAsync(2, "setifacelink", "lo", "up");
        Assert.Equal(0, up.ExitCode);
        await IpTestSupport.WaitAsync(c, async () => (await IpTestSupport.OwnersAsync(c, 0)).ContainsValue(2), "addresses back on node 2");

        // ---- gratarp: accepted (loopback: nothing to send, as 4.17) ----
        var arp = await c.CtdbAsync(0, "gratarp", "198.51.100.1", "lo");
        Assert.True(arp.ExitCode == 0, arp.ToString());
        output.WriteLine(await c.DescribeAsync());
    }
}
