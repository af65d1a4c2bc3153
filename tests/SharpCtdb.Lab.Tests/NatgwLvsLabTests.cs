namespace SharpCtdb.Lab.Tests;

/// <summary>
/// Debian's 11.natgw and 91.lvs event scripts against our daemon (issue 7), in network namespaces
/// (scripts/natgw-lab: 3 nodes on a bridge plus an "outside" namespace that is the NAT gateway's default gateway).
/// The NAT gateway / LVS leader gets the NAT-GW address, MASQUERADE and REJECT rules, the default route via the
/// gateway, the LVS address with global scope and the LVS services; the others route via the leader and keep the
/// LVS address with host scope. The leader moves on `ctdb stop` and back on `ctdb continue`, and on a killed daemon.
/// This kernel has no IP_VS, so ipvsadm is the lab's stand-in that keeps the table per node (see the script).
/// </summary>
public sealed class NatgwLvsLabTests
{
    private const string NatgwIp = "198.51.100.100";
    private const string LvsIp = "198.51.100.50";
    private const string Gateway = "198.51.100.1";
    private const string Masquerade = "-A POSTROUTING -s 192.0.2.0/24 ! -d 192.0.2.0/24 -j MASQUERADE";
    // Generous: on a 2-core machine at load 50 a startup (every node healthy) took up to 2 min, a leader move 10-40 s.
    private static readonly TimeSpan StartupDeadline = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan StepDeadline = TimeSpan.FromMinutes(2);

    private static string NodeIp(int pnn) => $"192.0.2.{pnn + 1}";

    /// <summary>Set to 1 to run this test: it takes 3-5 minutes on 2 cores, beyond what CI's 15-minute budget has left.</summary>
    public const string OptInVariable = "SHARPCTDB_NATGW_LAB";

