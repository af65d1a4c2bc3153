using System.Diagnostics;
using System.Text.RegularExpressions;
using SharpCtdb.Daemon.Tests.Cluster;

namespace SharpCtdb.Daemon.Tests.Databases;

/// <summary>A healthy 3-node cluster of our daemon on 127.0.110.0/24 for the database tests.</summary>
public sealed class DatabaseCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; } = new(3, "127.0.110");

    public async ValueTask InitializeAsync()
    {
        Cluster.StartAll();
        await Cluster.WaitHealthyAsync([0, 1, 2], 3);
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}

/// <summary>Debian's `ctdb` tool and `tdbdump` against our databases (behaviour §12): attach, dbmap, records, migration.</summary>
public sealed partial class DatabaseClusterTests(DatabaseCluster fixture) : IClassFixture<DatabaseCluster>
{
    private readonly TestCluster _c = fixture.Cluster;

    [GeneratedRegex(@"^dbid:0x([0-9a-f]{8}) name:(\S+) path:(\S+)(.*)$", RegexOptions.Multiline)]
    private static partial Regex DbMapLine();

    private async Task<ToolResult> OkAsync(int pnn, params string[] args)
    {
        var r = await _c.CtdbAsync(pnn, args);
        Assert.True(r.ExitCode == 0, $"ctdb {string.Join(' ', args)} on node {pnn}: {r}");
        return r;
    }

    private async Task<Dictionary<string, (string Id, string Path, string Flags)>> DbMapAsync(int pnn)
    {
        var r = await OkAsync(pnn, "getdbmap");
        return DbMapLine().Matches(r.Stdout).ToDictionary(m => m.Groups[2].Value,
            m => (m.Groups[1].Value, m.Groups[3].Value, m.Groups[4].Value.Trim()));
    }

