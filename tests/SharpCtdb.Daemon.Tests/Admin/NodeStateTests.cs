using System.Diagnostics;
using System.Text.RegularExpressions;
using SharpCtdb.Client;
using SharpCtdb.Daemon.Tests.Cluster;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Tests.Admin;

/// <summary>
/// disable/enable, stop/continue, ban/unban (also timed and with EnableBans=0), statistics and debug levels, driven by
/// Debian's real `ctdb` against three of our daemons on 127.0.125.0/24 (public addresses 127.0.125.101–106).
/// Every state change is checked in every node's `ctdb status`, in the leader and in `ctdb ip` ownership.
/// </summary>
public sealed partial class NodeStateTests(ITestOutputHelper output)
{
    private const string Net = "127.0.125";
    private static readonly int[] All = [0, 1, 2];

    [Fact]
    public async Task DisableEnableStopContinueMoveAddressesAndTheLeader()
    {
        await using var c = AdminKit.Create(3, Net);
        c.StartAll();
        await c.WaitHealthyAsync(All, 3);
        var leader = await AdminKit.AgreedLeaderAsync(c, All);
        var other = (leader + 1) % 3;

        // --- disable a non-leader: DISABLED everywhere, its addresses move, the leader stays ---
        var r = await AdminKit.OkAsync(c, other, "disable");
        output.WriteLine($"ctdb disable returned after {r.Elapsed.TotalSeconds:F2} s");
        var sw = Stopwatch.StartNew();
        await TestCluster.WaitUntilAsync(() => AdminKit.AllSeeAsync(c, All, other, "Disabled"), "node DISABLED everywhere",
            TimeSpan.FromSeconds(30), c.DescribeAsync);
        await AdminKit.WaitOwnersAsync(c, All, 6, o => !o.Contains(other), "addresses off the disabled node");
        output.WriteLine($"disable -> addresses moved (after the tool returned): {sw.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(leader, await AdminKit.AgreedLeaderAsync(c, All));

        r = await AdminKit.OkAsync(c, other, "enable");
        output.WriteLine($"ctdb enable returned after {r.Elapsed.TotalSeconds:F2} s");
        await TestCluster.WaitUntilAsync(() => AdminKit.AllSeeAsync(c, All, other), "node OK everywhere after enable",
            TimeSpan.FromSeconds(30), c.DescribeAsync);
        await AdminKit.WaitOwnersAsync(c, All, 6, o => o.Contains(other), "the enabled node hosts addresses again");

        // --- stop the leader: STOPPED everywhere, a new leader, addresses off it, its own recovery mode ACTIVE ---
        r = await AdminKit.OkAsync(c, leader, "stop");
        output.WriteLine($"ctdb stop (leader) returned after {r.Elapsed.TotalSeconds:F2} s");
        sw.Restart();
        await TestCluster.WaitUntilAsync(() => AdminKit.AllSeeAsync(c, All, leader, "Stopped", "Inactive"), "leader STOPPED everywhere",
            TimeSpan.FromSeconds(30), c.DescribeAsync);
        var newLeader = await AdminKit.AgreedLeaderAsync(c, All, l => l != leader);
        output.WriteLine($"stop leader -> new leader {newLeader}: {sw.Elapsed.TotalSeconds:F2} s");
        await AdminKit.WaitOwnersAsync(c, All, 6, o => !o.Contains(leader), "addresses off the stopped node");
        var st = await AdminKit.OkAsync(c, leader, "status");
        Assert.Contains("Recovery mode:RECOVERY (1)", st.Stdout);
        Assert.Contains("Generation:INVALID", st.Stdout);
        // The recovery that follows builds the vnnmap from the active nodes only.
        await TestCluster.WaitUntilAsync(async () =>
        {
            var s = await c.CtdbAsync(newLeader, "status");
            return s.ExitCode == 0 && s.Stdout.Contains("Size:2", StringComparison.Ordinal)
                && !s.Stdout.Contains($"lmaster:{leader}\n", StringComparison.Ordinal);
        }, "vnnmap without the stopped node", TimeSpan.FromSeconds(30), c.DescribeAsync);

        r = await AdminKit.OkAsync(c, leader, "continue");
        output.WriteLine($"ctdb continue returned after {r.Elapsed.TotalSeconds:F2} s");
        await c.WaitHealthyAsync(All, 3);
        Assert.Equal(newLeader, await AdminKit.AgreedLeaderAsync(c, All));
        var vnn = await AdminKit.OkAsync(c, newLeader, "status");
        Assert.Contains("Size:3", vnn.Stdout);
        Assert.Contains("Recovery mode:NORMAL (0)", (await AdminKit.OkAsync(c, leader, "status")).Stdout);
    }

    [Fact]
    public async Task BansMoveTheLeaderExpireOnTimeAndCanBeTurnedOff()
    {
        await using var c = AdminKit.Create(3, Net);
        c.StartAll();
        await c.WaitHealthyAsync(All, 3);
        var leader = await AdminKit.AgreedLeaderAsync(c, All);

        // --- ban the leader: BANNED everywhere, a new leader, addresses released, the banned node in recovery ---
        var r = await AdminKit.OkAsync(c, leader, "ban", "300");
        output.WriteLine($"ctdb ban returned after {r.Elapsed.TotalSeconds:F2} s");
        var sw = Stopwatch.StartNew();
        await TestCluster.WaitUntilAsync(() => AdminKit.AllSeeAsync(c, All, leader, "Banned", "Inactive"), "leader BANNED everywhere",
            TimeSpan.FromSeconds(30), c.DescribeAsync);
        var newLeader = await AdminKit.AgreedLeaderAsync(c, All, l => l != leader);
        output.WriteLine($"ban leader -> new leader {newLeader}: {sw.Elapsed.TotalSeconds:F2} s");
        await AdminKit.WaitOwnersAsync(c, All, 6, o => !o.Contains(leader), "addresses off the banned node");
        Assert.Contains("Recovery mode:RECOVERY (1)", (await AdminKit.OkAsync(c, leader, "status")).Stdout);
        Assert.Contains("Banning this node for 300 seconds", AdminKit.Log(c, leader));
        var banstate = await AdminKit.OkAsync(c, leader, "getcapabilities");
        Assert.Contains("LEADER: YES", banstate.Stdout); // a ban does not touch capabilities

        await AdminKit.OkAsync(c, leader, "unban");
        await c.WaitHealthyAsync(All, 3);
        Assert.Equal(newLeader, await AdminKit.AgreedLeaderAsync(c, All));

        // --- a timed ban expires on time and the node comes back ---
        var victim = (newLeader + 1) % 3;
        sw.Restart();
        // The tool returns once it has seen BANNED (and a takeover run); on a loaded machine the 3 s may be over by then.
        await AdminKit.OkAsync(c, victim, "ban", "3");
        await TestCluster.WaitUntilAsync(() => AdminKit.AllSeeAsync(c, All, victim), "ban expired, node OK everywhere",
            TimeSpan.FromSeconds(30), c.DescribeAsync);
        var expiry = sw.Elapsed;
        var victimLog = AdminKit.Log(c, victim);
        Assert.Contains("Banning this node for 3 seconds", victimLog);
        Assert.Contains("Banning timed out", victimLog);
        var banned = LogTime(victimLog, "Banning this node for 3 seconds");
        var unbanned = LogTime(victimLog, "Banning timed out");
        output.WriteLine($"ban 3 s: daemon log ban -> expiry {(unbanned - banned).TotalSeconds:F3} s; tool start -> OK everywhere {expiry.TotalSeconds:F2} s");
        Assert.InRange((unbanned - banned).TotalSeconds, 2.9, 10);
        await c.WaitHealthyAsync(All, 3);

        // --- EnableBans=0: a ban is ignored (the real tool would wait for BANNED forever, with 4.17 too: send the control) ---
        await AdminKit.OkAsync(c, victim, "setvar", "EnableBans", "0");
        var ct = TestContext.Current.CancellationToken;
        await using (var client = await CtdbClient.ConnectAsync(c.SocketPath(victim), ct))
        {
            var reply = await client.ControlAsync((uint)victim, ControlOpcode.SetBanState,
                new BanState((uint)victim, 100).ToBytes(), TimeSpan.FromSeconds(30), ct: ct);
            Assert.Equal(0, reply.Status);
        }
        Assert.Contains("Bans are disabled", AdminKit.Log(c, victim));
        var flags = await AdminKit.FlagsSeenByAsync(c, victim);
        Assert.NotNull(flags);
        Assert.Empty(flags[victim]);
        var gb = await AdminKit.OkAsync(c, victim, "-X", "nodestatus");
        Assert.Contains("|0|0|0|0|0|0|", gb.Stdout);
    }

    private static DateTimeOffset LogTime(string log, string what)
    {
        var line = log.Split('\n').Last(l => l.Contains(what, StringComparison.Ordinal));
        return DateTimeOffset.Parse(line[..line.IndexOf(' ', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;

    [Fact]
    public async Task CreditBansLastRecoveryBanPeriodAndEnableBansZeroTurnsThemOff()
    {
        await using var c = AdminKit.Create(3, Net);
        var failFlag = Path.Combine(c.Dir, "takeip.fails");
        File.WriteAllText(failFlag, "");
        for (var pnn = 0; pnn < 3; pnn++)
            File.WriteAllText(Path.Combine(c.NodeBase(pnn), "ctdb.tunables"), "RecoveryBanPeriod=4\n");
        AdminKit.WriteExecutable(Path.Combine(c.NodeBase(2), "events", "legacy", "10.badip.script"), $"""
            #!/bin/sh
            [ "$1" = "takeip" ] && [ -e {failFlag} ] && echo "cannot add $3" && exit 1
            exit 0

            """);
        c.StartAll();
        await TestCluster.WaitUntilAsync(() => AdminKit.AllSeeAsync(c, [0, 1], 2, "Banned", "Inactive"),
            "node 2 banned for failing takeip", TimeSpan.FromSeconds(60), c.DescribeAsync);
        var sw = Stopwatch.StartNew();
        File.Delete(failFlag);
        Assert.Contains("Banning this node for 4 seconds", AdminKit.Log(c, 2));
        await c.WaitHealthyAsync(All, 3);
        await AdminKit.WaitOwnersAsync(c, All, 6, o => o.Contains(2), "node 2 hosts addresses after its ban");
        output.WriteLine($"credit ban (RecoveryBanPeriod=4) -> node back and hosting: {sw.Elapsed.TotalSeconds:F2} s after it was seen banned");
        Assert.Contains("Banning timed out", AdminKit.Log(c, 2));

        // --- EnableBans=0 everywhere: the same failures no longer ban ---
        for (var pnn = 0; pnn < 3; pnn++)
            await AdminKit.OkAsync(c, pnn, "setvar", "EnableBans", "0");
        string Logs() => string.Concat(All.Select(p => AdminKit.Log(c, p)));
        var failedBefore = Count(Logs(), "Takeover run unsuccessful");
        var bansBefore = Count(AdminKit.Log(c, 2), "Banning this node");
        File.WriteAllText(failFlag, "");
        await AdminKit.OkAsync(c, 2, "disable");
        // The takeover runs that give node 2 its addresses back fail now, so the tool reports failure (exit 1).
        Assert.Equal(1, (await c.CtdbAsync(2, "enable")).ExitCode);
        await TestCluster.WaitUntilAsync(() => Task.FromResult(Count(Logs(), "Takeover run unsuccessful") >= failedBefore + 3),
            "three more failed takeover runs", TimeSpan.FromSeconds(60), c.DescribeAsync);
        Assert.Equal(bansBefore, Count(AdminKit.Log(c, 2), "Banning this node"));
        Assert.True(await AdminKit.AllSeeAsync(c, All, 2), "node 2 was banned with EnableBans=0");
        File.Delete(failFlag);
    }

    [GeneratedRegex(@"^\s*(\S+)\s+(\d+)$", RegexOptions.Multiline)]
    private static partial Regex CounterLine();

    private static Dictionary<string, long> Counters(string statistics)
    {
        var d = new Dictionary<string, long>();
        string? section = null;
        foreach (var line in statistics.Split('\n'))
        {
            var m = CounterLine().Match(line);
            if (!m.Success)
            {
                var t = line.Trim();
                if (t is "node" or "client" or "timeouts" or "locks")
                    section = t;
                continue;
            }
            var indented = line.StartsWith("     ", StringComparison.Ordinal);
            d[indented && section is not null ? $"{section}.{m.Groups[1].Value}" : m.Groups[1].Value] = long.Parse(m.Groups[2].Value);
        }
        return d;
    }

    [Fact]
    public async Task StatisticsCountPacketsAndResetAndDebugLevelsChange()
    {
        await using var c = AdminKit.Create(3, Net);
        c.StartAll();
        await c.WaitHealthyAsync(All, 3);

        var r = await AdminKit.OkAsync(c, 0, "statistics");
        Assert.StartsWith("CTDB version 1", r.Stdout);
        var s = Counters(r.Stdout);
        output.WriteLine(r.Stdout);
        Assert.True(s["num_clients"] >= 1, r.Stdout);
        Assert.True(s["num_recoveries"] >= 1, r.Stdout);
        Assert.True(s["node_packets_recv"] > 0 && s["node_packets_sent"] > 0, r.Stdout);
        Assert.True(s["client_packets_recv"] > 0 && s["client_packets_sent"] > 0, r.Stdout);
        Assert.True(s["node.req_control"] > 0 && s["node.reply_control"] > 0 && s["node.req_message"] > 0, r.Stdout);
        Assert.True(s["client.req_control"] > 0, r.Stdout);
        Assert.Equal(0, s["node.req_call"]);
        Assert.Equal(0, s["total_calls"]);

        // Keepalives both ways (every KeepaliveInterval = 5 s), and record calls: a key written on node 0 and read on
        // node 1 migrates with a client REQ_CALL on node 1 that is answered (total_calls, call_latency, hop counts).
        await TestCluster.WaitUntilAsync(async () =>
        {
            var k = Counters((await AdminKit.OkAsync(c, 0, "statistics")).Stdout);
            return k["keepalive_packets_sent"] > 0 && k["keepalive_packets_recv"] > 0;
        }, "keepalives counted", TimeSpan.FromSeconds(60), c.DescribeAsync);
        await AdminKit.OkAsync(c, 0, "attach", "stats.tdb");
        await AdminKit.OkAsync(c, 0, "writekey", "stats.tdb", "k", "v");
        Assert.Contains("Data: size:1 ptr:[v]", (await AdminKit.OkAsync(c, 1, "readkey", "stats.tdb", "k")).Stdout);
        var calls = await AdminKit.OkAsync(c, 1, "statistics");
        var cs = Counters(calls.Stdout);
        Assert.True(cs["total_calls"] >= 1 && cs["pending_calls"] == 0 && cs["client.req_call"] >= 1, calls.Stdout);
        Assert.Matches(@"call_latency       MIN/AVG/MAX     [0-9.]+/[0-9.]+/[0-9.]+ sec out of [1-9]", calls.Stdout);
        // Node 0 (dmaster since its writekey) served node 1's REQ_CALL.
        var served = (await AdminKit.OkAsync(c, 0, "statistics")).Stdout;
        Assert.Matches(@"hop_count_buckets:( \d+)*( [1-9]\d*)", served);

        await AdminKit.OkAsync(c, 0, "statisticsreset");
        r = await AdminKit.OkAsync(c, 0, "statistics");
        var after = Counters(r.Stdout);
        // Only this tool run's own packets are left (GET_PNN, REGISTER_SRVID, STATISTICS...), far fewer than before.
        Assert.True(after["client.req_control"] < s["client.req_control"], r.Stdout);
        Assert.True(after["client.req_control"] <= 10, r.Stdout);
        Assert.Matches(@"Statistics collected since  : \(000 00:00:0\d\)", r.Stdout);
        Assert.Equal(0, after["num_recoveries"]);

        // Rolling history: one entry per StatHistoryInterval (1 s).
        await TestCluster.WaitUntilAsync(async () => (await c.CtdbAsync(0, "stats", "2")).Stdout.Contains("Statistics collected since", StringComparison.Ordinal),
            "stat history has entries", TimeSpan.FromSeconds(30));

        var up = await AdminKit.OkAsync(c, 1, "uptime");
        Assert.Contains("Current time of node", up.Stdout);
        Assert.Contains("Ctdbd start time", up.Stdout);
        Assert.Contains("Time of last recovery/failover", up.Stdout);

        Assert.Equal("NOTICE", (await AdminKit.OkAsync(c, 1, "getdebug")).Stdout.Trim());
        await AdminKit.OkAsync(c, 1, "setdebug", "INFO");
        Assert.Equal("INFO", (await AdminKit.OkAsync(c, 1, "getdebug")).Stdout.Trim());
        await AdminKit.OkAsync(c, 1, "statisticsreset"); // logs "Statistics reset" at INFO
        await TestCluster.WaitUntilAsync(() => Task.FromResult(AdminKit.Log(c, 1).Contains("]: Statistics reset", StringComparison.Ordinal)),
            "INFO lines logged after setdebug INFO", TimeSpan.FromSeconds(10));
        await AdminKit.OkAsync(c, 1, "setdebug", "ERROR");
        Assert.Equal("ERROR", (await AdminKit.OkAsync(c, 1, "getdebug")).Stdout.Trim());
        await AdminKit.OkAsync(c, 1, "statisticsreset");
        await AdminKit.OkAsync(c, 1, "setdebug", "NOTICE");
        Assert.Single(Regex.Matches(AdminKit.Log(c, 1), "Statistics reset"));
        // Other nodes are unaffected.
        Assert.Equal("NOTICE", (await AdminKit.OkAsync(c, 2, "getdebug")).Stdout.Trim());
    }
}
