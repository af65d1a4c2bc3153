using System.Diagnostics;
using System.Text.RegularExpressions;

namespace SharpCtdb.Tool.Tests;

/// <summary>Runs read-only commands with Debian's 4.17 ctdb and with ours against the same real 3-node ctdbd cluster
/// (loopback 127.0.83.x) and compares the output; only pids and times are normalised.</summary>
public sealed partial class DifferentialTests
{
    private const string ClusterDir = "/tmp/sc-kdiff";
    private const string Net = "127.0.83";

    private static string ClusterScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SharpCtdb.slnx")))
            {
                var script = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "anchors", "ctdb-real", "cluster.sh"));
                if (!File.Exists(script))
                    Assert.Fail($"cluster.sh not found at {script}: the differential test needs ../shared/anchors next to the repository");
                return script;
            }
        }
        Assert.Fail("no SharpCtdb.slnx above the test directory: cannot locate ../shared/anchors/ctdb-real/cluster.sh");
        return "";
    }

    private static async Task<(int Rc, string Output)> Exec(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string?> env,
        TimeSpan limit)
    {
        var psi = new ProcessStartInfo("/usr/bin/setsid") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var a in new[] { "-w", "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", file }.Concat(args))
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in env)
            psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        using var cts = new CancellationTokenSource(limit);
        var output = await p.StandardOutput.ReadToEndAsync(cts.Token);
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, output);
    }

    private static readonly string[][] Commands =
    [
        ["status"], ["-X", "status"], ["nodestatus"], ["nodestatus", "all"], ["-X", "nodestatus", "all"], ["pnn"], ["ping"],
        ["uptime"], ["runstate"], ["getpid"], ["getcapabilities"], ["-X", "getcapabilities"], ["listvars"],
        ["getvar", "MonitorInterval"], ["getdebug"], ["leader"], ["ip"], ["ip", "all"], ["-X", "ip"], ["ip", "-v"],
        ["ipinfo", "198.51.100.1"], ["ifaces"], ["-X", "ifaces"], ["getreclock"], ["getdbmap"], ["-X", "getdbmap"], ["listnodes"],
        ["-X", "listnodes"], ["statistics"], ["-n", "1", "status"], ["-n", "2", "ip", "-v", "-X"], ["ipinfo", "10.9.9.9"],
        ["getvar", "NoSuchVar"], ["-n", "7", "pnn"],
    ];

    [GeneratedRegex(@"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}")]
    private static partial Regex CTime();

    [GeneratedRegex(@"\(\d{3} \d\d:\d\d:\d\d\)")]
    private static partial Regex Duration();

    [GeneratedRegex(@"\d+(\.\d+)?")]
    private static partial Regex Number();

    [GeneratedRegex(@" *\d+(\.\d+)?")]
    private static partial Regex PaddedNumber();

    private static string Normalise(string[] cmd, string output)
    {
        var name = cmd.First(c => !c.StartsWith('-') && !char.IsAsciiDigit(c[0]));
        output = CTime().Replace(output, "DATE");
        output = Duration().Replace(output, "(DURATION)");
        return name switch
        {
            "getpid" => Number().Replace(output, "PID"),
            "ping" => Regex.Replace(output, @"time=[0-9.]+", "time=T"),
            "uptime" => Regex.Replace(output, @"[0-9.]+ seconds", "S seconds"),
            // Counters move between the two runs (and are right-aligned, so a counter that gains a digit shifts its
            // padding); compare labels and order.
            "statistics" => PaddedNumber().Replace(output, " N"),
            _ => output,
        };
    }

    [Fact]
    public async Task ReadOnlyCommandsMatchTheRealTool()
    {
        var script = ClusterScript();
        var ct = TestContext.Current.CancellationToken;
        var clusterEnv = new Dictionary<string, string?>
        {
            ["CTDB_REAL_DIR"] = ClusterDir,
            ["CTDB_REAL_NET"] = Net,
            ["PATH"] = Environment.GetEnvironmentVariable("PATH"),
        };
        // A leftover cluster from an aborted run would make `start` refuse.
        await Exec(script, ["stop"], clusterEnv, TimeSpan.FromMinutes(2));
        if (Directory.Exists(ClusterDir))
            Directory.Delete(ClusterDir, recursive: true);
        try
        {
            var (rc, output) = await Exec(script, ["start", "3"], clusterEnv, TimeSpan.FromMinutes(3));
            Assert.True(rc == 0, $"cluster.sh start failed ({rc}):\n{output}");
            var env = new Dictionary<string, string?>
            {
                ["CTDB_TEST_MODE"] = "yes",
                ["CTDB_BASE"] = Path.Combine(ClusterDir, "node.0"),
                ["PATH"] = Environment.GetEnvironmentVariable("PATH"),
            };
            var differences = new List<string>();
            foreach (var cmd in Commands)
            {
                var real = await Exec("/usr/bin/ctdb", cmd, env, TimeSpan.FromSeconds(60));
                var ours = await InProcessTool.Invoke(cmd, env, ct);
                var r = Normalise(cmd, real.Output);
                var o = Normalise(cmd, ours.Output);
                if (real.Rc != ours.ExitCode || r != o)
                    differences.Add($"ctdb {string.Join(' ', cmd)}: real rc={real.Rc} ours rc={ours.ExitCode}\n--- real\n{r}--- ours\n{o}");
            }
            Assert.True(differences.Count == 0, string.Join("\n", differences));
        }
        finally
        {
            await Exec(script, ["stop"], clusterEnv, TimeSpan.FromMinutes(2));
        }
    }
}
