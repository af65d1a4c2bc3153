using System.Globalization;

namespace SharpCtdb.Interop.Tests;

/// <summary>
/// The real acceptance for databases: Debian's smbd 4.17 (`clustering = yes`) on a 3-node SharpCTDB cluster via
/// ../shared/anchors/samba-cluster/samba.sh. Skipped when samba/smbclient are not installed.
/// </summary>
public sealed class DatabasesSambaTests
{
    private const string Net = "127.0.111";
    private const int SmbPortBase = 4710;

    private static string SambaSh => Path.GetFullPath(Path.Combine(Paths.RepoRoot, "..", "shared", "anchors", "samba-cluster", "samba.sh"));

    [Fact]
    public async Task SmbdAttachesItsDatabasesAndAFileWrittenThroughOneNodeIsReadThroughTheOthers()
    {
        Assert.SkipUnless(File.Exists("/usr/sbin/smbd") && File.Exists("/usr/bin/smbclient"), "samba and smbclient are not installed");
        Assert.True(File.Exists(SambaSh), $"samba harness not found at {SambaSh}");
        await using var c = await ShCluster.StartAsync(Net, 3);
        var env = new Dictionary<string, string>
        {
            ["CTDB_REAL_DIR"] = c.Dir,
            ["SMB_PORT_BASE"] = SmbPortBase.ToString(CultureInfo.InvariantCulture),
        };
        var work = Path.Combine(c.Dir, "smbtest");
        Directory.CreateDirectory(work);
        try
        {
            var start = await Proc.RunAsync(SambaSh, ["start"], env, TimeSpan.FromSeconds(90));
            Assert.True(start.ExitCode == 0, $"samba.sh start: {start.Output}");

            // smbd attaches 15 databases (9 volatile, 6 persistent) and every node lists them.
            for (var pnn = 0; pnn < 3; pnn++)
            {
                var node = pnn;
                Assert.True(await Proc.WaitForAsync(async () => (await c.CtdbAsync(node, "getdbmap")).Stdout.Contains("Number of databases:15"),
                    TimeSpan.FromSeconds(30)), $"node {node}: {(await c.CtdbAsync(node, "getdbmap")).Output}");
            }
            var map = (await c.CtdbAsync(1, "getdbmap")).Stdout;
            foreach (var db in new[] { "locking.tdb", "brlock.tdb", "g_lock.tdb", "smbXsrv_session_global.tdb", "secrets.tdb PERSISTENT" })
                Assert.Contains(db.Split(' ')[0], map);

            var original = Path.Combine(work, "put0.txt");
            await File.WriteAllTextAsync(original, $"written through node 0 at {DateTime.UtcNow:O}\n", TestContext.Current.CancellationToken);
            var put = await SmbAsync(env, 0, $"put {original} from0.txt");
            Assert.True(put.ExitCode == 0, $"put through node 0: {put.Output}");
            for (var pnn = 1; pnn < 3; pnn++)
            {
                var copy = Path.Combine(work, $"got{pnn}.txt");
                var get = await SmbAsync(env, pnn, $"get from0.txt {copy}; ls");
                Assert.True(get.ExitCode == 0, $"get through node {pnn}: {get.Output}");
                Assert.Contains("from0.txt", get.Stdout);
                Assert.Equal(await File.ReadAllTextAsync(original, TestContext.Current.CancellationToken),
                    await File.ReadAllTextAsync(copy, TestContext.Current.CancellationToken));
            }
            var second = Path.Combine(work, "put2.txt");
            await File.WriteAllTextAsync(second, "written through node 2\n", TestContext.Current.CancellationToken);
            Assert.Equal(0, (await SmbAsync(env, 2, $"put {second} from2.txt")).ExitCode);
            var back = Path.Combine(work, "back.txt");
            Assert.Equal(0, (await SmbAsync(env, 0, $"get from2.txt {back}")).ExitCode);
            Assert.Equal("written through node 2\n", await File.ReadAllTextAsync(back, TestContext.Current.CancellationToken));

            // Session records live in our volatile dbs: a cluster-wide traverse finds them.
            var cat = await c.CtdbAsync(0, "catdb", "smbXsrv_version_global.tdb");
            Assert.Contains("Dumped 1 records", cat.Stdout);
        }
        finally
        {
            await Proc.RunAsync(SambaSh, ["stop"], env, TimeSpan.FromSeconds(30));
        }
    }

    private static Task<RunResult> SmbAsync(Dictionary<string, string> env, int pnn, string commands) =>
        Proc.RunAsync(SambaSh, ["client", pnn.ToString(CultureInfo.InvariantCulture), "-c", commands], env, TimeSpan.FromSeconds(60));
}
