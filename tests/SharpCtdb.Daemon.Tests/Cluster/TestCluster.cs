using System.Diagnostics;
using System.Globalization;
using System.Text;
using SharpCtdb.TestSupport;

namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>Result of one run of Debian's real /usr/bin/ctdb.</summary>
public sealed record ToolResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// N real ctdbd processes (our build, run with -i in test mode) on loopback addresses NET.1..NET.N, each with
/// its own CTDB_BASE under /tmp/sc-d2-*, a shared cluster lock file and two fake public addresses per node.
/// Always kills its processes (by pid) and removes its directory on dispose.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    public const string CtdbTool = "/usr/bin/ctdb";
    private readonly Process?[] _daemons;
    private readonly StringBuilder _diag = new();

    public TestCluster(int nodes, string net, int ipsPerNode = 2, string? extraClusterConf = null)
    {
        Net = net;
        NodeCount = nodes;
        Dir = Path.Combine("/tmp", "sc-d2-" + Guid.NewGuid().ToString("N")[..8]);
        _daemons = new Process?[nodes];
        Directory.CreateDirectory(Path.Combine(Dir, "shared"));
        var nodesText = string.Concat(Enumerable.Range(1, nodes).Select(i => $"{net}.{i}\n"));
        var ips = new StringBuilder();
        var k = 0;
        for (var i = 0; i < nodes * ipsPerNode; i++)
            ips.Append(CultureInfo.InvariantCulture, $"198.51.100.{++k}/24 lo\n");
        for (var pnn = 0; pnn < nodes; pnn++)
        {
            var b = NodeBase(pnn);
            foreach (var d in new[] { "run", "var", "db/volatile", "db/persistent", "db/state" })
                Directory.CreateDirectory(Path.Combine(b, d));
            File.WriteAllText(Path.Combine(b, "nodes"), nodesText);
            File.WriteAllText(Path.Combine(b, "public_addresses"), ips.ToString());
            File.WriteAllText(Path.Combine(b, "ctdb.tunables"), "");
            File.WriteAllText(Path.Combine(b, "ctdb.conf"), $"""
                [logging]
                	location = file:{b}/log.ctdb
                	log level = NOTICE
                [cluster]
                	cluster lock = {Dir}/shared/cluster.lock
                	node address = {net}.{pnn + 1}
                {extraClusterConf ?? ""}
                [database]
                	volatile database directory = {b}/db/volatile
                	persistent database directory = {b}/db/persistent
                	state database directory = {b}/db/state
                [legacy]
                	realtime scheduling = false

                """);
        }
    }

    public string Net { get; }
    public int NodeCount { get; }
    public string Dir { get; }

    public string NodeBase(int pnn) => Path.Combine(Dir, $"node.{pnn}");
    public string SocketPath(int pnn) => Path.Combine(NodeBase(pnn), "run", "ctdbd.socket");
    public int? Pid(int pnn) => _daemons[pnn] is { HasExited: false } p ? p.Id : null;

    /// <summary>The ctdbd built by the referenced daemon project: (file, leading args).</summary>
    public static (string File, string[] Args) DaemonCommand()
    {
        var dir = AppContext.BaseDirectory;
        var apphost = Path.Combine(dir, "ctdbd");
        if (File.Exists(apphost))
            return (apphost, []);
        return ("dotnet", [Path.Combine(dir, "ctdbd.dll")]);
    }

    /// <summary>Extra environment for each node's daemon (and so its event scripts), e.g. a per-node CTDB_SCRIPT_VARDIR.</summary>
    public Func<int, IReadOnlyDictionary<string, string>>? NodeEnvironment { get; set; }

    public static Process StartDaemon(string ctdbBase, IEnumerable<string> args, bool redirectStdin = true, bool redirectOutput = true,
        IReadOnlyDictionary<string, string>? env = null)
    {
        var (file, lead) = DaemonCommand();
        var psi = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardInput = redirectStdin,
            RedirectStandardOutput = redirectOutput,
            RedirectStandardError = redirectOutput,
        };
        foreach (var a in lead.Concat(args))
            psi.ArgumentList.Add(a);
        psi.Environment["CTDB_TEST_MODE"] = "yes";
        psi.Environment["CTDB_BASE"] = ctdbBase;
        psi.Environment.Remove("CTDB_SOCKET");
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        return Process.Start(psi) ?? throw new InvalidOperationException("cannot start ctdbd");
    }

    /// <summary>Starts node <paramref name="pnn"/> with -i; its stdin stays an open pipe (EOF would stop it).</summary>
    public void StartNode(int pnn)
    {
        if (Pid(pnn) is not null)
            throw new InvalidOperationException($"node {pnn} already running");
        var p = StartDaemon(NodeBase(pnn), ["-i"], env: NodeEnvironment?.Invoke(pnn));
        var log = Path.Combine(NodeBase(pnn), "stderr.log");
        _ = ChildProcess.DrainToFileAsync(p.StandardError, log);
        _ = ChildProcess.DrainToFileAsync(p.StandardOutput, log + ".out");
        _daemons[pnn] = p;
    }

    public void StartAll()
    {
        for (var i = 0; i < NodeCount; i++)
            StartNode(i);
    }

    public void Kill(int pnn)
    {
        var p = _daemons[pnn] ?? throw new InvalidOperationException($"node {pnn} not running");
        p.Kill();
        p.WaitForExit(10_000);
        p.Dispose();
        _daemons[pnn] = null;
    }

    public Task<ToolResult> CtdbAsync(int pnn, params string[] args) => CtdbAsync(pnn, null, null, TimeSpan.FromSeconds(30), args);

    /// <summary>Debian's tool against node <paramref name="pnn"/> with extra environment and optional stdin; killed after <paramref name="timeout"/>.</summary>
    public async Task<ToolResult> CtdbAsync(int pnn, IReadOnlyDictionary<string, string>? env, string? stdin, TimeSpan timeout,
        params string[] args)
    {
        var all = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["CTDB_TEST_MODE"] = "yes",
            ["CTDB_BASE"] = NodeBase(pnn),
            ["CTDB_SOCKET"] = null,
        };
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
            all[k] = v;
        var r = await ChildProcess.RunAsync(CtdbTool, args, all, stdin, timeout);
        return new ToolResult(r.ExitCode, r.Stdout, r.Stderr, r.Elapsed);
    }

    /// <summary>Polls <paramref name="condition"/> until true; fails with the last observation after <paramref name="timeout"/>.</summary>
    public static async Task<TimeSpan> WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<Task<string>>? describe = null)
    {
        var sw = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        while (true)
        {
            if (await condition())
                return sw.Elapsed;
            if (sw.Elapsed > limit)
            {
                var detail = describe is null ? "" : "\n" + await describe();
                Assert.Fail($"timed out after {limit.TotalSeconds:F0}s waiting for: {what}{detail}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Rows of `ctdb -X status` (or nodestatus) as (pnn → flag columns).</summary>
    public static Dictionary<int, string[]> ParseMachineStatus(string stdout)
    {
        var rows = new Dictionary<int, string[]>();
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('|');
            if (f.Length > 3 && int.TryParse(f[1], out var pnn))
                rows[pnn] = f;
        }
        return rows;
    }

    /// <summary>Every node: all rows' flag columns 0, `ctdb -X ip` all hosted.</summary>
    public async Task<bool> HealthyFromAsync(int pnn, int expectedNodes)
    {
        var st = await CtdbAsync(pnn, "-X", "status");
        if (st.ExitCode != 0)
            return false;
        var rows = ParseMachineStatus(st.Stdout);
        if (rows.Count != expectedNodes || rows.Values.Any(f => f[3..^2].Any(c => c != "0")))
            return false;
        var ip = await CtdbAsync(pnn, "-X", "ip");
        if (ip.ExitCode != 0)
            return false;
        var ips = ip.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split('|')).ToList();
        return ips.Count > 0 && ips.All(f => f.Length > 2 && int.TryParse(f[2], out var o) && o >= 0);
    }

    public async Task<TimeSpan> WaitHealthyAsync(IEnumerable<int> nodes, int expectedNodes)
    {
        var list = nodes.ToList();
        return await WaitUntilAsync(async () =>
        {
            foreach (var n in list)
            {
                if (!await HealthyFromAsync(n, expectedNodes))
                    return false;
            }
            return true;
        }, "cluster healthy", describe: DescribeAsync);
    }

    public async Task<string> DescribeAsync()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < NodeCount; i++)
        {
            if (Pid(i) is null)
                continue;
            var st = await CtdbAsync(i, "status");
            sb.AppendLine(CultureInfo.InvariantCulture, $"--- node {i}: {st}");
            var log = Path.Combine(NodeBase(i), "stderr.log");
            if (File.Exists(log))
                sb.AppendLine(string.Join('\n', File.ReadLines(log).TakeLast(15)));
        }
        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _daemons)
        {
            if (p is not null)
                await ChildProcess.KillAndReapAsync(p);
        }
        for (var pnn = 0; pnn < NodeCount; pnn++)
            await KillDaemonisedNodeAsync(pnn);
        if (Environment.GetEnvironmentVariable("SC_D2_KEEP") is not null)
            return; // debugging: keep the logs
        // Retried: a node's children (event scripts, lock helper) could still be writing here, and one failed
        // Directory.Delete used to leave the whole /tmp/sc-d2-* behind.
        await TempDirs.DeleteAsync(Dir);
    }

    /// <summary>
    /// A node started without -i daemonises: the daemon is not our child, so a test that failed before its own
    /// cleanup (e.g. the parent never returned) left it running and writing into <see cref="Dir"/>, which then
    /// could not be removed. Found by its pid file and killed with its children, only if it is this node's ctdbd.
    /// </summary>
    private async Task KillDaemonisedNodeAsync(int pnn)
    {
        var pidFile = Path.Combine(NodeBase(pnn), "run", "ctdbd.pid");
        int pid;
        try
        {
            if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out pid))
                return;
            var environ = File.ReadAllText($"/proc/{pid}/environ").Split('\0');
            if (!environ.Contains("CTDB_BASE=" + NodeBase(pnn), StringComparer.Ordinal))
                return;
            using var p = Process.GetProcessById(pid);
            p.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException
            or System.ComponentModel.Win32Exception)
        {
            return; // gone already, or not ours
        }
        // Not our child: init reaps it; wait until it has gone.
        for (var i = 0; i < 100 && Directory.Exists($"/proc/{pid}"); i++)
            await Task.Delay(100);
    }
}
