using System.Diagnostics;
using System.Text.Json;

namespace SharpCtdb.Lab.Tests;

/// <summary>
/// One-address-one-node safety with real addresses (docs/failover-safety.md), in the netns lab of
/// ../shared/anchors/netns-lab (lab.sh: 3 nodes + client on a bridge, real 10.interface, gratuitous ARPs, a
/// client probe and event-exact duplicate detection from `ip monitor address`). For every fault scenario: no
/// public address is ever configured on two nodes that can both reach the client, the victim's addresses are
/// served by a survivor within the window, and afterwards every address answers the client again.
/// Fast tunables (KeepaliveInterval=1 KeepaliveLimit=2) and short windows keep it at about a minute per script set.
/// </summary>
public sealed class LabSafetyTests
{
    private static readonly string[] AllScenarios = ["kill", "nodedeath", "stop", "linkdown", "disable", "shutdown"];

    [Fact]
    public Task Debian_10_interface_every_scenario_is_safe() => RunLabAsync("debian", AllScenarios);

    [Fact]
    // Debian's script covers every scenario above; with ours the scenario that exercises its add/remove and announce
    // paths end to end is enough (the suite must stay within its CI time budget).
    public Task Our_10_interface_kill_is_safe() => RunLabAsync("ours", ["kill"]);

    private static async Task RunLabAsync(string scripts, string[] scenarios)
    {
        var lab = Lab.Create(scripts);
        try
        {
            var up = await lab.RunAsync(["up", "3", "--daemon", Lab.Bin("ctdbd"), "--tool", Lab.Bin("ctdb"),
                "--tunables", "KeepaliveInterval=1 KeepaliveLimit=2", .. lab.ScriptArgs], TimeSpan.FromMinutes(4));
            Assert.True(up.Code == 0, $"lab up failed: {up.Output}");
            foreach (var sc in scenarios)
            {
                var window = sc is "disable" or "shutdown" ? "4" : "5";
                var run = await lab.RunAsync(["run", sc, "--runs", "1", "--window", window, "--settle", "1", "--pre", "1",
                    "--after", "3", "--out", lab.Results], TimeSpan.FromMinutes(3));
                Assert.True(run.Code == 0, $"{sc}: lab run failed: {run.Output}");
                var record = JsonDocument.Parse(File.ReadLines(lab.Results).Last()).RootElement;
                Assert.Equal(sc, record.GetProperty("scenario").GetString());
                var moved = 0;
                foreach (var ip in record.GetProperty("ips").EnumerateObject())
                {
                    var v = ip.Value;
                    // Configured on two nodes while the victim's cable was plugged = visible to the client.
                    Assert.True(v.GetProperty("dup_time_link_up").GetDouble() == 0,
                        $"{sc}: {ip.Name} was on two reachable nodes: {v.GetProperty("dup_intervals")}");
                    if (!v.GetProperty("moved").GetBoolean())
                        continue;
                    moved++;
                    Assert.True(v.GetProperty("first_ok_new").ValueKind == JsonValueKind.Number,
                        $"{sc}: {ip.Name} not served by its new owner within the window");
                }
                Assert.True(moved > 0, $"{sc}: the victim hosted no address");
                if (sc == "shutdown")
                    AssertHandedOverBeforeExit(lab, record);
                foreach (var ip in record.GetProperty("ips").EnumerateObject())
                    Assert.True(await lab.ClientReachesAsync(ip.Name, TimeSpan.FromSeconds(30)), $"{sc}: {ip.Name} does not answer after the restore");
            }

            // An address removed behind ctdbd's back (an admin, another script) is noticed and put back on its owner.
            var probe = "198.51.100.101";
            var owner = await lab.OwnerNamespaceAsync(probe);
            Assert.True(owner is not null, $"{probe} is on no node");
            Assert.Equal(0, (await LabHost.RunAsync("ip", ["-n", owner, "addr", "del", probe + "/24", "dev", "eth0"], new Dictionary<string, string>(), TimeSpan.FromSeconds(10))).Code);
            Assert.True(await lab.ClientReachesAsync(probe, TimeSpan.FromSeconds(30)), $"{probe}, removed from {owner} behind ctdbd's back, was not taken again");
        }
        finally
        {
            await lab.RunAsync(["down"], TimeSpan.FromMinutes(1));
            lab.Cleanup();
        }
    }

    /// <summary>
    /// A node shutting down hands its addresses over first (docs/failover-safety.md): every moved address was taken
    /// by a survivor before the victim's daemon finished its shutdown sequence, not after it went away.
    /// </summary>
    private static void AssertHandedOverBeforeExit(Lab lab, JsonElement record)
    {
        var victim = record.GetProperty("victim").GetInt32();
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds((long)(record.GetProperty("t0").GetDouble() * 1000));
        var exited = LogTimes(Path.Combine(lab.Dir, $"node{victim}", "log.ctdb"), "Shutdown sequence complete").Where(t => t >= t0).ToList();
        Assert.True(exited.Count > 0, "the victim's log has no completed shutdown after the fault");
        foreach (var ip in record.GetProperty("ips").EnumerateObject().Where(i => i.Value.GetProperty("moved").GetBoolean()))
        {
            var taken = Enumerable.Range(0, 3).Where(n => n != victim)
                .SelectMany(n => LogTimes(Path.Combine(lab.Dir, $"node{n}", "log.ctdb"), $"Takeover of IP {ip.Name}/"))
                .Where(t => t >= t0).Order().ToList();
            Assert.True(taken.Count > 0 && taken[0] < exited[0],
                $"{ip.Name} was taken at {(taken.Count > 0 ? taken[0].ToString("HH:mm:ss.ffffff") : "never")}, not before the victim finished shutting down at {exited[0]:HH:mm:ss.ffffff}");
        }
    }

