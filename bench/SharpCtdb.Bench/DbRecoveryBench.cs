using System.Diagnostics;
using System.Globalization;
using SharpCtdb.Client;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Bench;

/// <summary>
/// `bench dbrecovery`: recovery of one volatile database of N records (default 100,000) after a non-leader's daemon is
/// SIGKILLed, 3 nodes, each daemon through the same harness.
/// Set-up: every node's local copy holds all N keys (written straight into the tdb the way smbd does, with the node as
/// dmaster; rsn 1 on the victim, 2 and 3 on the survivors), so the leader pulls N records from each survivor, merges
/// them by rsn and pushes N back; afterwards every survivor must hold all N with rsn 3.
/// Timed: t0 = just before kill(SIGKILL) of the victim → the last survivor's "last recovery finished" stamp (UPTIME
/// control; both daemons set it when END_RECOVERY completes, after every database is recovered and thawed), with every
/// survivor back in recovery mode NORMAL. Also printed: the leader's own recovery duration (finished − started).
/// The kill happens 11.5 s after the cluster is healthy, outside Samba's RerecoveryTimeout window.
/// </summary>
public static class DbRecoveryBench
{
    private const string DbName = "recbench.tdb";

    public static async Task<int> RunAsync(int records, int runs, string impl, string netOurs, string netSamba, string dirPrefix)
    {
        if (!File.Exists(Env.OurCtdbd))
        {
            Console.Error.WriteLine($"bench: {Env.OurCtdbd} not built; run scripts/build first");
            return 1;
        }
        List<double> oursKill = [], sambaKill = [], oursLeader = [], sambaLeader = [];
        for (var r = 0; r < runs; r++)
        {
            foreach (var (name, daemon, net, kill, lead) in new[]
            {
                ("sharp", Env.OurCtdbd, netOurs, oursKill, oursLeader),
                ("samba", Env.SambaCtdbd, netSamba, sambaKill, sambaLeader),
            })
            {
                if (impl != "both" && impl != (name == "sharp" ? "ours" : "samba"))
                    continue;
                Console.Error.WriteLine($"bench: {name} run {r + 1}");
                var (k, l) = await MeasureAsync(name, daemon, net, records, $"{dirPrefix}-{name}");
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: {name}: kill → recovered {k:F3} s, leader's recovery {l:F3} s"));
                kill.Add(k);
                lead.Add(l);
            }
        }
        Stats.Table($"Recovery of a {records:N0}-record volatile database after SIGKILL of a non-leader, 3 nodes (lower is better)",
        [
            ("SIGKILL → every survivor's recovery finished (END_RECOVERY stamp)", "s", oursKill, sambaKill),
            ("leader's recovery duration (finished − started)", "s", oursLeader, sambaLeader),
        ]);
        return 0;
    }

