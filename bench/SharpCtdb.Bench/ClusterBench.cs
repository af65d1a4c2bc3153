using System.Diagnostics;
using System.Globalization;

namespace SharpCtdb.Bench;

/// <summary>
/// Cluster figures for both daemons with the same harness (cluster.sh) and the same observer (Debian's tool):
/// launch → all OK, SIGKILL → DISCONNECTED, SIGKILL → addresses moved (non-leader and leader), SIGSTOP →
/// DISCONNECTED (KeepaliveInterval=1 KeepaliveLimit=2; with --slow also the 5/5 defaults), `ctdb status` latency.
/// </summary>
public static class ClusterBench
{
    private sealed class Samples
    {
        public List<double> ColdStart { get; } = [];
        public List<double> KillDisconnected { get; } = [];
        public List<double> KillLogDead { get; } = [];
        public List<double> KillIpsMoved { get; } = [];
        public List<double> LeaderKillIpsMoved { get; } = [];
        public List<double> LeaderKillNewLeader { get; } = [];
        public List<double> StopFastDisconnected { get; } = [];
        public List<double> StopSlowDisconnected { get; } = [];
        public List<double> StatusMs { get; } = [];
    }

    public static Task<int> RunAsync(int runs, bool slow)
    {
        if (!File.Exists(Env.OurCtdbd))
        {
            Console.Error.WriteLine($"bench: {Env.OurCtdbd} not built; run scripts/build first");
            return Task.FromResult(1);
        }
        var ours = new Samples();
        var samba = new Samples();
        for (var r = 0; r < runs; r++)
        {
            Measure("sharp", Env.OurCtdbd, "127.0.121", ours, slow, r);
            Measure("samba", Env.SambaCtdbd, "127.0.122", samba, slow, r);
        }
        Stats.Table("3-node cluster on loopback (seconds; Debian's tool as observer, polled every ~10 ms)",
        [
            ("launch → all nodes OK, all IPs hosted", "s", ours.ColdStart, samba.ColdStart),
            ("SIGKILL non-leader → DISCONNECTED", "s", ours.KillDisconnected, samba.KillDisconnected),
            ("SIGKILL non-leader → \"is dead\" in a survivor's log", "ms", ours.KillLogDead, samba.KillLogDead),
            ("SIGKILL non-leader → its IPs on survivors", "s", ours.KillIpsMoved, samba.KillIpsMoved),
            ("SIGKILL leader → new leader", "s", ours.LeaderKillNewLeader, samba.LeaderKillNewLeader),
            ("SIGKILL leader → its IPs on survivors", "s", ours.LeaderKillIpsMoved, samba.LeaderKillIpsMoved),
            ("SIGSTOP non-leader → DISCONNECTED (Keepalive 1/2)", "s", ours.StopFastDisconnected, samba.StopFastDisconnected),
            ("SIGSTOP non-leader → DISCONNECTED (Keepalive 5/5)", "s", ours.StopSlowDisconnected, samba.StopSlowDisconnected),
            ("Debian `ctdb status` wall time", "ms", ours.StatusMs, samba.StatusMs),
        ]);
        return Task.FromResult(0);
    }

    private static void Measure(string name, string ctdbd, string net, Samples s, bool slow, int run)
    {
        Console.Error.WriteLine($"bench: {name} run {run + 1}");
        using (var c = new Cluster(name, ctdbd, net, 3))
        {
            s.ColdStart.Add(c.ColdStart());
            // Samba suppresses recoveries for RerecoveryTimeout after each one; measure failover outside that window.
            Thread.Sleep(11_500);

            for (var i = 0; i < 10; i++)
            {
                var sw = Stopwatch.StartNew();
                c.Ctdb(0, "status");
                s.StatusMs.Add(sw.Elapsed.TotalMilliseconds);
            }

            var leader = c.Leader(0);
            var victim = leader == 2 ? 1 : 2;
            var observer = victim == 0 ? 1 : 0;
            KillAndTime(c, victim, observer, "KILL", s.KillDisconnected, s.KillIpsMoved, null, s.KillLogDead);
            c.Sh("startnode", victim.ToString(CultureInfo.InvariantCulture));
            Cluster.WaitUntil(c.AllOk, 120);
            Thread.Sleep(11_500);

            leader = c.Leader(0);
            observer = leader == 0 ? 1 : 0;
            KillAndTime(c, leader, observer, "KILL", null, s.LeaderKillIpsMoved, s.LeaderKillNewLeader);
        }
        using (var c = new Cluster(name, ctdbd, net, 3, "KeepaliveInterval=1 KeepaliveLimit=2"))
        {
            c.ColdStart();
            Thread.Sleep(11_500);
            var leader = c.Leader(0);
            var victim = leader == 2 ? 1 : 2;
            var observer = victim == 0 ? 1 : 0;
            KillAndTime(c, victim, observer, "STOP", s.StopFastDisconnected, null, null);
            Process.GetProcessById(c.Pid(victim)).Kill();
        }
        if (slow)
        {
            using var c = new Cluster(name, ctdbd, net, 3);
            c.ColdStart();
            Thread.Sleep(11_500);
            var leader = c.Leader(0);
            var victim = leader == 2 ? 1 : 2;
            KillAndTime(c, victim, victim == 0 ? 1 : 0, "STOP", s.StopSlowDisconnected, null, null);
        }
    }

