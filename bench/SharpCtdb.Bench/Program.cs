using System.Diagnostics;
using System.Globalization;
using SharpCtdb.Bench;

// Benchmarks that drive SharpCTDB and Samba's ctdbd through the same harness in one run and print
// medians and ratios (SharpCTDB / Samba; < 1 means we are faster).
//
//   bench cluster [--runs N] [--slow]   launch-to-all-OK, kill/stop detection, failover, `ctdb status` latency
//   bench kill [--runs N]               SIGKILL of a non-leader only (observer and survivor-log figures)
//   bench db [--runs N] [--ops N] [--bounces N] [--net-ours A.B.C] [--net-samba A.B.C] [--dir PREFIX] [--ctdbd PATH]
//                                       fetch-lock+store ops/s and migrations/s through one C# client
//   bench tool [--runs N] [--nets A.B.C,D.E.F]  wall time of `ctdb pnn|status|-X ip`, our tool vs Debian's, same daemon
//                                       (--nets: the loopback /24s of the two clusters, default 127.0.123,127.0.124)
//   bench dbrecovery [--records N] [--runs N] [--impl ours|samba|both] [--net-ours A.B.C] [--net-samba A.B.C] [--dir PREFIX]
//                                       kill → recovered for a database of N records (default 100,000)
//   bench samba [--runs N] [--rounds N] [--net-ours A.B.C] [--net-samba A.B.C] [--smb-port P] [--impl ours|samba|both] [--dir PREFIX]
//                                       clustered smbd on each daemon: a non-leader's / the leader's daemon killed → serving again
//   bench lab [--runs N] [--tunables default|fast|both] [--impl ours|samba|ours-dist|both|all] [--scenarios kill,stop,...]
//                                       netns failover lab (root): new node serves, outage, duplicate-address time
var cmd = args.Length > 0 ? args[0] : "help";
var runs = Opt("--runs", 3);
return cmd switch
{
    "cluster" => await ClusterBench.RunAsync(runs, args.Contains("--slow")),
    "kill" => await ClusterBench.KillOnlyAsync(runs),
    "tool" => await ToolBench.RunAsync(Opt("--runs", 50), Str("--nets", null)),
    "db" => await DbBench.RunAsync(runs, Opt("--ops", 2000), Opt("--bounces", 1000),
        Str("--net-ours", "127.0.110") ?? "127.0.110", Str("--net-samba", "127.0.111") ?? "127.0.111", Str("--dir", "/tmp/sc-bench-db") ?? "/tmp/sc-bench-db",
        Str("--ctdbd", null) ?? Env.OurCtdbd),
    "dbrecovery" => await DbRecoveryBench.RunAsync(Opt("--records", 100_000), runs, Str("--impl", "both") ?? "both",
        Str("--net-ours", "127.0.145") ?? "127.0.145", Str("--net-samba", "127.0.146") ?? "127.0.146", Str("--dir", "/tmp/sc-dbrec-bench") ?? "/tmp/sc-dbrec-bench"),
    "samba" => await SambaBench.RunAsync(runs, Opt("--rounds", 5), Str("--net-ours", "127.0.175") ?? "127.0.175",
        Str("--net-samba", "127.0.176") ?? "127.0.176", Opt("--smb-port", 4560), Str("--impl", "both") ?? "both",
        Str("--dir", "/tmp/sc-samba-bench") ?? "/tmp/sc-samba-bench"),
    "lab" => await LabBench.RunAsync(Opt("--runs", 1), Str("--tunables", "both") ?? "both", Str("--impl", "both") ?? "both", Str("--scenarios", null)),
    _ => Usage(),
};

string? Str(string name, string? dflt)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : dflt;
}

int Opt(string name, int dflt)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : dflt;
}

static int Usage()
{
    Console.WriteLine("usage: bench cluster|kill|tool|db|lab [options] (see the header of Program.cs)");
    return 2;
}

