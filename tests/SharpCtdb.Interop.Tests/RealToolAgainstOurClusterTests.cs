using System.Text.RegularExpressions;

namespace SharpCtdb.Interop.Tests;

/// <summary>
/// Debian's real `ctdb` 4.17 tool against a 3-node SharpCTDB cluster brought up by the same harness
/// (cluster.sh) that measured Samba's daemon.
/// </summary>
public sealed partial class RealToolAgainstOurClusterTests
{
    [Fact]
    public async Task ClusterShBringsUpAHealthyClusterThatTheRealToolReads()
    {
        await using var c = await ShCluster.StartAsync("127.0.100", 3);

        for (var pnn = 0; pnn < 3; pnn++)
        {
            var st = await c.CtdbAsync(pnn, "status");
            Assert.Equal(0, st.ExitCode);
            Assert.Contains("Number of nodes:3", st.Stdout);
            Assert.Equal(3, OkLine().Matches(st.Stdout).Count);
            Assert.Contains($"pnn:{pnn} 127.0.100.{pnn + 1}", st.Stdout);
            Assert.Contains("(THIS NODE)", st.Stdout);
            Assert.Contains("Recovery mode:NORMAL (0)", st.Stdout);
            Assert.Matches(@"Generation:\d+", st.Stdout);
            Assert.Matches(@"Leader:[0-2]\b", st.Stdout);
        }

        var leaders = new HashSet<string>();
        for (var pnn = 0; pnn < 3; pnn++)
        {
            var l = await c.CtdbAsync(pnn, "leader");
            Assert.Equal(0, l.ExitCode);
            leaders.Add(l.Stdout.Trim());
        }
        Assert.Single(leaders);

        var x = await c.CtdbAsync(1, "-X", "status");
        Assert.Equal(0, x.ExitCode);
        var lines = x.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("|Node|IP|Disconnected|Unknown|Banned|Disabled|Unhealthy|Stopped|Inactive|PartiallyOnline|ThisNode|", lines[0]);
        Assert.Equal("|1|127.0.100.2|0|0|0|0|0|0|0|0|Y|", lines[2]);

        var ip = await c.CtdbAsync(0, "-X", "ip");
        Assert.Equal(0, ip.ExitCode);
        var ipRows = ip.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(6, ipRows.Count);
        Assert.All(ipRows, r => Assert.Matches(@"^\|198\.51\.100\.\d+\|[0-2]\|$", r));
    }

    [Fact]
    public async Task SimpleCommandsOfTheRealToolWork()
    {
        await using var c = await ShCluster.StartAsync("127.0.101", 3);

        Assert.Equal("2", (await c.CtdbAsync(2, "pnn")).Stdout.Trim());
        var ping = await c.CtdbAsync(0, "ping");
        Assert.Matches(@"^response from 0 time=\d+\.\d{6} sec  \(\d+ clients\)$", ping.Stdout.Trim());
        Assert.Equal("RUNNING", (await c.CtdbAsync(0, "runstate")).Stdout.Trim());
        Assert.Equal("LEADER: YES\nLMASTER: YES", (await c.CtdbAsync(0, "getcapabilities")).Stdout.Trim());
        var up = await c.CtdbAsync(0, "uptime");
        Assert.Contains("Current time of node 0", up.Stdout);
        Assert.Contains("Ctdbd start time", up.Stdout);

        var vars = await c.CtdbAsync(0, "listvars");
        Assert.Contains("MonitorInterval            = 15", vars.Stdout);
        Assert.Contains("KeepaliveInterval          = 5", vars.Stdout);

        Assert.Equal(0, (await c.CtdbAsync(1, "setvar", "MonitorInterval", "7")).ExitCode);
        Assert.Equal("MonitorInterval            = 7", (await c.CtdbAsync(1, "getvar", "MonitorInterval")).Stdout.Trim());
        Assert.Equal("MonitorInterval            = 15", (await c.CtdbAsync(0, "getvar", "MonitorInterval")).Stdout.Trim());

        Assert.Equal(0, (await c.CtdbAsync(0, "setdebug", "INFO")).ExitCode);
        Assert.Equal("INFO", (await c.CtdbAsync(0, "getdebug")).Stdout.Trim());

        var pid = await c.CtdbAsync(0, "getpid");
        var pidFile = await File.ReadAllTextAsync(Path.Combine(c.Dir, "node.0", "run", "ctdbd.pid"));
        Assert.Equal(pidFile.Trim(), pid.Stdout.Trim());
    }

    [Fact]
    public async Task KilledNodeIsDisconnectedThenRejoins()
    {
        await using var c = await ShCluster.StartAsync("127.0.102", 3);
        var leader = int.Parse((await c.CtdbAsync(0, "leader")).Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);

        // Kill the leader: the survivors must see it DISCONNECTED and agree on a new leader.
        Assert.Equal(0, (await c.ShAsync(["killnode", leader.ToString(System.Globalization.CultureInfo.InvariantCulture)])).ExitCode);
        var observer = (leader + 1) % 3;
        Assert.True(await Proc.WaitForAsync(async () =>
        {
            var rows = await c.NodeStatusAsync(observer);
            return rows is not null && rows[leader][3] == "1";
        }, TimeSpan.FromSeconds(30)), "killed node not shown DISCONNECTED");

        string? newLeader = null;
        Assert.True(await Proc.WaitForAsync(async () =>
        {
            var l = (await c.CtdbAsync(observer, "leader")).Stdout.Trim();
            newLeader = l;
            return l != leader.ToString(System.Globalization.CultureInfo.InvariantCulture) && l != "UNKNOWN" && l.Length > 0;
        }, TimeSpan.FromSeconds(30)), $"no new leader elected (last answer '{newLeader}')");

        // Every public address is hosted by a survivor.
        Assert.True(await Proc.WaitForAsync(async () =>
        {
            var ip = await c.CtdbAsync(observer, "-X", "ip");
            var rows = ip.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(r => r.Split('|')[2]).ToList();
            return rows.Count == 6 && rows.All(p => p != "-1" && p != leader.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }, TimeSpan.FromSeconds(30)), "public addresses did not move off the dead node");

        // Restart: the node comes back OK on every node's view.
        Assert.Equal(0, (await c.ShAsync(["startnode", leader.ToString(System.Globalization.CultureInfo.InvariantCulture)])).ExitCode);
        Assert.True(await Proc.WaitForAsync(async () => (await c.ShAsync(["wait", "5"], TimeSpan.FromSeconds(30))).ExitCode == 0,
            TimeSpan.FromSeconds(60)), "restarted node did not become OK");
    }

    [GeneratedRegex(@"^pnn:\d \S+\s+OK", RegexOptions.Multiline)]
    private static partial Regex OkLine();
}
