using System.Diagnostics;
using System.Text;
using SharpCtdb.TestSupport;

namespace SharpCtdb.Interop.Tests;

/// <summary>Result of a finished child process.</summary>
public sealed record RunResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;
}

/// <summary>Locations of the repository, the shared reference material and the programs under test.</summary>
public static class Paths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The anchors next to the repository (../shared); the tests need them and fail loudly without.</summary>
    public static string ClusterSh
    {
        get
        {
            var p = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "anchors", "ctdb-real", "cluster.sh"));
            Assert.True(File.Exists(p), $"cluster harness not found at {p}: the tests need ../shared beside the repository");
            return p;
        }
    }

    /// <summary>Our ctdbd as built next to this test assembly (a project reference).</summary>
    public static string OurCtdbd
    {
        get
        {
            var p = Path.Combine(AppContext.BaseDirectory, "ctdbd");
            Assert.True(File.Exists(p), $"ctdbd not built at {p}");
            return p;
        }
    }

    public const string DebianCtdb = "/usr/bin/ctdb";

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "SharpCtdb.slnx")))
                return d.FullName;
        }
        throw new InvalidOperationException("repository root (SharpCtdb.slnx) not found above " + AppContext.BaseDirectory);
    }
}

public static class Proc
{
    public static async Task<RunResult> RunAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null,
        TimeSpan? timeout = null)
    {
        var argv = args.ToList();
        var r = await ChildProcess.RunAsync(file, argv, env?.ToDictionary(kv => kv.Key, kv => (string?)kv.Value), timeout: timeout);
        if (r.TimedOut)
            throw new TimeoutException($"{file} {string.Join(' ', argv)} did not finish within {timeout}");
        return new RunResult(r.ExitCode, r.Stdout, r.Stderr);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static async Task<bool> WaitForAsync(Func<Task<bool>> condition, TimeSpan deadline, TimeSpan? interval = null)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < deadline)
        {
            if (await condition())
                return true;
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(50));
        }
        return await condition();
    }
}

/// <summary>
/// A cluster started by ../shared/anchors/ctdb-real/cluster.sh — the same harness that produced Samba's
/// figures — with our ctdbd (CTDBD=) or Samba's. Always stopped on dispose.
/// </summary>
public sealed class ShCluster : IAsyncDisposable
{
    private readonly Dictionary<string, string> _env;

    private ShCluster(string dir, string net, string ctdbd, int nodes)
    {
        Dir = dir;
        Net = net;
        Nodes = nodes;
        _env = new Dictionary<string, string>
        {
            ["CTDB_REAL_DIR"] = dir,
            ["CTDB_REAL_NET"] = net,
            ["CTDBD"] = ctdbd,
        };
    }

    public string Dir { get; }
    public string Net { get; }
    public int Nodes { get; }

    public static async Task<ShCluster> StartAsync(string net, int nodes, string? ctdbd = null, string? tunables = null)
    {
        var dir = $"/tmp/sc-io-{net.Replace('.', '-')}-{Environment.ProcessId}";
        var c = new ShCluster(dir, net, ctdbd ?? Paths.OurCtdbd, nodes);
        if (tunables is not null)
            c._env["CTDB_REAL_TUNABLES"] = tunables;
        await c.ShAsync(["stop"]);
        var r = await c.ShAsync(["start", nodes.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(150));
        if (r.ExitCode != 0)
        {
            var logs = new StringBuilder();
            for (var i = 0; i < nodes; i++)
            {
                var log = Path.Combine(dir, $"node.{i}", "log.ctdb");
                if (File.Exists(log))
                    logs.AppendLine($"--- node {i} log tail ---").AppendLine(string.Join('\n', File.ReadLines(log).TakeLast(15)));
            }
            await c.DisposeAsync();
            Assert.Fail($"cluster.sh start failed ({r.ExitCode}): {r.Output}\n{logs}");
        }
        return c;
    }

    public Task<RunResult> ShAsync(IEnumerable<string> args, TimeSpan? timeout = null) =>
        Proc.RunAsync(Paths.ClusterSh, args, _env, timeout);

    /// <summary>Debian's real ctdb tool against node <paramref name="pnn"/>.</summary>
    public Task<RunResult> CtdbAsync(int pnn, params string[] args) =>
        ShAsync(new[] { "ctdb", pnn.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(args), TimeSpan.FromSeconds(60));

    /// <summary>Rows of `ctdb -X nodestatus all` as seen from <paramref name="pnn"/>: pnn → flag columns.</summary>
    public async Task<Dictionary<int, string[]>?> NodeStatusAsync(int pnn)
    {
        var r = await CtdbAsync(pnn, "-X", "nodestatus", "all");
        var rows = new Dictionary<int, string[]>();
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('|');
            if (f.Length > 3 && int.TryParse(f[1], out var n))
                rows[n] = f;
        }
        return rows.Count == 0 ? null : rows;
    }

    /// <summary>
    /// cluster.sh wait (every node OK, recovery mode NORMAL, every address hosted); on time-out fails with what each
    /// node reports and the tail of its log, so a CI failure can be explained from its output alone.
    /// </summary>
    public async Task WaitHealthyAsync(int seconds)
    {
        var r = await ShAsync(["wait", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(seconds + 10));
        if (r.ExitCode == 0)
            return;
        var report = new StringBuilder($"cluster not healthy after {seconds} s: {r.Output}\n");
        for (var i = 0; i < Nodes; i++)
        {
            report.AppendLine($"--- node {i}: ctdb status / ip ---");
            report.AppendLine((await CtdbAsync(i, "status")).Output).AppendLine((await CtdbAsync(i, "ip")).Output);
            var log = Path.Combine(Dir, $"node.{i}", "log.ctdb");
            if (File.Exists(log))
                report.AppendLine($"--- node {i} log tail ---").AppendLine(string.Join('\n', File.ReadLines(log).TakeLast(40)));
        }
        Assert.Fail(report.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await ShAsync(["stop"], TimeSpan.FromSeconds(90));
    }
}
