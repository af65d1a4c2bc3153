using System.Net;
using System.Net.Sockets;
using SharpCtdb.Tool;

namespace SharpCtdb.Interop.Tests;

/// <summary>
/// Our `ctdb` and Debian's give identical output (stdout, stderr, exit code) for the IP, interface, tickle,
/// natgw/lvs and checktcpport commands against a 3-node SharpCTDB cluster brought up by cluster.sh on
/// 127.0.122.0/24; changes made with our tool are seen by Debian's. The natgw/lvs helpers are also run with
/// CTDB = our tool, so the whole chain (helper → our tool → our daemon) is exercised.
/// </summary>
public sealed class IpToolDifferentialTests(ITestOutputHelper output)
{
    private const string Net = "127.0.122";
    private readonly List<string> _differences = [];

    private static string NodeBase(ShCluster c, int pnn) => Path.Combine(c.Dir, $"node.{pnn}");

    private static Dictionary<string, string> Env(ShCluster c, int pnn, IReadOnlyDictionary<string, string>? extra)
    {
        var env = new Dictionary<string, string>
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin",
            ["CTDB_TEST_MODE"] = "yes",
            ["CTDB_BASE"] = NodeBase(c, pnn),
        };
        if (extra is not null)
        {
            foreach (var (k, v) in extra)
                env[k] = v;
        }
        return env;
    }

    private static async Task<RunResult> OursAsync(ShCluster c, int pnn, string[] args, IReadOnlyDictionary<string, string>? extra = null,
        string? stdin = null)
    {
        var env = Env(c, pnn, extra).ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
        using var o = new StringWriter();
        using var e = new StringWriter();
        var rc = await ToolProgram.RunAsync(args, env, o, e, stdin is null ? TextReader.Null : new StringReader(stdin));
        return new RunResult(rc, o.ToString(), e.ToString());
    }

    private static Task<RunResult> DebianAsync(ShCluster c, int pnn, string[] args, IReadOnlyDictionary<string, string>? extra = null) =>
        Proc.RunAsync(Paths.DebianCtdb, args, Env(c, pnn, extra), TimeSpan.FromSeconds(60));

    private async Task SameAsync(ShCluster c, int pnn, string[] args, IReadOnlyDictionary<string, string>? extra = null)
    {
        var theirs = await DebianAsync(c, pnn, args, extra);
        var ours = await OursAsync(c, pnn, args, extra);
        var what = $"ctdb {string.Join(' ', args)} on node {pnn}";
        output.WriteLine($"{what}: exit {theirs.ExitCode}\n{theirs.Output}");
        if (theirs.ExitCode != ours.ExitCode || theirs.Stdout != ours.Stdout || theirs.Stderr != ours.Stderr)
        {
            _differences.Add($"{what}\n--- Debian: exit {theirs.ExitCode}\nstdout:\n{theirs.Stdout}stderr:\n{theirs.Stderr}"
                + $"--- ours: exit {ours.ExitCode}\nstdout:\n{ours.Stdout}stderr:\n{ours.Stderr}");
        }
    }

    [Fact]
    public async Task IpCommandsMatchDebiansToolAgainstOurCluster()
    {
        await using var c = await ShCluster.StartAsync(Net, 3);
        var ipAll = await DebianAsync(c, 0, ["ip", "all"]);
        var owner = int.Parse(ipAll.Stdout.Split('\n').First(l => l.StartsWith("198.51.100.1 ", StringComparison.Ordinal)).Split(' ')[1],
            System.Globalization.CultureInfo.InvariantCulture);

        string[][] reads =
        [
            ["ip"], ["ip", "all"], ["-X", "ip"], ["ip", "-v"], ["-X", "ip", "-v", "all"], ["ipinfo", "198.51.100.1"],
            ["ipinfo", "198.51.100.99"], ["ifaces"], ["-X", "ifaces"], ["gettickles", "198.51.100.1"], ["gettickles", "198.51.100.99"],
            ["setifacelink", "eth9", "down"], ["delip", "198.51.100.77"], ["addip", "198.51.100.1/24", "lo"],
        ];
        foreach (var args in reads)
            await SameAsync(c, 1, args);

        // ---- tickles written with our tool, read with both ----
        var add = await OursAsync(c, owner, ["addtickle", "127.0.122.50:5000", "198.51.100.1:445"]);
        Assert.Equal(0, add.ExitCode);
        var addStdin = await OursAsync(c, owner, ["addtickle"], stdin: "127.0.122.51:5001 198.51.100.1:2049\n");
        Assert.Equal(0, addStdin.ExitCode);
        await SameAsync(c, owner, ["gettickles", "198.51.100.1"]);
        await SameAsync(c, owner, ["-X", "gettickles", "198.51.100.1", "445"]);
        var bad = await OursAsync(c, owner, ["addtickle", "127.0.122.50:5000", "198.51.100.99:445"]);
        var badTheirs = await DebianAsync(c, owner, ["addtickle", "127.0.122.50:5000", "198.51.100.99:445"]);
        Assert.Equal((badTheirs.ExitCode, badTheirs.Output), (bad.ExitCode, bad.Output));
        Assert.Equal(0, (await OursAsync(c, owner, ["deltickle", "127.0.122.50:5000", "198.51.100.1:445"])).ExitCode);
        Assert.Equal("Connections for IP: 198.51.100.1\nNum connections: 1\nSRC: 127.0.122.51:5001   DST: 198.51.100.1:2049\n",
            (await DebianAsync(c, owner, ["gettickles", "198.51.100.1"])).Stdout);

        // ---- addip with our tool, then hosted as seen by Debian's ----
        var addip = await OursAsync(c, 2, ["addip", "198.51.100.7/24", "lo"]);
        Assert.True(addip.ExitCode == 0, addip.Output);
        Assert.True(await Proc.WaitForAsync(async () => (await DebianAsync(c, 2, ["ip"])).Stdout.Contains("198.51.100.7 2\n", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30)), "198.51.100.7 hosted on node 2");
        await SameAsync(c, 2, ["addip", "198.51.100.7/24", "lo"]);

        // ---- checktcpport: free, and in use ----
        using (var probe = new TcpListener(IPAddress.Any, 0))
        {
            probe.Start();
            var busy = ((IPEndPoint)probe.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await SameAsync(c, 0, ["checktcpport", busy]);
            var r = await OursAsync(c, 0, ["checktcpport", busy]);
            Assert.Equal(98, r.ExitCode);
            probe.Stop();
            await SameAsync(c, 0, ["checktcpport", busy]);
        }

        // ---- natgw / lvs through the helpers, with Debian's tool and ours, the helper calling either tool ----
        var group = Path.Combine(c.Dir, "group_nodes");
        await File.WriteAllTextAsync(group, $"{Net}.1\n{Net}.2 follower-only\n{Net}.3\n", TestContext.Current.CancellationToken);
        for (var pnn = 0; pnn < 3; pnn++)
            File.Copy("/etc/ctdb/functions", Path.Combine(NodeBase(c, pnn), "functions"), overwrite: true);
        var ourTool = Path.Combine(AppContext.BaseDirectory, "ctdb");
        Assert.True(File.Exists(ourTool), $"our ctdb not built at {ourTool}");
        foreach (var helperTool in new[] { Paths.DebianCtdb, ourTool })
        {
            var env = new Dictionary<string, string> { ["CTDB_NATGW_NODES"] = group, ["CTDB_LVS_NODES"] = group, ["CTDB"] = helperTool };
            foreach (var cmd in new[] { "natgw", "lvs" })
            {
                foreach (var arg in new[] { "leader", "list", "status" })
                    await SameAsync(c, 1, [cmd, arg], env);
            }
            Assert.Equal($"0 {Net}.1\n", (await OursAsync(c, 1, ["natgw", "leader"], env)).Stdout);
        }
        Assert.True(_differences.Count == 0, string.Join("\n\n", _differences));
    }
}
