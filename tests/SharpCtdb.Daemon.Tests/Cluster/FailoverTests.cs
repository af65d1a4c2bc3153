using System.Diagnostics;

namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>SIGKILL of nodes in a 3-node cluster on 127.0.96.0/24, observed with the real tool.</summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private static async Task<int?> LeaderSeenByAsync(TestCluster c, int pnn)
    {
        var r = await c.CtdbAsync(pnn, "-t", "3", "leader");
        return r.ExitCode == 0 && int.TryParse(r.Stdout.Trim(), out var l) ? l : null;
    }

    private static async Task<Dictionary<string, int>> OwnersAsync(TestCluster c, int pnn)
    {
        var r = await c.CtdbAsync(pnn, "ip", "all");
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(' ')).Where(f => f.Length == 2).ToDictionary(f => f[0], f => int.Parse(f[1]));
    }

    [Fact]
    public async Task KilledNodesAreNoticedAddressesMoveAndLeaderIsReelected()
    {
        await using var c = new TestCluster(3, "127.0.96");
        var sw = Stopwatch.StartNew();
        c.StartAll();
        await c.WaitHealthyAsync([0, 1, 2], 3);
        output.WriteLine($"launch -> all OK: {sw.Elapsed.TotalSeconds:F2} s");

        var leader = await LeaderSeenByAsync(c, 0);
        Assert.NotNull(leader);
        var victim = (leader.Value + 1) % 3;
        var survivor = (leader.Value + 2) % 3;
        var before = await OwnersAsync(c, survivor);
        Assert.Contains(victim, before.Values);

        // --- SIGKILL a non-leader ---
        c.Kill(victim);
        sw.Restart();
        await TestCluster.WaitUntilAsync(async () =>
        {
            var rows = TestCluster.ParseMachineStatus((await c.CtdbAsync(survivor, "-X", "nodestatus", "all")).Stdout);
            return rows.TryGetValue(victim, out var f) && f[3] == "1";
        }, "victim DISCONNECTED", describe: c.DescribeAsync);
        output.WriteLine($"kill non-leader -> DISCONNECTED: {sw.Elapsed.TotalSeconds:F2} s");
        var st = await c.CtdbAsync(leader.Value, "nodestatus", (victim).ToString());
        Assert.Contains("DISCONNECTED|UNHEALTHY|INACTIVE", st.Stdout);
        await TestCluster.WaitUntilAsync(async () =>
        {
            var owners = await OwnersAsync(c, survivor);
            return owners.Count == 6 && owners.Values.All(o => o >= 0 && o != victim);
        }, "victim's addresses hosted elsewhere", describe: c.DescribeAsync);
        output.WriteLine($"kill non-leader -> addresses moved: {sw.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(leader, await LeaderSeenByAsync(c, survivor));

        // --- restart it: OK again, leader unchanged ---
        sw.Restart();
        c.StartNode(victim);
        await c.WaitHealthyAsync([0, 1, 2], 3);
        output.WriteLine($"restart -> all OK: {sw.Elapsed.TotalSeconds:F2} s");
        for (var i = 0; i < 3; i++)
            Assert.Equal(leader, await LeaderSeenByAsync(c, i));

        // --- SIGKILL the leader ---
        c.Kill(leader.Value);
        sw.Restart();
        int? newLeader = null;
        await TestCluster.WaitUntilAsync(async () =>
        {
            var a = await LeaderSeenByAsync(c, victim);
            var b = await LeaderSeenByAsync(c, survivor);
            newLeader = a;
            return a is not null && a == b && a != leader;
        }, "a new leader", describe: c.DescribeAsync);
        var reelect = sw.Elapsed;
        output.WriteLine($"kill leader -> new leader {newLeader}: {reelect.TotalSeconds:F2} s");
        Assert.True(reelect < TimeSpan.FromSeconds(5), $"re-election took {reelect.TotalSeconds:F2} s");
        await TestCluster.WaitUntilAsync(async () =>
        {
            var owners = await OwnersAsync(c, survivor);
            return owners.Count == 6 && owners.Values.All(o => o >= 0 && o != leader);
        }, "old leader's addresses hosted elsewhere", describe: c.DescribeAsync);
        output.WriteLine($"kill leader -> addresses moved: {sw.Elapsed.TotalSeconds:F2} s");

        c.StartNode(leader.Value);
        await c.WaitHealthyAsync([0, 1, 2], 3);
        for (var i = 0; i < 3; i++)
            Assert.Equal(newLeader, await LeaderSeenByAsync(c, i));
    }
}
