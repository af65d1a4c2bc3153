using SharpCtdb.Daemon.Tests.Cluster;

namespace SharpCtdb.Daemon.Tests.Ip;

/// <summary>
/// NAT gateway and LVS (behaviour.md §11) are scripts and helpers over the tool's output: Debian's `ctdb natgw|lvs`
/// runs /usr/libexec/ctdb/ctdb_natgw|ctdb_lvs, which read `ctdb -X nodestatus all` from our daemons. Checked here
/// on loopback (the event scripts themselves need iptables/ipvsadm and real interfaces): leader, list and status
/// output, and that the leader moves when its node dies. Outputs match Samba's daemon on the same layout.
/// </summary>
[Collection("Net121")]
public sealed class NatGwLvsTests
{
    private const string HelperFunctions = "/etc/ctdb/functions";

    [Fact]
    public async Task NatGwAndLvsLeadersFollowNodeStatus()
    {
        Assert.True(File.Exists(HelperFunctions), "Debian's ctdb package (/etc/ctdb/functions) is needed");
        await using var c = new TestCluster(3, IpTestSupport.Net);
        var groupFile = Path.Combine(c.Dir, "shared", "group_nodes");
        File.WriteAllText(groupFile, "127.0.121.1\n127.0.121.2 follower-only\n# comment\n127.0.121.3\n");
        for (var pnn = 0; pnn < 3; pnn++)
            File.Copy(HelperFunctions, Path.Combine(c.NodeBase(pnn), "functions")); // the helpers source $CTDB_BASE/functions
        var env = new Dictionary<string, string> { ["CTDB_NATGW_NODES"] = groupFile, ["CTDB_LVS_NODES"] = groupFile };
        Task<ToolResult> Run(int pnn, params string[] args) => IpTestSupport.CtdbAsync(c, pnn, env, null, args);

        c.StartAll();
        await c.WaitHealthyAsync([0, 1, 2], 3);

        var natLeader = await Run(1, "natgw", "leader");
        Assert.True(natLeader.ExitCode == 0, natLeader.ToString());
        Assert.Equal("0 127.0.121.1\n", natLeader.Stdout);
        Assert.Equal("127.0.121.1\tLEADER\n127.0.121.2\tfollower-only\n#\tcomment\n127.0.121.3\n", (await Run(1, "natgw", "list")).Stdout);
        var status = await Run(1, "natgw", "status");
        Assert.Equal(0, status.ExitCode);
        Assert.Equal("pnn:0 127.0.121.1      OK\npnn:1 127.0.121.2      OK (THIS NODE)\npnn:2 127.0.121.3      OK\n", status.Stdout);
        Assert.Equal("0\n", (await Run(1, "lvs", "leader")).Stdout);
        Assert.Equal("0 127.0.121.1\n1 127.0.121.2\n2 127.0.121.3\n", (await Run(1, "lvs", "list")).Stdout);
        Assert.Equal(status.Stdout, (await Run(1, "lvs", "status")).Stdout);
        var master = await Run(1, "natgw", "master"); // 4.17 only knows "leader"
        Assert.Equal(1, master.ExitCode);

        // ---- the leader's node dies: both leaders move to node 2 (node 1 is follower-only) ----
        c.Kill(0);
        await IpTestSupport.WaitAsync(c, async () => (await Run(1, "natgw", "leader")).Stdout == "2 127.0.121.3\n", "NAT gateway leader on node 2");
        Assert.Equal("2\n", (await Run(1, "lvs", "leader")).Stdout);
        Assert.Equal("1 127.0.121.2\n2 127.0.121.3\n", (await Run(1, "lvs", "list")).Stdout);
        Assert.Equal("127.0.121.1\n127.0.121.2\tfollower-only\n#\tcomment\n127.0.121.3\tLEADER\n", (await Run(1, "natgw", "list")).Stdout);
        var degraded = await Run(1, "natgw", "status");
        Assert.Contains("pnn:0 127.0.121.1      DISCONNECTED|UNHEALTHY|INACTIVE\n", degraded.Stdout);

        // ---- an unhealthy (but connected) candidate is passed over while a healthy one exists ----
        c.StartNode(0);
        await c.WaitHealthyAsync([0, 1, 2], 3);
        Assert.Equal("0 127.0.121.1\n", (await Run(2, "natgw", "leader")).Stdout);
        var disable = await c.CtdbAsync(0, "disable");
        Assert.True(disable.ExitCode == 0, disable.ToString());
        await IpTestSupport.WaitAsync(c, async () => (await Run(2, "natgw", "leader")).Stdout == "2 127.0.121.3\n", "disabled node loses NAT gateway");
        Assert.Equal("2\n", (await Run(2, "lvs", "leader")).Stdout);
    }
}