    private static async Task<string> TdbDumpAsync(string path)
    {
        var psi = new ProcessStartInfo("tdbdump") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"tdbdump {path}: exit {p.ExitCode}");
        return output;
    }

    [Fact]
    public async Task AttachOnOneNodeAttachesEverywhereWithFourSeventeenPathsAndFlags()
    {
        await OkAsync(0, "attach", "dbt_vol.tdb");
        await OkAsync(1, "attach", "dbt_pers.tdb", "persistent");
        await OkAsync(2, "attach", "dbt_rep.tdb", "replicated");
        for (var pnn = 0; pnn < 3; pnn++)
        {
            var node = pnn;
            await TestCluster.WaitUntilAsync(async () => (await DbMapAsync(node)).Keys.Intersect(["dbt_vol.tdb", "dbt_pers.tdb", "dbt_rep.tdb"]).Count() == 3,
                $"node {node} lists the three dbs", TimeSpan.FromSeconds(30));
            var map = await DbMapAsync(node);
            var b = _c.NodeBase(node);
            Assert.Equal((Path.Combine(b, "db/volatile", $"dbt_vol.tdb.{node}"), ""), (map["dbt_vol.tdb"].Path, map["dbt_vol.tdb"].Flags));
            Assert.Equal((Path.Combine(b, "db/persistent", $"dbt_pers.tdb.{node}"), "PERSISTENT"), (map["dbt_pers.tdb"].Path, map["dbt_pers.tdb"].Flags));
            // Verified on 4.17: replicated dbs live in the volatile directory.
            Assert.Equal((Path.Combine(b, "db/volatile", $"dbt_rep.tdb.{node}"), "REPLICATED"), (map["dbt_rep.tdb"].Path, map["dbt_rep.tdb"].Flags));
            Assert.True(File.Exists(map["dbt_pers.tdb"].Path));
        }
        // db ids are the same everywhere (Jenkins hash of the name with its NUL).
        Assert.Equal((await DbMapAsync(0))["dbt_pers.tdb"].Id, (await DbMapAsync(2))["dbt_pers.tdb"].Id);

        var status = await OkAsync(1, "getdbstatus", "dbt_pers.tdb");
        Assert.Contains("PERSISTENT: yes", status.Stdout);
        Assert.Contains("REPLICATED: no", status.Stdout);
        Assert.Contains("HEALTH: OK", status.Stdout);

        // A volatile attach of a persistent db returns it; the reverse is refused (§12.1).
        await OkAsync(0, "attach", "dbt_pers.tdb");
        Assert.NotEqual(0, (await _c.CtdbAsync(0, "attach", "dbt_vol.tdb", "persistent")).ExitCode);

        // GET_DB_SEQNUM stores the synthetic header on a persistent db, exactly like 4.17 (observed with tdbdump).
        Assert.Equal("0x0", (await OkAsync(0, "getdbseqnum", "dbt_pers.tdb")).Stdout.Trim());
        var dump = await TdbDumpAsync((await DbMapAsync(0))["dbt_pers.tdb"].Path);
        Assert.Contains("key(23) = \"__db_sequence_number__\\00\"", dump);
        Assert.Contains("data(24) = ", dump);

        var stats = await OkAsync(2, "dbstatistics", "dbt_vol.tdb");
        Assert.Contains("hop_count_buckets:", stats.Stdout);
    }

    [Fact]
    public async Task DetachNeedsAllowClientDbAttachOffAndRemovesTheDbEverywhere()
    {
        await OkAsync(0, "attach", "dbt_detach.tdb");
        await TestCluster.WaitUntilAsync(async () => (await DbMapAsync(2)).ContainsKey("dbt_detach.tdb"), "attached on node 2");
        Assert.NotEqual(0, (await _c.CtdbAsync(0, "detach", "dbt_detach.tdb")).ExitCode);
        try
        {
            for (var pnn = 0; pnn < 3; pnn++)
                await OkAsync(pnn, "setvar", "AllowClientDBAttach", "0");
            await OkAsync(0, "detach", "dbt_detach.tdb");
            for (var pnn = 0; pnn < 3; pnn++)
            {
                var node = pnn;
                await TestCluster.WaitUntilAsync(async () => !(await DbMapAsync(node)).ContainsKey("dbt_detach.tdb"), $"detached on node {node}");
            }
        }
        finally
        {
            for (var pnn = 0; pnn < 3; pnn++)
                await _c.CtdbAsync(pnn, "setvar", "AllowClientDBAttach", "1");
        }
    }

    [Fact]
    public async Task RecordWrittenOnOneNodeIsReadOnTheOthersAndMigrates()
    {
        await OkAsync(0, "attach", "dbt_rec.tdb");
        await OkAsync(0, "writekey", "dbt_rec.tdb", "alpha", "one");
        for (var pnn = 1; pnn < 3; pnn++)
        {
            var r = await OkAsync(pnn, "readkey", "dbt_rec.tdb", "alpha");
            Assert.Equal("Data: size:3 ptr:[one]", r.Stdout.Trim());
            // The reading node is now dmaster: its own tdb holds the record with dmaster = itself.
            var dump = await TdbDumpAsync((await DbMapAsync(pnn))["dbt_rec.tdb"].Path);
            Assert.Contains("key(5) = \"alpha\"", dump);
            var header = HeaderOf(dump, "alpha");
            Assert.Equal((uint)pnn, header.Dmaster);
            Assert.True((header.Flags & 0x00010000) != 0, "MIGRATED_WITH_DATA set after a migration with data");
        }
        // Writes through every node, then catdb from each node shows every record exactly once.
        await OkAsync(1, "writekey", "dbt_rec.tdb", "beta", "two");
        await OkAsync(2, "writekey", "dbt_rec.tdb", "gamma", "three");
        await OkAsync(2, "writekey", "dbt_rec.tdb", "alpha", "uno");
        for (var pnn = 0; pnn < 3; pnn++)
        {
            var cat = await OkAsync(pnn, "catdb", "dbt_rec.tdb");
            Assert.Contains("Dumped 3 records", cat.Stdout);
            Assert.Contains("data(3) = \"uno\"", cat.Stdout);
            Assert.Contains("data(3) = \"two\"", cat.Stdout);
            Assert.Contains("data(5) = \"three\"", cat.Stdout);
        }
        Assert.Equal("Data: size:3 ptr:[uno]", (await OkAsync(0, "readkey", "dbt_rec.tdb", "alpha")).Stdout.Trim());
        // deletekey leaves an empty record, which catdb skips and readkey reports as empty.
        await OkAsync(1, "deletekey", "dbt_rec.tdb", "beta");
        Assert.Equal("Data: size:0 ptr:[]", (await OkAsync(2, "readkey", "dbt_rec.tdb", "beta")).Stdout.Trim());
        Assert.Contains("Dumped 2 records", (await OkAsync(0, "catdb", "dbt_rec.tdb")).Stdout);
    }

    [Fact]
    public async Task MigrationRaisesRsnByTwoOnArrivalAsInFourSeventeen()
    {
        // Observed on Samba's ctdbd: the node that becomes dmaster stores the record (rsn+1) and runs the call (rsn+1).
        await OkAsync(0, "attach", "dbt_rsn.tdb");
        await OkAsync(0, "writekey", "dbt_rsn.tdb", "rsnkey", "v");
        var h = HeaderOf(await TdbDumpAsync((await DbMapAsync(0))["dbt_rsn.tdb"].Path), "rsnkey");
        Assert.Equal(0u, h.Dmaster);
        Assert.True(h.Rsn >= 2, $"rsn {h.Rsn}");
        await OkAsync(1, "readkey", "dbt_rsn.tdb", "rsnkey");
        var after = HeaderOf(await TdbDumpAsync((await DbMapAsync(1))["dbt_rsn.tdb"].Path), "rsnkey");
        Assert.Equal((h.Rsn + 2, 1u), (after.Rsn, after.Dmaster));
    }

    [Fact]
    public async Task VacuumingDeletesAnEmptyRecordThatNeverLeftItsLmaster()
    {
        // No vacuuming run may come between the delete and the look at the empty record (CI saw one with 1 s).
        for (var pnn = 0; pnn < 3; pnn++)
            await OkAsync(pnn, "setvar", "VacuumInterval", "3600");
        await OkAsync(0, "attach", "dbt_vac.tdb");
        var path = (await DbMapAsync(0))["dbt_vac.tdb"].Path;
        // A key whose lmaster is node 0: written there it never migrates, so its header has no MIGRATED_WITH_DATA.
        string? key = null;
        for (var i = 0; i < 30 && key is null; i++)
        {
            var k = $"vac{i}";
            await OkAsync(0, "writekey", "dbt_vac.tdb", k, "x");
            if (HeaderOf(await TdbDumpAsync(path), k) is { Flags: 0, Rsn: 2 })
                key = k;
        }
        Assert.NotNull(key);
        await OkAsync(0, "deletekey", "dbt_vac.tdb", key);
        Assert.Contains($"key({key.Length}) = \"{key}\"\ndata(24)", await TdbDumpAsync(path));
        // Lowering the interval takes effect at once, not after the run scheduled an hour out.
        for (var pnn = 0; pnn < 3; pnn++)
            await OkAsync(pnn, "setvar", "VacuumInterval", "1");
        await TestCluster.WaitUntilAsync(async () => !(await TdbDumpAsync(path)).Contains($"key({key.Length}) = \"{key}\""),
            "the empty record is vacuumed away", TimeSpan.FromSeconds(30));
        Assert.Equal("Data: size:0 ptr:[]", (await OkAsync(1, "readkey", "dbt_vac.tdb", key)).Stdout.Trim());
    }

    /// <summary>Parses the ltdb header of <paramref name="key"/> from tdbdump output (escaped bytes).</summary>
    private static (ulong Rsn, uint Dmaster, uint Flags) HeaderOf(string dump, string key)
    {
        var m = Regex.Match(dump, $"key\\({key.Length}\\) = \"{Regex.Escape(key)}\"\\ndata\\(\\d+\\) = \"(.*)\"");
        Assert.True(m.Success, $"no record {key} in dump:\n{dump}");
        var bytes = Unescape(m.Groups[1].Value);
        Assert.True(bytes.Count >= 24, "record shorter than the ltdb header");
        var a = bytes.ToArray();
        return (BitConverter.ToUInt64(a, 0), BitConverter.ToUInt32(a, 8), BitConverter.ToUInt32(a, 16));
    }

    private static List<byte> Unescape(string s)
    {
        var list = new List<byte>();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 2 < s.Length)
            {
                list.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                list.Add((byte)s[i]);
            }
        }
        return list;
    }
}
