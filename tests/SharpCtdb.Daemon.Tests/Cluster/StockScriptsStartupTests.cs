namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>
/// 00.ctdb's startup event runs `ctdb attach ctdb.tdb persistent` (Debian's tool). This needs the daemon's
/// DB_ATTACH_PERSISTENT (databases work): until that is merged this test fails. 127.0.131.0/24, shared with the
/// other tests of the "events-131" collection (run one after another).
/// </summary>
[Collection("events-131")]
public sealed class StockScriptsStartupTests
{
    [Fact]
    public async Task StartupEventAttachesThePersistentCtdbDatabaseOnEveryNode()
    {
        await using var c = new TestCluster(3, "127.0.131");
        StockScripts.Install(c);
        c.StartAll();
        await c.WaitHealthyAsync([0, 1, 2], 3);
        for (var pnn = 0; pnn < 3; pnn++)
        {
            var node = pnn;
            var st = await StockScripts.EventStatusAsync(c, node, "startup");
            Assert.NotNull(st);
            Assert.All(StockScripts.Default, s => Assert.Equal("OK", st!.GetValueOrDefault(s)));
            await TestCluster.WaitUntilAsync(async () =>
            {
                var map = await c.CtdbAsync(node, "getdbmap");
                return map.ExitCode == 0 && map.Stdout.Split('\n').Any(l =>
                    l.Contains("name:ctdb.tdb ", StringComparison.Ordinal) && l.EndsWith("PERSISTENT", StringComparison.Ordinal));
            }, $"node {node}: ctdb.tdb attached persistent", TimeSpan.FromSeconds(30),
                async () => (await c.CtdbAsync(node, "getdbmap")).ToString());
            // `ctdb attach` printed nothing that the daemon had to log as script output.
            Assert.DoesNotContain(StockScripts.ScriptOutputLines(c, node), l => l.StartsWith("00.ctdb:", StringComparison.Ordinal));
        }
    }
}