    /// <summary>Timestamps of the log lines (4.17 layout: "TIMESTAMP HOST ctdbd[PID]: MSG") that contain <paramref name="text"/>.</summary>
    private static IEnumerable<DateTimeOffset> LogTimes(string log, string text) =>
        File.Exists(log)
            ? File.ReadLines(log).Where(l => l.Contains(text, StringComparison.Ordinal))
                .Select(l => DateTimeOffset.Parse(l[..l.IndexOf(' ', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture))
            : [];

    private sealed class Lab
    {
        private readonly Dictionary<string, string> _env;
        private readonly string _labSh;
        private readonly string _prefix;

        private Lab(string labSh, string prefix, string dir, IReadOnlyList<string> scriptArgs)
        {
            _labSh = labSh;
            _prefix = prefix;
            Dir = dir;
            ScriptArgs = scriptArgs;
            _env = new() { ["LAB_PREFIX"] = prefix, ["LAB_DIR"] = dir, ["LAB_PORT"] = "8080" };
        }

        public string Dir { get; }
        public IReadOnlyList<string> ScriptArgs { get; }
        public string Results => Path.Combine(Dir, "test-results.jsonl");

        public static string Bin(string name) => LabHost.Bin(name);

        public static Lab Create(string scripts)
        {
            Assert.SkipUnless(LabHost.IsRoot, "needs root (network namespaces)");
            foreach (var tool in new[] { "/usr/bin/python3", "/usr/sbin/ethtool", "/usr/bin/unshare" })
                Assert.SkipUnless(File.Exists(tool), $"needs {tool}");
            var root = LabHost.RepoRoot();
            var labSh = Path.GetFullPath(Path.Combine(root, "..", "shared", "anchors", "netns-lab", "lab.sh"));
            Assert.True(File.Exists(labSh), $"netns lab not found at {labSh}: the test needs ../shared beside the repository");
            Assert.SkipUnless(File.Exists("/etc/ctdb/functions") && Directory.Exists("/var/lib/ctdb"), "needs Debian's ctdb package (functions, scripts)");
            // Our own prefix (scA…) and directory; "scAt-" never prefix-matches a manual "scA-" lab. LAB_TEST_PREFIX and
            // LAB_TEST_DIR (stems) let a developer run the tests beside other labs in namespaces and dirs of their own.
            var stem = Environment.GetEnvironmentVariable("LAB_TEST_PREFIX") is { Length: > 0 } s ? s : "scAt";
            var prefix = $"{stem}{scripts[0]}-";
            var dir = (Environment.GetEnvironmentVariable("LAB_TEST_DIR") is { Length: > 0 } d ? d : "/tmp/sc-ipa-t") + scripts[0];
            var scriptArgs = scripts == "ours" ? new[] { "--scripts", MixedScriptsDir(dir, root) } : [];
            var lab = new Lab(labSh, prefix, dir, scriptArgs);
            // A previous run killed mid-way may have left the lab up.
            lab.RunAsync(["down"], TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
            return lab;
        }

        public Task<(int Code, string Output)> RunAsync(IEnumerable<string> args, TimeSpan limit) =>
            LabHost.RunAsync(_labSh, args, _env, limit);

        /// <summary>A new TCP connection from the client namespace to IP:8080 gets the service's answer.</summary>
        public async Task<bool> ClientReachesAsync(string ip, TimeSpan deadline)
        {
            var end = DateTime.UtcNow + deadline;
            while (DateTime.UtcNow < end)
            {
                var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in new[] { "netns", "exec", $"{_prefix}cl", "timeout", "2", "bash", "-c",
                    $"exec 3<>/dev/tcp/{ip}/8080 && echo probe >&3 && read -t 1 line <&3 && echo \"$line\"" })
                    psi.ArgumentList.Add(a);
                using var p = Process.Start(psi)!;
                var answer = await p.StandardOutput.ReadToEndAsync();
                await p.WaitForExitAsync();
                if (p.ExitCode == 0 && answer.Trim().StartsWith('n'))
                    return true;
                await Task.Delay(200); // polling interval of a condition wait, not synchronisation
            }
            return false;
        }

        /// <summary>The node namespace that has <paramref name="ip"/> on its eth0, or null.</summary>
        public async Task<string?> OwnerNamespaceAsync(string ip)
        {
            for (var n = 0; n < 3; n++)
            {
                var ns = $"{_prefix}n{n}";
                var r = await LabHost.RunAsync("ip", ["-n", ns, "-o", "addr", "show", "dev", "eth0"], new Dictionary<string, string>(), TimeSpan.FromSeconds(10));
                if (r.Output.Contains($" {ip}/", StringComparison.Ordinal))
                    return ns;
            }
            return null;
        }

        public void Cleanup()
        {
            foreach (var d in new[] { Dir, Dir + "-scripts" })
            {
                try
                {
                    if (Directory.Exists(d))
                        Directory.Delete(d, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }

        /// <summary>
        /// lab.sh links 00.ctdb.script and 10.interface.script from one directory; dist/ has no 00.ctdb, so use
        /// Debian's 00.ctdb with our 10.interface (a dangling link would fail the init event).
        /// </summary>
        private static string MixedScriptsDir(string dir, string root)
        {
            var sd = dir + "-scripts";
            if (Directory.Exists(sd))
                Directory.Delete(sd, recursive: true);
            Directory.CreateDirectory(sd);
            File.CreateSymbolicLink(Path.Combine(sd, "00.ctdb.script"), "/usr/share/ctdb/events/legacy/00.ctdb.script");
            File.CreateSymbolicLink(Path.Combine(sd, "10.interface.script"), Path.Combine(root, "dist", "events", "legacy", "10.interface.script"));
            return sd;
        }
    }
}