namespace SharpCtdb.Bench
{
    public static class Env
    {
        public static string RepoRoot { get; } = Find();
        public static string ClusterSh => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "anchors", "ctdb-real", "cluster.sh"));
        public static string OurCtdbd => Path.Combine(RepoRoot, "artifacts", "bin", "ctdbd");
        public static string OurCtdb => Path.Combine(RepoRoot, "artifacts", "bin", "ctdb");
        public const string SambaCtdbd = "/usr/sbin/ctdbd";
        public const string DebianCtdb = "/usr/bin/ctdb";

        private static string Find()
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "SharpCtdb.slnx")))
                    return d.FullName;
            }
            return Directory.GetCurrentDirectory();
        }
    }

    public sealed record Proc(int Code, string Out, string Err)
    {
        public static Proc Run(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args)
                psi.ArgumentList.Add(a);
            if (env is not null)
            {
                foreach (var (k, v) in env)
                    psi.Environment[k] = v;
            }
            using var p = Process.Start(psi)!;
            var o = p.StandardOutput.ReadToEndAsync();
            var e = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            return new Proc(p.ExitCode, o.Result, e.Result);
        }
    }

    /// <summary>One cluster.sh-managed cluster of either daemon.</summary>
    public sealed class Cluster(string name, string ctdbd, string net, int nodes, string tunables = "", string? dir = null) : IDisposable
    {
        private readonly Dictionary<string, string> _env = new()
        {
            ["CTDB_REAL_DIR"] = dir ?? $"/tmp/sc-bench-{name}",
            ["CTDB_REAL_NET"] = net,
            ["CTDBD"] = ctdbd,
            ["CTDB_REAL_TUNABLES"] = tunables,
        };

        public string Name { get; } = name;
        public int Nodes { get; } = nodes;
        public string Base(int pnn) => $"{_env["CTDB_REAL_DIR"]}/node.{pnn}";

        public Proc Sh(params string[] a) => Proc.Run(Env.ClusterSh, a, _env);

        /// <summary>Runs another anchor script against this cluster (its environment plus <paramref name="extra"/>).</summary>
        public Proc Script(string path, IReadOnlyDictionary<string, string> extra, params string[] a) =>
            Proc.Run(path, a, new Dictionary<string, string>(_env.Concat(extra)));

        public Proc Tool(string tool, int pnn, params string[] a) =>
            Proc.Run(tool, a, new Dictionary<string, string> { ["CTDB_TEST_MODE"] = "yes", ["CTDB_BASE"] = Base(pnn) });

        public Proc Ctdb(int pnn, params string[] a) => Tool(Env.DebianCtdb, pnn, a);

        /// <summary>Launches without waiting and returns the seconds until every node sees all nodes OK and every IP is hosted.</summary>
        public double ColdStart()
        {
            Sh("stop");
            _env["CTDB_REAL_NOWAIT"] = "1";
            var sw = Stopwatch.StartNew();
            var r = Sh("start", Nodes.ToString(CultureInfo.InvariantCulture));
            _env.Remove("CTDB_REAL_NOWAIT");
            if (r.Code != 0)
                throw new InvalidOperationException($"{Name}: start failed: {r.Out}{r.Err}");
            WaitUntil(AllOk, 120);
            return sw.Elapsed.TotalSeconds;
        }

        public bool AllOk()
        {
            for (var i = 0; i < Nodes; i++)
            {
                var rows = NodeRows(i);
                if (rows is null || rows.Count != Nodes || rows.Values.Any(f => f.Skip(3).Take(8).Any(v => v != "0")))
                    return false;
            }
            return IpOwners(0) is { } ips && ips.Count > 0 && ips.Values.All(p => p >= 0);
        }

        public Dictionary<int, string[]>? NodeRows(int pnn)
        {
            var r = Ctdb(pnn, "-X", "nodestatus", "all");
            var rows = new Dictionary<int, string[]>();
            foreach (var l in r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var f = l.Split('|');
                if (f.Length > 10 && int.TryParse(f[1], out var n))
                    rows[n] = f;
            }
            return rows.Count == 0 ? null : rows;
        }

        public Dictionary<string, int>? IpOwners(int pnn)
        {
            var r = Ctdb(pnn, "-X", "ip");
            if (r.Code != 0)
                return null;
            return r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(l => l.Split('|')).Where(f => f.Length > 3)
                .ToDictionary(f => f[1], f => int.Parse(f[2], CultureInfo.InvariantCulture));
        }

        public int Leader(int pnn) =>
            int.TryParse(Ctdb(pnn, "leader").Out.Trim(), out var l) ? l : -1;

        public int Pid(int pnn) => int.Parse(File.ReadAllText($"{Base(pnn)}/run/ctdbd.pid").Trim(), CultureInfo.InvariantCulture);

        public static double WaitUntil(Func<bool> cond, double timeoutSeconds)
        {
            var sw = Stopwatch.StartNew();
            while (!cond())
            {
                if (sw.Elapsed.TotalSeconds > timeoutSeconds)
                    throw new TimeoutException($"condition not met within {timeoutSeconds} s");
                Thread.Sleep(10);
            }
            return sw.Elapsed.TotalSeconds;
        }

        public void Dispose() => Sh("stop");
    }

    public static class Stats
    {
        public static double Median(IReadOnlyList<double> xs)
        {
            if (xs.Count == 0)
                return double.NaN;
            var s = xs.OrderBy(x => x).ToArray();
            return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
        }

        public static string Fmt(double v, string unit) => double.IsNaN(v) ? "n/a" : unit == "ms" ? $"{v:F1} ms" : $"{v:F2} s";

        public static void Table(string title, IEnumerable<(string Metric, string Unit, List<double> Ours, List<double> Samba)> rows,
            string oursName = "SharpCTDB", string theirsName = "Samba ctdbd")
        {
            Console.WriteLine();
            Console.WriteLine($"## {title}");
            Console.WriteLine($"| metric | {oursName} median | {theirsName} median | ratio ({oursName}/{theirsName}) | runs |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var (m, u, o, s) in rows)
            {
                var mo = Median(o);
                var ms = Median(s);
                var ratio = ms > 0 ? (mo / ms).ToString("F3", CultureInfo.InvariantCulture) : "n/a";
                Console.WriteLine($"| {m} | {Fmt(mo, u)} | {Fmt(ms, u)} | {ratio} | {o.Count}/{s.Count} |");
            }
        }
    }
}