    private static async Task<(double Kill, double Leader)> MeasureAsync(string name, string daemon, string net, int records, string dir)
    {
        using var c = new Cluster("dbrec-" + name, daemon, net, 3, dir: dir);
        c.ColdStart();
        var clients = new CtdbClient[c.Nodes];
        try
        {
            var leader = c.Leader(0);
            var victim = leader == 2 ? 1 : 2;
            uint dbId = 0;
            var winner = 0;
            for (var pnn = 0; pnn < c.Nodes; pnn++)
            {
                clients[pnn] = await CtdbClient.ConnectAsync($"{c.Base(pnn)}/run/ctdbd.socket", CancellationToken.None);
                // The victim's copies are the oldest, so they lose whether or not a recovery merges them before the kill.
                var rsn = pnn == victim ? 1ul : pnn < victim || victim == 2 ? (ulong)pnn + 2 : (ulong)pnn + 1;
                if (rsn == 3)
                    winner = pnn;
                dbId = await FillAsync(clients[pnn], (uint)pnn, rsn, records);
            }
            Thread.Sleep(11_500);
            if (c.Leader(0) != leader)
                throw new InvalidOperationException($"{name}: the leader changed before the kill");
            var survivors = Enumerable.Range(0, c.Nodes).Where(p => p != victim).ToArray();
            using var victimProcess = Process.GetProcessById(c.Pid(victim));

            var t0 = DateTimeOffset.UtcNow;
            victimProcess.Kill();
            var finished = new double[c.Nodes];
            var leaderDuration = double.NaN;
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                var done = true;
                foreach (var p in survivors)
                {
                    var t = TimeSpan.FromSeconds(30);
                    var up = await clients[p].GetUptimeAsync(Pnn.CurrentNode, t);
                    var start = Seconds(up.LastRecoveryStarted);
                    var end = Seconds(up.LastRecoveryFinished);
                    var mode = await clients[p].GetRecModeAsync(Pnn.CurrentNode, t);
                    if (start < Seconds(t0) || end < start || mode != RecoveryMode.Normal)
                    {
                        done = false;
                        break;
                    }
                    finished[p] = end - Seconds(t0);
                    if (p == leader)
                        leaderDuration = end - start;
                }
                if (done)
                    break;
                if (deadline.Elapsed > TimeSpan.FromSeconds(120))
                    throw new TimeoutException($"{name}: survivors not recovered 120 s after the kill");
                await Task.Delay(10);
            }
            foreach (var p in survivors)
                await VerifyAsync(name, clients[p], p, dbId, records, winner);
            return (survivors.Max(p => finished[p]), leaderDuration);
        }
        finally
        {
            foreach (var cl in clients)
            {
                if (cl is not null)
                    await cl.DisposeAsync();
            }
        }
    }

    private static double Seconds(Timeval t) => t.Sec + (t.Usec / 1e6);

    private static double Seconds(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1e3;

    private static byte[] Key(int i) => System.Text.Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"recbench-key-{i:D7}"));

    /// <summary>Attaches the db on one node and writes all records into its local copy under one all-record lock.</summary>
    private static async Task<uint> FillAsync(CtdbClient client, uint pnn, ulong rsn, int records)
    {
        var t = TimeSpan.FromSeconds(30);
        var id = await client.AttachDbAsync(Pnn.CurrentNode, DbName, DbFlags.None, t);
        var path = await client.GetDbPathAsync(Pnn.CurrentNode, id, t);
        var flags = await client.GetDbOpenFlagsAsync(Pnn.CurrentNode, id, t);
        using var tdb = TdbFile.Open(path, 0, flags, OpenFlags.ReadWrite);
        var value = new byte[100];
        value.AsSpan().Fill((byte)('a' + pnn));
        var record = LtdbRecord.Build(new LtdbHeader(rsn, pnn), value);
        tdb.LockAll();
        try
        {
            for (var i = 0; i < records; i++)
                tdb.Store(Key(i), record);
        }
        finally
        {
            tdb.UnlockAll();
        }
        return id;
    }

    /// <summary>Every survivor must hold every record with the value of the highest-rsn copy (rsn 3, on node
    /// <paramref name="winner"/>). Samba's recovery stores volatile records with rsn + 1, ours keeps the rsn.</summary>
    private static async Task VerifyAsync(string name, CtdbClient client, int pnn, uint dbId, int records, int winner)
    {
        var path = await client.GetDbPathAsync(Pnn.CurrentNode, dbId, TimeSpan.FromSeconds(30));
        var flags = await client.GetDbOpenFlagsAsync(Pnn.CurrentNode, dbId, TimeSpan.FromSeconds(30));
        using var tdb = TdbFile.Open(path, 0, flags, OpenFlags.ReadWrite);
        var expected = new byte[100];
        expected.AsSpan().Fill((byte)('a' + winner));
        int missing = 0, stale = 0;
        LtdbHeader? example = null;
        for (var i = 0; i < records; i++)
        {
            var v = tdb.Fetch(Key(i));
            if (v is null || !LtdbRecord.TryReadHeader(v, out var h))
            {
                missing++;
            }
            else if (h.Rsn < 3 || !v.AsSpan(LtdbRecord.HeaderSize).SequenceEqual(expected))
            {
                stale++;
                example ??= h;
            }
        }
        if (missing + stale > 0)
            throw new InvalidOperationException($"{name}: after recovery node {pnn} lacks {missing} of {records} records and holds {stale} stale ones (e.g. {example}; expected node {winner}'s copy, rsn 3)");
    }
}
