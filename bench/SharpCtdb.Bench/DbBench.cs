using System.Diagnostics;
using System.Globalization;
using SharpCtdb.Client;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Bench;

/// <summary>
/// `bench db`: one C# client (SharpCtdb.Client + libtdb, the way smbd's dbwrap_ctdb works) against a 3-node cluster of
/// each daemon: fetch-lock + store of new keys on one node (each needs one REQ_CALL), the same key again (purely local,
/// no daemon), and one record bouncing between the three nodes (one migration per access).
/// </summary>
public static class DbBench
{
    private sealed class Node(CtdbClient client, TdbFile tdb, uint pnn, uint dbId) : IAsyncDisposable
    {
        public CtdbClient Client { get; } = client;
        public TdbFile Tdb { get; } = tdb;
        public uint Pnn { get; } = pnn;
        public uint DbId { get; } = dbId;

        public async ValueTask DisposeAsync()
        {
            Tdb.Dispose();
            await Client.DisposeAsync();
        }
    }

    /// <summary>
    /// Starts both clusters once, then alternates the daemons <paramref name="runs"/> times (so that machine load hits
    /// both alike) after one untimed warm-up round each, and prints every round and the medians with ratios.
    /// </summary>
    public static async Task<int> RunAsync(int runs, int ops, int bounces, string oursNet, string sambaNet, string dirPrefix, string ourCtdbd)
    {
        var results = new List<(string Metric, string Unit, List<double> Ours, List<double> Samba)>
        {
            ("fetch-lock+store, new key (1 REQ_CALL each), node 0", "ops/s", [], []),
            ("fetch-lock+store, same key (local), node 0", "ops/s", [], []),
            ("record bouncing between 3 nodes", "migrations/s", [], []),
        };
        var sides = new[] { ("sharp", ourCtdbd, oursNet, true), ("samba", Env.SambaCtdbd, sambaNet, false) };
        var clusters = new List<Cluster>();
        var nodes = new List<List<Node>>();
        try
        {
            foreach (var (name, daemon, net, _) in sides)
            {
                var c = new Cluster("db-" + name, daemon, net, 3, dir: $"{dirPrefix}-{name}");
                clusters.Add(c);
                c.ColdStart();
                var n = new List<Node>();
                nodes.Add(n);
                for (uint pnn = 0; pnn < 3; pnn++)
                    n.Add(await OpenAsync(c, pnn));
            }
            for (var run = 0; run <= runs; run++)
            {
                // Odd rounds start with Samba's side: whichever goes first meets a machine that has just been idle.
                foreach (var s in run % 2 == 0 ? [0, 1] : new[] { 1, 0 })
                {
                    // Run 0 is the warm-up (JIT of the client, tdb pages, first connections); not counted.
                    var warm = run == 0;
                    var figures = new[]
                    {
                        await NewKeysAsync(nodes[s][0], warm ? Math.Min(ops, 200) : ops, $"r{run}"),
                        await SameKeyAsync(nodes[s][0], warm ? Math.Min(ops, 200) : ops * 10),
                        await BounceAsync(nodes[s], warm ? Math.Min(bounces, 100) : bounces),
                    };
                    if (warm)
                        continue;
                    for (var i = 0; i < figures.Length; i++)
                        (sides[s].Item4 ? results[i].Ours : results[i].Samba).Add(figures[i]);
                    Console.WriteLine($"run {run} {sides[s].Item1}: {string.Join(", ", figures.Select(f => f.ToString("F0", CultureInfo.InvariantCulture)))}");
                }
            }
        }
        finally
        {
            foreach (var n in nodes.SelectMany(n => n))
                await n.DisposeAsync();
            foreach (var c in clusters)
                c.Dispose();
        }
        Console.WriteLine();
        Console.WriteLine($"## Databases ({runs} runs each, medians; higher is better; ratio = SharpCTDB / Samba ctdbd)");
        Console.WriteLine("(paired ratio: median over rounds of that round's ratio; back-to-back halves of a round share the machine's state)");
        Console.WriteLine("| metric | SharpCTDB | Samba ctdbd | ratio | paired ratio |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (m, u, o, s) in results)
        {
            var mo = Stats.Median(o);
            var ms = Stats.Median(s);
            var paired = Stats.Median([.. o.Zip(s, (a, b) => b > 0 ? a / b : double.NaN)]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {m} | {mo:F0} {u} | {ms:F0} {u} | {(ms > 0 ? mo / ms : double.NaN):F2} | {paired:F2} |"));
        }
        return 0;
    }

    private static async Task<Node> OpenAsync(Cluster c, uint pnn)
    {
        var client = await CtdbClient.ConnectAsync($"{c.Base((int)pnn)}/run/ctdbd.socket", CancellationToken.None);
        var t = TimeSpan.FromSeconds(30);
        var id = await client.AttachDbAsync(Pnn.CurrentNode, "bench_db.tdb", DbFlags.None, t);
        var path = await client.GetDbPathAsync(Pnn.CurrentNode, id, t);
        var flags = await client.GetDbOpenFlagsAsync(Pnn.CurrentNode, id, t);
        var tdb = TdbFile.Open(path, 0, flags, OpenFlags.ReadWrite);
        return new Node(client, tdb, pnn, id);
    }

    /// <summary>smbd's fetch-lock: lock, use the local copy if we are dmaster, else unlock and ask the daemon to migrate.</summary>
    private static async Task<int> FetchLockStoreAsync(Node n, byte[] key, byte[] value)
    {
        var calls = 0;
        while (true)
        {
            if (TryStoreLocally(n, key, value))
                return calls;
            calls++;
            var reply = await n.Client.CallAsync(ReqCall.ImmediateMigration, n.DbId, CallId.NullFunc, key, [], TimeSpan.FromSeconds(30));
            if (reply.Status != 0)
                throw new InvalidOperationException($"REQ_CALL failed with status {reply.Status}");
        }
    }

    // Lock, check and store with no await in between (robust-mutex chain locks belong to the locking thread).
    private static bool TryStoreLocally(Node n, byte[] key, byte[] value)
    {
        n.Tdb.ChainLock(key);
        try
        {
            var v = n.Tdb.Fetch(key);
            if (v is null || !LtdbRecord.TryReadHeader(v, out var h) || h.Dmaster != n.Pnn)
                return false;
            n.Tdb.Store(key, LtdbRecord.Build(h, value));
            return true;
        }
        finally
        {
            n.Tdb.ChainUnlock(key);
        }
    }

    private static async Task<double> NewKeysAsync(Node n, int ops, string run)
    {
        var value = new byte[64];
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < ops; i++)
            await FetchLockStoreAsync(n, System.Text.Encoding.ASCII.GetBytes($"newkey-{run}-{i}"), value);
        return ops / sw.Elapsed.TotalSeconds;
    }

    private static async Task<double> SameKeyAsync(Node n, int ops)
    {
        var key = "samekey"u8.ToArray();
        var value = new byte[64];
        await FetchLockStoreAsync(n, key, value);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < ops; i++)
            await FetchLockStoreAsync(n, key, value);
        return ops / sw.Elapsed.TotalSeconds;
    }

    private static async Task<double> BounceAsync(List<Node> nodes, int rounds)
    {
        var key = "bouncekey"u8.ToArray();
        var value = new byte[64];
        await FetchLockStoreAsync(nodes[0], key, value);
        var migrations = 0;
        var sw = Stopwatch.StartNew();
        for (var i = 1; i <= rounds; i++)
            migrations += await FetchLockStoreAsync(nodes[i % nodes.Count], key, value);
        return migrations / sw.Elapsed.TotalSeconds;
    }
}
