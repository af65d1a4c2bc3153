using System.Globalization;

namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>
/// Our dist/ scripts (10.interface, 50.samba, 60.nfs, 70.service) under our daemon on a 3-node cluster on
/// 127.0.130.0/24 ("events-130" collection), driven by real events. Service commands (ip, arping, ss, systemctl,
/// rpcinfo, sm-notify, testparm) are stubs that log their arguments per node; the rest is real: Debian's tool answers
/// the scripts' `ctdb -X ip`, `ctdb pnn` and `ctdb setifacelink`.
/// </summary>
[Collection("events-130")]
public sealed class DistScriptsClusterTests(ITestOutputHelper output)
{
    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const string LockdRestart = "systemctl restart nfs-server rpc-statd";

    private static string DistDir()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "dist", "events", "legacy");
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new DirectoryNotFoundException("dist/events/legacy not found above " + AppContext.BaseDirectory);
    }

    private static void Stub(string bin, string name, string body)
    {
        var path = Path.Combine(bin, name);
        File.WriteAllText(path + ".tmp", "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path + ".tmp", Executable);
        File.Move(path + ".tmp", path);
    }

    private static void WriteStubs(string bin)
    {
        Directory.CreateDirectory(bin);
        // Interface addresses live in $STUB_DIR/addrs ("A/M IFACE" lines) instead of the kernel.
        Stub(bin, "ip", """
            echo "ip $*" >>"$STUB_LOG"
            st="$STUB_DIR/addrs"; touch "$st"
            case "$1 $2" in
            "addr add") echo "$3 $5" >>"$st" ;;
            "addr del") grep -v -x -F "$3 $5" "$st" >"$st.new"; mv "$st.new" "$st" ;;
            "-o addr") awk -v d="$5" '$2 == d { print "1: " d "    inet " $1 " scope global " d }' "$st" ;;
            "-o link") echo "1: $4: <LOOPBACK,UP,LOWER_UP> mtu 65536 state UNKNOWN" ;;
            esac
            exit 0
            """);
        Stub(bin, "arping", "echo \"arping $*\" >>\"$STUB_LOG\"");
        Stub(bin, "sm-notify", "echo \"sm-notify $*\" >>\"$STUB_LOG\"");
        Stub(bin, "testparm", "echo '[global]'");
        Stub(bin, "ss", """
            echo "ss $*" >>"$STUB_LOG"
            [ "$1" = -ltnH ] && { echo "LISTEN 0 50 0.0.0.0:445 0.0.0.0:*"; echo "LISTEN 0 50 0.0.0.0:139 0.0.0.0:*"; }
            exit 0
            """);
        // Restarting the NFS server (= lockd) records the time; lockd registers with the portmapper 1 s later.
        Stub(bin, "systemctl", $"""
            echo "systemctl $*" >>"$STUB_LOG"
            [ "$*" = "{LockdRestart[10..]}" ] && date +%s.%N >"$STUB_DIR/lockd-restart"
            exit 0
            """);
        Stub(bin, "rpcinfo", """
            r=$(cat "$STUB_DIR/lockd-restart" 2>/dev/null || echo 0)
            if awk -v n="$(date +%s.%N)" -v r="$r" 'BEGIN { exit !(n - r >= 1) }'; then reg=yes; else reg=no; fi
            echo "rpcinfo $* nlockmgr=$reg" >>"$STUB_LOG"
            echo "   program vers proto   port  service"
            echo "    100003 3 tcp 2049 nfs"
            echo "    100005 3 tcp 20048 mountd"
            echo "    100024 1 tcp 662 status"
            [ $reg = yes ] && echo "    100021 4 tcp 40001 nlockmgr"
            exit 0
            """);
    }

    private static string[] Calls(TestCluster c, int pnn)
    {
        var log = Path.Combine(c.NodeBase(pnn), "stub", "calls.log");
        return File.Exists(log) ? File.ReadAllLines(log) : [];
    }

    /// <summary>Addresses hosted by each node, from `ctdb -X ip` (Debian's tool) on node 0.</summary>
    private static async Task<Dictionary<int, HashSet<string>>> HostedAsync(TestCluster c)
    {
        var r = await c.CtdbAsync(0, "-X", "ip");
        var map = new Dictionary<int, HashSet<string>>();
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            var f = line.Split('|');
            if (f.Length > 2 && int.TryParse(f[2], CultureInfo.InvariantCulture, out var pnn))
            {
                if (!map.TryGetValue(pnn, out var set))
                    map[pnn] = set = [];
                set.Add(f[1]);
            }
        }
        return map;
    }

    /// <summary>Whether the stub interface (the last `ip addr add|del` per address) holds exactly <paramref name="hosted"/>.</summary>
    private static bool InterfaceMatches(string[] calls, IReadOnlySet<string> hosted)
    {
        var present = new HashSet<string>();
        foreach (var call in calls)
        {
            var f = call.Split(' ');
            if (f.Length < 4 || f[0] != "ip" || f[1] != "addr")
                continue;
            var addr = f[3].Split('/')[0];
            if (f[2] == "add")
                present.Add(addr);
            else if (f[2] == "del")
                present.Remove(addr);
        }
        return present.SetEquals(hosted);
    }

    [Fact]
    public async Task DistScriptsRunOnRealEventsAndNfsRestartsLockdEverywhereBeforeNotifying()
    {
        await using var c = new TestCluster(3, "127.0.130");
        var dist = DistDir();
        var bin = Path.Combine(c.Dir, "bin");
        WriteStubs(bin);
        var sysfs = Path.Combine(c.Dir, "sysfs");
        Directory.CreateDirectory(Path.Combine(sysfs, "lo"));
        File.WriteAllText(Path.Combine(sysfs, "lo", "operstate"), "unknown\n");
        for (var pnn = 0; pnn < 3; pnn++)
        {
            var b = c.NodeBase(pnn);
            Directory.CreateDirectory(Path.Combine(b, "stub"));
            Directory.CreateDirectory(Path.Combine(b, "events", "legacy"));
            foreach (var s in new[] { "10.interface", "50.samba", "60.nfs", "70.service" })
                File.CreateSymbolicLink(Path.Combine(b, "events", "legacy", s + ".script"), Path.Combine(dist, s + ".script"));
            File.WriteAllText(Path.Combine(b, "script.options"), $"""
                CTDB_SYSFS_NET={sysfs}
                CTDB_SERVICE_UNIT=demo.service
                CTDB_NFS_POLL_INTERVAL=0.1
                CTDB_NFS_RESTART_HOLDOFF=0

                """);
            File.WriteAllText(Path.Combine(b, "ctdb.tunables"), "MonitorInterval=3\n");
        }
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        c.NodeEnvironment = pnn => new Dictionary<string, string>
        {
            ["PATH"] = bin + ":" + path,
            ["STUB_LOG"] = Path.Combine(c.NodeBase(pnn), "stub", "calls.log"),
            ["STUB_DIR"] = Path.Combine(c.NodeBase(pnn), "stub"),
            ["CTDB_SCRIPT_VARDIR"] = Path.Combine(c.NodeBase(pnn), "scripts"),
        };
        c.StartAll();
        // Healthy = every monitor (links via sysfs + setifacelink, samba ports/testparm, NFS RPC services, the unit) passed.
        await c.WaitHealthyAsync([0, 1, 2], 3);

        // startup started the services; takeip put each hosted address on the (stub) interface.
        // (Other nodes may record a new owner while its takeip event still runs, so wait for the calls.)
        // Healthy comes before the takeover run that balances the addresses: wait until every node hosts some.
        await TestCluster.WaitUntilAsync(async () =>
        {
            var h = await HostedAsync(c);
            return Enumerable.Range(0, 3).All(h.ContainsKey) && h.Values.Sum(s => s.Count) == 6;
        }, "every node hosts addresses", TimeSpan.FromSeconds(30), c.DescribeAsync);
        // Nodes turn healthy one by one, and each turn starts a takeover run: wait for the balanced allocation (LCP2
        // gives 2 each) that every node's interface agrees with, so no move is still in flight when node 2 is disabled.
        await TestCluster.WaitUntilAsync(async () =>
        {
            var h = await HostedAsync(c);
            return Enumerable.Range(0, 3).All(p => h.GetValueOrDefault(p)?.Count == 2
                && InterfaceMatches(Calls(c, p), h.GetValueOrDefault(p)!));
        }, "2 addresses per node, on each node's interface", TimeSpan.FromSeconds(30), c.DescribeAsync);
        var hosted = await HostedAsync(c);
        for (var pnn = 0; pnn < 3; pnn++)
        {
            var node = pnn;
            var want = new List<string> { "systemctl start rpc-statd nfs-server", "systemctl start smbd", "systemctl start demo.service" };
            foreach (var ip in hosted.GetValueOrDefault(node) ?? [])
                want.Add($"ip addr add {ip}/24 dev lo");
            await TestCluster.WaitUntilAsync(() => Task.FromResult(want.All(Calls(c, node).Contains)),
                $"node {node}: " + string.Join(", ", want), TimeSpan.FromSeconds(30),
                () => Task.FromResult(string.Join('\n', Calls(c, node).Where(l => !l.StartsWith("rpcinfo", StringComparison.Ordinal)))));
        }

        // Move node 2's addresses away: every node (also node 0/1's peers that neither gain nor lose, and node 2 that
        // only loses) restarts its lock manager; notifications only after lockd registered again.
        var before = hosted[2];
        var marks = Enumerable.Range(0, 3).Select(p => Calls(c, p).Length).ToArray();
        Assert.Equal(0, (await c.CtdbAsync(2, "disable")).ExitCode);
        await TestCluster.WaitUntilAsync(async () =>
        {
            var h = await HostedAsync(c);
            return !h.ContainsKey(2) && h.Values.Sum(s => s.Count) == 6;
        }, "node 2's addresses moved", TimeSpan.FromSeconds(30), c.DescribeAsync);
        hosted = await HostedAsync(c);

        for (var pnn = 0; pnn < 3; pnn++)
        {
            var node = pnn;
            var expected = hosted.GetValueOrDefault(node) ?? [];
            string[] after = [];
            await TestCluster.WaitUntilAsync(() =>
            {
                after = Calls(c, node)[marks[node]..];
                var last = Array.LastIndexOf(after, LockdRestart);
                var notified = after.Skip(last + 1).Where(l => l.StartsWith("sm-notify ", StringComparison.Ordinal))
                    .Select(l => l.Split(' ')[^1]).ToHashSet();
                return Task.FromResult(last >= 0 && notified.SetEquals(expected));
            }, $"node {node}: lockd restarted, then sm-notify for {string.Join(',', expected)}", TimeSpan.FromSeconds(40),
                () => Task.FromResult(string.Join('\n', Calls(c, node)[marks[node]..])));
            var restart = Array.LastIndexOf(after, LockdRestart);
            var tail = after[(restart + 1)..];
            var firstNotify = Array.FindIndex(tail, l => l.StartsWith("sm-notify ", StringComparison.Ordinal));
            var firstRegistered = Array.FindIndex(tail, l => l == "rpcinfo -p nlockmgr=yes");
            output.WriteLine($"node {node}: {string.Join(" | ", tail.Where(l => !l.StartsWith("rpcinfo", StringComparison.Ordinal) || l.EndsWith("=yes", StringComparison.Ordinal)).Take(8))}");
            // The script polled while lockd was not yet registered and notified only afterwards.
            Assert.Contains("rpcinfo -p nlockmgr=no", tail);
            if (expected.Count > 0)
                Assert.InRange(firstRegistered, 0, firstNotify - 1);
            else
                Assert.Equal(-1, firstNotify);
        }
        // Node 2 released its addresses from the (stub) interface.
        var node2 = Calls(c, 2);
        var missing = before.Where(ip => !node2[marks[2]..].Contains($"ip addr del {ip}/24 dev lo")).ToList();
        Assert.True(missing.Count == 0, $"node 2 did not delete {string.Join(',', missing)} after the disable (mark at {marks[2]}):\n"
            + string.Join('\n', node2.Select((l, i) => $"{i}: {l}").Where(l => !l.Contains("rpcinfo", StringComparison.Ordinal))));
    }
}
