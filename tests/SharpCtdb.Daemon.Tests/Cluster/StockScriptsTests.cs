using System.Diagnostics;

namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>
/// Debian's stock 00.ctdb, 01.reclock and 05.system scripts (with Debian's functions and script.options) under our
/// daemon on a 3-node cluster on 127.0.130.0/24, observed with Debian's tool.
/// </summary>
[Collection("events-130")]
public sealed class StockScriptsTests(ITestOutputHelper output)
{
    private const string Net = "127.0.130";
    private static readonly string[] DaemonEvents = ["init", "setup", "startup", "startrecovery", "recovered", "ipreallocated", "monitor"];

    private static async Task<bool> AllOkAsync(TestCluster c, int pnn, string eventName)
    {
        var st = await StockScripts.EventStatusAsync(c, pnn, eventName);
        return st is not null && StockScripts.Default.All(s => st.GetValueOrDefault(s) == "OK");
    }

    private static async Task<string?> FlagsOfAsync(TestCluster c, int from, int pnn)
    {
        var st = await c.CtdbAsync(from, "status");
        var line = st.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith($"pnn:{pnn} ", StringComparison.Ordinal));
        return line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2);
    }

    private static async Task<bool> AllSeeAsync(TestCluster c, int pnn, string flags)
    {
        for (var i = 0; i < c.NodeCount; i++)
        {
            if (await FlagsOfAsync(c, i, pnn) != flags)
                return false;
        }
        return true;
    }

    // 00.ctdb's startup runs `ctdb attach ctdb.tdb persistent`, which fails (and the script ignores) until the
    // daemon serves DB_ATTACH_PERSISTENT; StockScriptsStartupTests covers the attach itself.
    private static bool Expected(string line) => line.StartsWith("00.ctdb: attach", StringComparison.Ordinal);

    [Fact]
    public async Task EveryEventRunsTheStockScriptsWithoutErrorsAndSystemThresholdsDecideHealth()
    {
        await using var c = new TestCluster(3, Net);
        StockScripts.Install(c);
        for (var pnn = 0; pnn < 3; pnn++)
            File.WriteAllText(Path.Combine(c.NodeBase(pnn), "ctdb.tunables"), "MonitorInterval=2\nEventScriptTimeout=20\n");
        c.StartAll();
        await c.WaitHealthyAsync([0, 1, 2], 3);

        // Every event the daemon ran by itself: all three scripts OK on every node.
        for (var pnn = 0; pnn < 3; pnn++)
        {
            foreach (var e in DaemonEvents)
            {
                var node = pnn;
                await TestCluster.WaitUntilAsync(() => AllOkAsync(c, node, e), $"node {node}: {e} OK for every stock script",
                    TimeSpan.FromSeconds(30), async () => (await c.CtdbAsync(node, "event", "status", "legacy", e)).ToString());
            }
        }

        // The events only an IP move or an admin sends, with 4.17's exact arguments, through Debian's `ctdb event run`.
        string[][] manual =
        [
            ["takeip", "lo", "198.51.100.200", "24"],
            ["updateip", "lo", "lo", "198.51.100.200", "24"],
            ["releaseip", "lo", "198.51.100.200", "24"],
            ["shutdown"],
        ];
        foreach (var m in manual)
        {
            var r = await c.CtdbAsync(0, ["event", "run", "30", "legacy", .. m]);
            Assert.True(r.ExitCode == 0, $"event run {m[0]}: {r}");
            Assert.True(await AllOkAsync(c, 0, m[0]), (await c.CtdbAsync(0, "event", "status", "legacy", m[0])).ToString());
        }

        // What 00.ctdb and 05.system asked of ctdb-config (via Debian's helper) landed in each node's own state dir.
        for (var pnn = 0; pnn < 3; pnn++)
        {
            var cache = File.ReadAllText(Path.Combine(StockScripts.ScriptVarDir(c, pnn), "db_options.cache"));
            Assert.Contains($"CTDB_DBDIR_PERSISTENT=\"{c.NodeBase(pnn)}/db/persistent\"", cache);
            Assert.True(Directory.Exists(Path.Combine(StockScripts.ScriptVarDir(c, pnn), "service", "system-monitoring")));
        }

        for (var pnn = 0; pnn < 3; pnn++)
        {
            var unexpected = StockScripts.ScriptOutputLines(c, pnn).Where(l => !Expected(l)).ToList();
            Assert.True(unexpected.Count == 0, $"node {pnn} script output: " + string.Join('\n', unexpected));
        }

        // 05.system's thresholds (node 1's 05.system.options) decide its health. Warning only: a warning, still OK.
        var options = Path.Combine(c.NodeBase(1), "events", "legacy", "05.system.options");
        File.WriteAllText(options, "CTDB_MONITOR_MEMORY_USAGE=0\n");
        await TestCluster.WaitUntilAsync(
            () => Task.FromResult(StockScripts.ScriptOutputLines(c, 1).Any(l => l.StartsWith("05.system: WARNING: System memory utilization", StringComparison.Ordinal))),
            "05.system memory warning logged", TimeSpan.FromSeconds(30));
        Assert.Equal("OK", await FlagsOfAsync(c, 0, 1));

        // Unhealthy threshold 0 % on the node's own directory: any usage breaches it.
        File.WriteAllText(options, $"CTDB_MONITOR_FILESYSTEM_USAGE=\"{c.Dir}:90:0\"\n");
        var sw = Stopwatch.StartNew();
        await TestCluster.WaitUntilAsync(() => AllSeeAsync(c, 1, "UNHEALTHY"), "node 1 UNHEALTHY on every node",
            TimeSpan.FromSeconds(40), c.DescribeAsync);
        output.WriteLine($"threshold breach -> UNHEALTHY everywhere: {sw.Elapsed.TotalSeconds:F2} s");
        Assert.Equal("OK", await FlagsOfAsync(c, 1, 0));
        var status = await c.CtdbAsync(1, "scriptstatus");
        Assert.Matches(@"05\.system\s+ERROR ", status.Stdout);
        Assert.Matches($@"  OUTPUT: ERROR: Filesystem {System.Text.RegularExpressions.Regex.Escape(c.Dir)} utilization \d+% >= threshold 0%", status.Stdout);

        // Cleared: the next monitor passes and the node is OK again everywhere.
        File.Delete(options);
        sw.Restart();
        await TestCluster.WaitUntilAsync(() => AllSeeAsync(c, 1, "OK"), "node 1 OK again on every node",
            TimeSpan.FromSeconds(40), c.DescribeAsync);
        output.WriteLine($"threshold cleared -> OK everywhere: {sw.Elapsed.TotalSeconds:F2} s");
        Assert.True(await AllOkAsync(c, 1, "monitor"));

        // A clean shutdown runs the shutdown event and exits 0.
        var pid = c.Pid(2)!.Value;
        var sd = await c.CtdbAsync(2, "shutdown");
        Assert.Equal(0, sd.ExitCode);
        await TestCluster.WaitUntilAsync(() => Task.FromResult(c.Pid(2) is null), "node 2 exits after `ctdb shutdown`", TimeSpan.FromSeconds(30));
        output.WriteLine($"node 2 (pid {pid}) shut down");

        // Nothing printed by the shutdown and later events either (node 1 printed its threshold messages).
        foreach (var pnn in new[] { 0, 2 })
        {
            var unexpected = StockScripts.ScriptOutputLines(c, pnn).Where(l => !Expected(l)).ToList();
            Assert.True(unexpected.Count == 0, $"node {pnn} script output: " + string.Join('\n', unexpected));
        }
    }
}
