using System.Globalization;
using System.Text.RegularExpressions;

namespace SharpCtdb.Bench;

/// <summary>
/// `bench samba`: clustered Samba (Debian's smbd, one per node) on each daemon through the anchors' samba-cluster
/// measure.sh: how long after SIGKILL of one node's daemon node 1's smbd serves a file again, killing a non-leader and
/// the leader (each on a fresh, healthy cluster, 11.5 s after start so Samba's RerecoveryTimeout does not interfere).
/// When node 1 happens to be the leader (measure.sh needs node 1 to survive) it is restarted first so that another
/// node leads.
/// </summary>
public static partial class SambaBench
{
    private static string MeasureSh => Path.GetFullPath(Path.Combine(Env.RepoRoot, "..", "shared", "anchors", "samba-cluster", "measure.sh"));

    [GeneratedRegex(@"served via node 1 after node (\d+) \(leader: (\d+)\) killed: ([0-9.]+)s")]
    private static partial Regex Served();

    public static Task<int> RunAsync(int runs, int rounds, string netOurs, string netSamba, int smbPortBase, string impl, string dirPrefix)
    {
        if (!File.Exists(Env.OurCtdbd) || !File.Exists("/usr/sbin/smbd"))
        {
            Console.Error.WriteLine($"bench: needs {Env.OurCtdbd} (scripts/build) and Debian's smbd (apt-get install samba smbclient)");
            return Task.FromResult(1);
        }
        List<double> oursNon = [], sambaNon = [], oursLead = [], sambaLead = [];
        for (var r = 0; r < runs; r++)
        {
            foreach (var (name, daemon, net, non, lead) in new[]
            {
                ("sharp", Env.OurCtdbd, netOurs, oursNon, oursLead),
                ("samba", Env.SambaCtdbd, netSamba, sambaNon, sambaLead),
            })
            {
                if (impl != "both" && impl != (name == "sharp" ? "ours" : "samba"))
                    continue;
                foreach (var killLeader in new[] { false, true })
                {
                    var s = Measure(name, daemon, net, killLeader, rounds, smbPortBase, $"{dirPrefix}-{name}",
                        $"{dirPrefix}-logs/{name}-run{r + 1}-{(killLeader ? "leader" : "nonleader")}");
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"bench: {name} run {r + 1}, {(killLeader ? "leader" : "non-leader")} killed: node 1 serves after {s:F2} s"));
                    (killLeader ? lead : non).Add(s);
                }
            }
        }
        Stats.Table("Clustered Samba, 3 nodes: SIGKILL of a node's daemon → node 1's smbd serves the file again (lower is better)",
        [
            ("non-leader killed", "s", oursNon, sambaNon),
            ("leader killed", "s", oursLead, sambaLead),
        ]);
        return Task.FromResult(0);
    }

    private static double Measure(string name, string daemon, string net, bool killLeader, int rounds, int smbPortBase, string dir,
        string logPrefix)
    {
        using var c = new Cluster("smb-" + name, daemon, net, 3, dir: dir);
        try
        {
            return Measure(c, name, killLeader, rounds, smbPortBase);
        }
        finally
        {
            // The daemon logs explain a slow figure (CTDB_REAL_LOGLEVEL=INFO adds our per-database recovery steps).
            Directory.CreateDirectory(Path.GetDirectoryName(logPrefix)!);
            LabBench.KeepDaemonLogs(dir, logPrefix);
        }
    }

    private static double Measure(Cluster c, string name, bool killLeader, int rounds, int smbPortBase)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                c.ColdStart();
                break;
            }
            catch (InvalidOperationException e) when (attempt < 3)
            {
                // cluster.sh gives a daemon 5 s to write its pid file, which a loaded machine can miss.
                Console.Error.WriteLine($"bench: {name}: start failed, retrying: {e.Message.Split('\n')[0]}");
            }
        }
        Thread.Sleep(11_500);
        var leader = c.Leader(0);
        if (leader == 1)
        {
            // measure.sh reads through node 1: let another node lead.
            c.Sh("killnode", "1");
            c.Sh("startnode", "1");
            Cluster.WaitUntil(c.AllOk, 120);
            Thread.Sleep(11_500);
            leader = c.Leader(0);
        }
        var victim = killLeader ? leader : leader == 2 ? 0 : 2;
        var env = new Dictionary<string, string>
        {
            ["KILL_NODE"] = victim.ToString(CultureInfo.InvariantCulture),
            ["SMB_PORT_BASE"] = smbPortBase.ToString(CultureInfo.InvariantCulture),
        };
        var p = c.Script(MeasureSh, env, rounds.ToString(CultureInfo.InvariantCulture));
        var m = Served().Match(p.Out);
        if (!m.Success)
            throw new InvalidOperationException($"{name}: measure.sh gave no figure:\n{p.Out}{p.Err}");
        if (int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) == victim != killLeader)
            throw new InvalidOperationException($"{name}: the leader changed before the kill:\n{p.Out}");
        return double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
    }
}
