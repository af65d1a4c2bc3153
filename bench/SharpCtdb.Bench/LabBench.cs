using System.Globalization;
using System.Text.Json;

namespace SharpCtdb.Bench;

/// <summary>
/// `bench lab`: the netns failover lab (scripts/lab → ../shared/anchors/netns-lab/lab.sh) with Samba's ctdbd and
/// SharpCTDB, default and fast tunables, every scenario; prints per scenario the medians over the moved addresses of
/// "new node serves" (first probe answered by the new owner, s after the fault), the client-observed outage, and
/// the duplicate-address time (total / while the victim's cable was plugged), with ratios SharpCTDB / Samba.
/// Also the kernel's view: victim's address deleted and new owner's address added (s after the fault).
/// </summary>
public static class LabBench
{
    private static readonly string[] AllScenarios = ["kill", "nodedeath", "stop", "linkdown", "disable", "shutdown"];

    public static async Task<int> RunAsync(int runs, string tunables, string impls, string? scenarioList)
    {
        var scenarios = scenarioList is null ? AllScenarios : scenarioList.Split(',');
        var sets = tunables switch { "default" => new[] { false }, "fast" => [true], _ => [false, true] };
        // "ours-dist" is SharpCTDB with its own 10.interface (dist/events/legacy); the ratios compare both daemons
        // with Debian's script, so that row only shows what our script adds.
        var which = impls switch
        {
            "ours" => new[] { "ours" },
            "samba" => ["samba"],
            "ours-dist" => ["ours-dist"],
            "all" => ["samba", "ours", "ours-dist"],
            _ => ["samba", "ours"],
        };
        var lab = Path.Combine(Env.RepoRoot, "scripts", "lab");
        // LAB_PREFIX / LAB_DIR from the environment let two benches (or a bench and a lab) run side by side.
        var prefix = Environment.GetEnvironmentVariable("LAB_PREFIX") is { Length: > 0 } p ? p : "scAb-";
        var labDir = Environment.GetEnvironmentVariable("LAB_DIR") is { Length: > 0 } d ? d : Path.Combine(Path.GetTempPath(), "sc-ipa-bench");
        var outDir = $"{labDir}-results-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
        Directory.CreateDirectory(outDir);
        var results = new Dictionary<(string Impl, bool Fast), string>();
        foreach (var fast in sets)
        {
            foreach (var impl in which)
            {
                var file = Path.Combine(outDir, $"{impl}-{(fast ? "fast" : "default")}.jsonl");
                results[(impl, fast)] = file;
                var env = new Dictionary<string, string> { ["LAB_PREFIX"] = prefix, ["LAB_DIR"] = labDir };
                Proc.Run(lab, ["down"], env);
                Console.Error.WriteLine($"lab: {impl}, {(fast ? "fast" : "default")} tunables, {runs} run(s) per scenario");
                var upArgs = new List<string> { "up", "--impl", impl == "ours-dist" ? "ours" : impl };
                if (impl == "ours-dist")
                    upArgs.AddRange(["--scripts", "ours"]);
                if (fast)
                    upArgs.Add("--fast");
                var up = Proc.Run(lab, upArgs, env);
                if (up.Code != 0)
                {
                    Console.Error.WriteLine($"lab up failed: {up.Err}");
                    Proc.Run(lab, ["down"], env);
                    continue;
                }
                foreach (var sc in scenarios)
                {
                    var r = Proc.Run(lab, ["run", sc, "--runs", runs.ToString(CultureInfo.InvariantCulture), "--out", file], env);
                    if (r.Code != 0)
                        Console.Error.WriteLine($"{impl} {sc}: run failed: {r.Err}");
                }
                KeepDaemonLogs(labDir, Path.Combine(outDir, $"{impl}-{(fast ? "fast" : "default")}"));
                Proc.Run(lab, ["down"], env);
            }
        }
        Console.WriteLine($"raw results: {outDir}");
        foreach (var fast in sets)
        {
            Console.WriteLine();
            Console.WriteLine($"## {(fast ? "KeepaliveInterval=1 KeepaliveLimit=2" : "default tunables")} (medians over moved addresses; ratio = SharpCTDB / Samba)");
            Console.WriteLine("| scenario | impl | new node serves s | outage s | dup s total / link up | victim addr deleted s | new addr added s |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (var sc in scenarios)
            {
                var figs = which.ToDictionary(i => i, i => Figures.From(results.GetValueOrDefault((i, fast)), sc));
                foreach (var i in which)
                {
                    var f = figs[i];
                    Console.WriteLine($"| {sc} | {i} | {S(f.Serves)} | {S(f.Outage)} | {S(f.Dup)} / {S(f.DupLinkUp)} | {S(f.Deleted)} | {S(f.Added)} |");
                }
                if (figs.TryGetValue("ours", out var o) && figs.TryGetValue("samba", out var s))
                    Console.WriteLine($"| {sc} | ratio | {R(o.Serves, s.Serves)} | {R(o.Outage, s.Outage)} | {R(o.Dup, s.Dup)} / {R(o.DupLinkUp, s.DupLinkUp)} | | {R(o.Added, s.Added)} |");
            }
        }
        return 0;
    }

    // `lab down` deletes the node trees; the daemon logs are what explains a slow scenario, so keep them.
    internal static void KeepDaemonLogs(string labDir, string prefix)
    {
        if (!Directory.Exists(labDir))
            return;
        foreach (var node in Directory.GetDirectories(labDir, "node*"))
        {
            var log = Path.Combine(node, "log.ctdb");
            if (File.Exists(log))
                File.Copy(log, $"{prefix}-{Path.GetFileName(node)}.log", overwrite: true);
        }
    }

    private static string S(double? v) => v is { } x ? x.ToString("F2", CultureInfo.InvariantCulture) : "-";

    private static string R(double? a, double? b) => a is { } x && b is { } y
        ? (y == 0 ? (x == 0 ? "=" : "∞") : (x / y).ToString("F2", CultureInfo.InvariantCulture))
        : "-";

    private sealed record Figures(double? Serves, double? Outage, double? Dup, double? DupLinkUp, double? Deleted, double? Added)
    {
        public static Figures From(string? file, string scenario)
        {
            var serves = new List<double>();
            var outage = new List<double>();
            var dup = new List<double>();
            var dupUp = new List<double>();
            var del = new List<double>();
            var add = new List<double>();
            if (file is not null && File.Exists(file))
            {
                foreach (var line in File.ReadLines(file))
                {
                    using var doc = JsonDocument.Parse(line);
                    var r = doc.RootElement;
                    if (r.GetProperty("scenario").GetString() != scenario)
                        continue;
                    foreach (var ip in r.GetProperty("ips").EnumerateObject())
                    {
                        var v = ip.Value;
                        if (!v.GetProperty("moved").GetBoolean())
                            continue;
                        Add(serves, v, "first_ok_new");
                        Add(outage, v, "outage");
                        Add(dup, v, "dup_time");
                        Add(dupUp, v, "dup_time_link_up");
                        Add(del, v, "addr_del_victim");
                        Add(add, v, "addr_add_new");
                    }
                }
            }
            return new(Median(serves), Median(outage), Median(dup), Median(dupUp), Median(del), Median(add));
        }

        private static void Add(List<double> list, JsonElement v, string name)
        {
            if (v.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Number)
                list.Add(e.GetDouble());
        }

        private static double? Median(List<double> l)
        {
            if (l.Count == 0)
                return null;
            l.Sort();
            return l.Count % 2 == 1 ? l[l.Count / 2] : (l[l.Count / 2 - 1] + l[l.Count / 2]) / 2;
        }
    }
}
