using System.Diagnostics;

namespace SharpCtdb.Bench;

/// <summary>Wall time of whole `ctdb` processes: our NativeAOT tool vs Debian's, against the same daemons.</summary>
public static class ToolBench
{
    /// <param name="nets">"A.B.C,D.E.F": loopback /24s for our and Samba's cluster (a shared machine gives each user a range).</param>
    public static Task<int> RunAsync(int runs, string? nets = null)
    {
        var n = (nets ?? "127.0.123,127.0.124").Split(',');
        if (n.Length != 2)
        {
            Console.Error.WriteLine("bench: --nets wants two /24 prefixes, e.g. 127.0.123,127.0.124");
            return Task.FromResult(2);
        }
        if (!File.Exists(Env.OurCtdb) || !File.Exists(Env.OurCtdbd))
        {
            Console.Error.WriteLine("bench: artifacts/bin/ctdb or ctdbd missing; run scripts/build first");
            return Task.FromResult(1);
        }
        string[][] commands = [["pnn"], ["status"], ["-X", "ip"]];
        foreach (var (name, daemon, net) in new[] { ("sharp", Env.OurCtdbd, n[0]), ("samba", Env.SambaCtdbd, n[1]) })
        {
            using var c = new Cluster("tool-" + name, daemon, net, 3);
            c.ColdStart();
            var rows = new List<(string, string, List<double>, List<double>)>();
            foreach (var cmd in commands)
            {
                var ours = new List<double>();
                var debian = new List<double>();
                for (var i = 0; i < runs; i++)
                {
                    ours.Add(Time(() => c.Tool(Env.OurCtdb, 0, cmd)));
                    debian.Add(Time(() => c.Tool(Env.DebianCtdb, 0, cmd)));
                }
                rows.Add(($"`ctdb {string.Join(' ', cmd)}`", "ms", ours, debian));
            }
            Console.WriteLine();
            Console.WriteLine($"(daemon: {(name == "sharp" ? "SharpCTDB ctdbd" : "Samba ctdbd")}; columns: our tool vs Debian's tool)");
            Stats.Table($"tool wall time against {name} daemon", rows, "our ctdb", "Debian ctdb");
        }
        return Task.FromResult(0);
    }

    private static double Time(Func<Proc> f)
    {
        var sw = Stopwatch.StartNew();
        var r = f();
        if (r.Code != 0)
            Console.Error.WriteLine($"bench: tool exited {r.Code}: {r.Err.Trim()}");
        return sw.Elapsed.TotalMilliseconds;
    }
}
