using System.Diagnostics;
using SharpCtdb.Tool;

namespace SharpCtdb.Interop.Tests;

/// <summary>
/// Our `ctdb` changes node states on our daemons exactly as Debian's does: disable/enable, stop/continue, ban/unban
/// against a 3-node SharpCTDB cluster (cluster.sh, 127.0.161.0/24). Each command of ours must return 0 with no output
/// well within its timeout; then every node's `-X nodestatus all` shows the new state, printed identically by both
/// tools; repeating a command (already in that state) gives the same output and exit code with both tools.
/// </summary>
public sealed class AdminToolInteropTests(ITestOutputHelper output)
{
    private const string Net = "127.0.161";
    private static readonly int[] All = [0, 1, 2];

    private static Dictionary<string, string> Env(ShCluster c, int pnn) => new()
    {
        ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin",
        ["CTDB_TEST_MODE"] = "yes",
        ["CTDB_BASE"] = Path.Combine(c.Dir, $"node.{pnn}"),
    };

    private static async Task<(RunResult Result, TimeSpan Took)> OursAsync(ShCluster c, int pnn, params string[] args)
    {
        var env = Env(c, pnn).ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
        using var o = new StringWriter();
        using var e = new StringWriter();
        var sw = Stopwatch.StartNew();
        var rc = await ToolProgram.RunAsync(args, env, o, e);
        return (new RunResult(rc, o.ToString(), e.ToString()), sw.Elapsed);
    }

    private static Task<RunResult> DebianAsync(ShCluster c, int pnn, params string[] args) =>
        Proc.RunAsync(Paths.DebianCtdb, args, Env(c, pnn), TimeSpan.FromSeconds(60));

    /// <summary>Flag columns 2.. of node <paramref name="target"/> in `ctdb -X nodestatus all` (our tool) on every node.</summary>
    private static async Task<bool> EveryNodeSeesAsync(ShCluster c, int target, string[] flags)
    {
        foreach (var v in All)
        {
            var (r, _) = await OursAsync(c, v, "-X", "nodestatus", "all");
            var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length < 2)
                return false;
            var header = lines[0].Split('|');
            var row = lines.Skip(1).Select(l => l.Split('|')).FirstOrDefault(f => f.Length == header.Length && f[1] == $"{target}");
            if (row is null)
                return false;
            var set = Enumerable.Range(3, header.Length - 3)
                .Where(i => row[i] == "1" && header[i] is not ("ThisNode" or "PartiallyOnline")).Select(i => header[i]);
            if (!set.ToHashSet().SetEquals(flags))
                return false;
        }
        return true;
    }

    [Fact]
    public async Task OurToolChangesNodeStatesLikeDebiansTool()
    {
        var c = await ShCluster.StartAsync(Net, 3);
        try
        {
            await RunStepsAsync(c);
        }
        finally
        {
            try
            {
                await c.DisposeAsync();
            }
            catch (TimeoutException e)
            {
                output.WriteLine($"cluster stop: {e.Message}"); // must not hide the test's own failure
            }
        }
    }

    private async Task RunStepsAsync(ShCluster c)
    {
        var (leaderRun, _) = await OursAsync(c, 0, "leader");
        Assert.Equal(0, leaderRun.ExitCode);
        var target = int.Parse(leaderRun.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture) == 1 ? 2 : 1;

        (string[] Args, string[] Flags)[] steps =
        [
            (["disable"], ["Disabled"]),
            (["enable"], []),
            (["stop"], ["Stopped", "Inactive"]),
            (["continue"], []),
            (["ban", "60"], ["Banned", "Inactive"]),
            (["unban"], []),
        ];
        foreach (var (args, flags) in steps)
        {
            var what = $"ctdb {string.Join(' ', args)} on node {target}";
            var (r, took) = await OursAsync(c, target, args);
            output.WriteLine($"{what} (ours): exit {r.ExitCode} after {took.TotalSeconds:F2} s");
            Assert.True(r.ExitCode == 0 && r.Stdout.Length == 0 && r.Stderr.Length == 0, $"{what}: exit {r.ExitCode}\n{r.Output}");
            // The tool waits for the state with -T (default 10 s) per attempt; far less is needed here.
            Assert.True(took < TimeSpan.FromSeconds(30), $"{what} took {took.TotalSeconds:F1} s");
            Assert.True(await Proc.WaitForAsync(() => EveryNodeSeesAsync(c, target, flags), TimeSpan.FromSeconds(30)),
                $"{what}: not every node shows [{string.Join(',', flags)}]");

            // Both tools print the same node table everywhere, and agree on a repeated command.
            foreach (var v in All)
            {
                var theirs = await DebianAsync(c, v, "-X", "nodestatus", "all");
                var (ours, _) = await OursAsync(c, v, "-X", "nodestatus", "all");
                Assert.True(theirs == ours, $"{what}: nodestatus on node {v}\nDebian: {theirs}\nours: {ours}");
            }
            if (args[0] is not "ban") // a repeated ban restarts its timer: nothing to compare
            {
                var again = await OursAsync(c, target, args);
                var theirsAgain = await DebianAsync(c, target, args);
                Assert.True(theirsAgain == again.Result, $"{what} again\nDebian: {theirsAgain}\nours: {again.Result}");
            }
        }
        await Proc.WaitForAsync(() => EveryNodeSeesAsync(c, target, []), TimeSpan.FromSeconds(30));
    }
}