    /// <summary>Kill → survivor logs only, the same non-leader SIGKILL as in the full run (quick).</summary>
    public static Task<int> KillOnlyAsync(int runs)
    {
        var ours = new Samples();
        var samba = new Samples();
        foreach (var (name, daemon, net, s) in new[] { ("sharp", Env.OurCtdbd, "127.0.121", ours), ("samba", Env.SambaCtdbd, "127.0.122", samba) })
        {
            using var c = new Cluster(name, daemon, net, 3);
            c.ColdStart();
            for (var r = 0; r < runs; r++)
            {
                Thread.Sleep(11_500);
                var leader = c.Leader(0);
                var victim = leader == 2 ? 1 : 2;
                KillAndTime(c, victim, victim == 0 ? 1 : 0, "KILL", s.KillDisconnected, s.KillIpsMoved, null, s.KillLogDead);
                c.Sh("startnode", victim.ToString(CultureInfo.InvariantCulture));
                Cluster.WaitUntil(c.AllOk, 120);
            }
        }
        Stats.Table("SIGKILL of a non-leader, 3 nodes",
        [
            ("→ DISCONNECTED (observer poll)", "s", ours.KillDisconnected, samba.KillDisconnected),
            ("→ \"is dead\" in a survivor's log", "ms", ours.KillLogDead, samba.KillLogDead),
            ("→ its IPs on survivors", "s", ours.KillIpsMoved, samba.KillIpsMoved),
        ]);
        return Task.FromResult(0);
    }

    /// <summary>Milliseconds from the kill to the earliest "is dead" line in a survivor's log (both daemons log it; lines start with an ISO time).</summary>
    private static double? FirstLogDead(Cluster c, int victim, DateTimeOffset wall)
    {
        double? best = null;
        for (var i = 0; i < c.Nodes; i++)
        {
            var log = $"{c.Base(i)}/log.ctdb";
            if (i == victim || !File.Exists(log))
                continue;
            foreach (var line in File.ReadLines(log))
            {
                var sp = line.IndexOf(' ', StringComparison.Ordinal);
                if (sp <= 0 || !line.Contains("is dead", StringComparison.Ordinal)
                    || !DateTimeOffset.TryParse(line[..sp], CultureInfo.InvariantCulture, DateTimeStyles.None, out var ts) || ts < wall)
                    continue;
                var ms = (ts - wall).TotalMilliseconds;
                if (best is null || ms < best)
                    best = ms;
                break;
            }
        }
        return best;
    }

    private static void KillAndTime(Cluster c, int victim, int observer, string sig, List<double>? disconnected, List<double>? ipsMoved,
        List<double>? newLeader, List<double>? logDeadMs = null)
    {
        var pid = c.Pid(victim);
        var wall = DateTimeOffset.Now;
        var sw = Stopwatch.StartNew();
        c.Sh("killnode", victim.ToString(CultureInfo.InvariantCulture), sig);
        double? tDisc = null, tIps = null, tLeader = null;
        while (sw.Elapsed.TotalSeconds < 90 && (tDisc is null && disconnected is not null || tIps is null && ipsMoved is not null
            || tLeader is null && newLeader is not null))
        {
            if (disconnected is not null && tDisc is null)
            {
                var rows = c.NodeRows(observer);
                if (rows is not null && rows.TryGetValue(victim, out var f) && f[3] == "1")
                    tDisc = sw.Elapsed.TotalSeconds;
            }
            if (ipsMoved is not null && tIps is null)
            {
                var ips = c.IpOwners(observer);
                if (ips is not null && ips.Count > 0 && ips.Values.All(p => p >= 0 && p != victim))
                    tIps = sw.Elapsed.TotalSeconds;
            }
            if (newLeader is not null && tLeader is null)
            {
                var l = c.Leader(observer);
                if (l >= 0 && l != victim)
                    tLeader = sw.Elapsed.TotalSeconds;
            }
            Thread.Sleep(10);
        }
        if (tDisc is { } d)
            disconnected!.Add(d);
        if (tIps is { } i)
            ipsMoved!.Add(i);
        if (tLeader is { } l2)
            newLeader!.Add(l2);
        if (logDeadMs is not null && FirstLogDead(c, victim, wall) is { } dead)
            logDeadMs.Add(dead);
        if (sig == "STOP")
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
            }
        }
    }
}