    [Fact]
    public async Task Debian_natgw_and_lvs_scripts_follow_the_leader()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable(OptInVariable) == "1",
            $"opt-in: {OptInVariable}=1 (3-5 min; run by hand or in a nightly job, not in the 15-minute CI run)");
        var lab = NatgwLab.Create();
        try
        {
            var up = await lab.RunAsync(["up", "--daemon", LabHost.Bin("ctdbd"), "--tool", LabHost.Bin("ctdb"),
                "--tunables", "KeepaliveInterval=1 KeepaliveLimit=2"], TimeSpan.FromMinutes(2));
            Assert.True(up.Code == 0, $"natgw-lab up failed: {up.Output}");

            // Node 0 is the first healthy node in both lists (node 2 is NAT-GW follower-only).
            await lab.WaitForLeaderAsync(0, nodes: [0, 1, 2], usable: [0, 1, 2], "all nodes up", StartupDeadline);
            Assert.Equal("0", (await lab.CtdbAsync(1, "lvs", "leader")).Trim());
            Assert.Equal($"{NodeIp(0)}\tLEADER\n{NodeIp(1)}\n{NodeIp(2)}\tfollower-only", (await lab.CtdbAsync(0, "natgw", "list")).Trim());
            // A follower's connection really leaves through the leader's MASQUERADE rule.
            Assert.Equal(NatgwIp, await lab.OutsideSeesAsync(2));

            // A stopped leader is no longer usable: node 1 takes over and the stopped node drops everything.
            Assert.Equal(0, (await lab.RunAsync(["ctdb", "0", "stop"], TimeSpan.FromMinutes(2))).Code);
            await lab.WaitForLeaderAsync(1, nodes: [0, 1, 2], usable: [1, 2], "node 0 stopped");
            Assert.Equal(0, (await lab.RunAsync(["ctdb", "0", "continue"], TimeSpan.FromMinutes(2))).Code);
            await lab.WaitForLeaderAsync(0, nodes: [0, 1, 2], usable: [0, 1, 2], "node 0 continued");

            // A killed leader: the survivors move the gateway to node 1. The dead node keeps its leftovers until its
            // daemon restarts (nobody runs its scripts, as in 4.17), so the NAT-GW address is on two nodes and the
            // outside's traffic goes to whichever its ARP cache names: no end-to-end check here. The restart is a
            // startup like the first one, left out to keep the suite's time (docs/daemon.md).
            Assert.Equal(0, (await lab.RunAsync(["kill", "0"], TimeSpan.FromMinutes(1))).Code);
            await lab.WaitForLeaderAsync(1, nodes: [1, 2], usable: [1, 2], "node 0 killed");
        }
        finally
        {
            await lab.RunAsync(["down"], TimeSpan.FromMinutes(1));
        }
    }

    private sealed class NatgwLab
    {
        private readonly string _script;
        private readonly Dictionary<string, string> _env = new() { ["NATGW_PREFIX"] = "scNt-", ["NATGW_DIR"] = "/tmp/sc-natgw-test" };

        private NatgwLab(string script) => _script = script;

        public static NatgwLab Create()
        {
            Assert.SkipUnless(LabHost.IsRoot, "needs root (network namespaces)");
            foreach (var tool in new[] { "/usr/bin/python3", "/usr/sbin/ethtool", "/usr/bin/unshare", "/usr/sbin/iptables",
                "/usr/share/ctdb/events/legacy/11.natgw.script", "/usr/share/ctdb/events/legacy/91.lvs.script", "/usr/libexec/ctdb/ctdb_natgw" })
                Assert.SkipUnless(File.Exists(tool), $"needs {tool}");
            Assert.SkipUnless(Directory.Exists("/etc/ctdb") && Directory.Exists("/var/lib/ctdb"), "needs Debian's ctdb package (bind-mount targets)");
            var lab = new NatgwLab(Path.Combine(LabHost.RepoRoot(), "scripts", "natgw-lab"));
            // A previous run killed mid-way may have left the lab up.
            lab.RunAsync(["down"], TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
            return lab;
        }

        public Task<(int Code, string Output)> RunAsync(IEnumerable<string> args, TimeSpan limit, bool log = true) =>
            LabHost.RunAsync(_script, args, _env, limit, log);

        public async Task<string> CtdbAsync(int pnn, params string[] args)
        {
            var r = await RunAsync(["ctdb", pnn.ToString(), .. args], TimeSpan.FromMinutes(1));
            Assert.True(r.Code == 0, $"ctdb {string.Join(' ', args)} on node {pnn}: exit {r.Code}: {r.Output}");
            return r.Output;
        }

        /// <summary>The address the outside's echo service sees for a connection from node <paramref name="pnn"/>.</summary>
        public async Task<string> OutsideSeesAsync(int pnn)
        {
            var end = DateTime.UtcNow + StepDeadline;
            var last = "";
            while (DateTime.UtcNow < end)
            {
                var r = await RunAsync(["exec", pnn.ToString(), "timeout", "5", "bash", "-c",
                    $"exec 3<>/dev/tcp/{Gateway}/8081 && read -t 3 line <&3 && echo \"$line\""], TimeSpan.FromSeconds(30), log: false);
                last = r.Output.Trim();
                if (r.Code == 0)
                    return last;
                await Task.Delay(200); // polling interval of a condition wait
            }
            return $"no answer: {last}";
        }

        /// <summary>
        /// Waits until every node in <paramref name="nodes"/> shows what the scripts set up for NAT-GW and LVS leader
        /// <paramref name="leader"/>, with <paramref name="usable"/> the nodes ctdb_lvs lists (the real servers).
        /// </summary>
        public async Task WaitForLeaderAsync(int leader, int[] nodes, int[] usable, string step, TimeSpan? deadline = null)
        {
            var start = DateTime.UtcNow;
            var end = start + (deadline ?? StepDeadline);
            List<string> wrong;
            var states = new Dictionary<int, Dictionary<string, List<string>>>();
            while (true)
            {
                // Every usable node healthy in every node's view (while all are unhealthy the helpers fall back to
                // them all and name the same leader: not the settled state), the helpers' view, then what the scripts
                // made of it.
                wrong = [];
                foreach (var n in nodes)
                {
                    var status = await RunAsync(["ctdb", n.ToString(), "-X", "nodestatus", "all"], TimeSpan.FromSeconds(30), log: false);
                    var rows = status.Output.Split('\n').Select(l => l.Split('|')).Where(f => f.Length > 10 && int.TryParse(f[1], out _));
                    var notOk = rows.Where(f => usable.Contains(int.Parse(f[1])) && f[3..10].Any(c => c != "0")).Select(f => f[1]).ToList();
                    if (notOk.Count > 0 || !rows.Any())
                        wrong.Add($"node {n} sees usable nodes not OK: [{string.Join(", ", notOk)}] {status.Output.Trim()}");
                }
                var natgwLeader = await RunAsync(["ctdb", nodes[^1].ToString(), "natgw", "leader"], TimeSpan.FromSeconds(30), log: false);
                if (natgwLeader.Output.Trim() != $"{leader} {NodeIp(leader)}")
                    wrong.Add($"ctdb natgw leader: {natgwLeader.Output.Trim()}");
                var lvsList = await RunAsync(["ctdb", nodes[^1].ToString(), "lvs", "list"], TimeSpan.FromSeconds(30), log: false);
                var wantList = string.Join('\n', usable.Select(u => $"{u} {NodeIp(u)}"));
                if (lvsList.Output.Trim() != wantList)
                    wrong.Add($"ctdb lvs list: {lvsList.Output.Trim().ReplaceLineEndings("; ")}");
                foreach (var n in nodes)
                {
                    var r = await RunAsync(["state", n.ToString()], TimeSpan.FromSeconds(30), log: false);
                    states[n] = ParseState(r.Output);
                    wrong.AddRange(Mismatches(n, leader, usable, states[n]).Select(m => $"node {n}: {m}"));
                }
                if (wrong.Count == 0 || DateTime.UtcNow > end)
                    break;
                await Task.Delay(250); // polling interval of a condition wait
            }
            TestContext.Current.SendDiagnosticMessage($"{step}: leader {leader} after {DateTime.UtcNow - start:g}");
            Assert.True(wrong.Count == 0, $"{step}: leader {leader} not set up within {end - start:g}:\n{string.Join('\n', wrong)}\n" +
                string.Join('\n', states.Select(s => $"node {s.Key}: " + string.Join(" | ", s.Value.Select(kv => $"{kv.Key}: {string.Join(", ", kv.Value)}")))));
        }

        private static IEnumerable<string> Mismatches(int node, int leader, int[] usable, Dictionary<string, List<string>> st)
        {
            List<string> Get(string k) => st.TryGetValue(k, out var v) ? v : [];
            var hasNatgwIp = Get("eth0").Contains($"{NatgwIp}/24");
            var hasMasq = Get("nat").Contains(Masquerade);
            var hasReject = Get("input").Any(l => l.Contains($"-d {NatgwIp}/32") && l.Contains("-j REJECT"));
            var defaults = Get("routes").Where(l => l.StartsWith("default ", StringComparison.Ordinal) && l.Contains("metric 10")).ToList();
            var ipvs = Get("ipvs").ToHashSet();
            if (node == leader)
            {
                if (!hasNatgwIp)
                    yield return $"no NAT-GW address {NatgwIp}/24 on eth0";
                if (!hasMasq)
                    yield return "no MASQUERADE rule";
                if (!hasReject)
                    yield return "no REJECT rule for the NAT-GW address";
                if (!defaults.Any(l => l.StartsWith($"default via {Gateway} ", StringComparison.Ordinal)))
                    yield return $"no default route via {Gateway}";
                if (!Get("ip_forward").Contains("1"))
                    yield return "ip_forward off";
                if (!Get("lo").Contains($"{LvsIp}/32 global"))
                    yield return "LVS address not global on lo";
                var want = new HashSet<string>();
                foreach (var proto in new[] { "t", "u" })
                {
                    want.Add($"{proto} {LvsIp}");
                    want.Add($"{proto} {LvsIp} 127.0.0.1");
                    foreach (var u in usable.Where(u => u != leader))
                        want.Add($"{proto} {LvsIp} {NodeIp(u)}");
                }
                if (!ipvs.SetEquals(want))
                    yield return $"LVS table [{string.Join(", ", ipvs)}], want [{string.Join(", ", want)}]";
            }
            else
            {
                if (hasNatgwIp)
                    yield return "still has the NAT-GW address";
                if (hasMasq)
                    yield return "still has the MASQUERADE rule";
                if (hasReject)
                    yield return "still has the REJECT rule";
                if (defaults.Count != 1 || !defaults[0].StartsWith($"default via {NodeIp(leader)} ", StringComparison.Ordinal))
                    yield return $"default routes [{string.Join(", ", defaults)}], want one via {NodeIp(leader)}";
                if (!Get("lo").Contains($"{LvsIp}/32 host"))
                    yield return "LVS address not host-scoped on lo";
                if (ipvs.Count != 0)
                    yield return $"LVS table not empty: {string.Join(", ", ipvs)}";
            }
        }

        /// <summary>natgw-lab state: "== SECTION" headers, then that section's lines.</summary>
        private static Dictionary<string, List<string>> ParseState(string text)
        {
            var st = new Dictionary<string, List<string>>();
            List<string>? cur = null;
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.Trim();
                if (line.StartsWith("== ", StringComparison.Ordinal))
                    st[line[3..]] = cur = [];
                else if (line.Length > 0)
                    cur?.Add(line);
            }
            return st;
        }
    }
}
