using System.Diagnostics;
using System.Text.RegularExpressions;
using SharpCtdb.Daemon.Tests.Cluster;

namespace SharpCtdb.Daemon.Tests.Admin;

/// <summary>
/// Start-up options and capabilities from ctdb.conf, reloadnodes, `ctdb shutdown`, SIGTERM and SIGHUP, with Debian's
/// real `ctdb` against our daemons on 127.0.126.0/24 (public addresses 127.0.126.101–106).
/// </summary>
public sealed class LifecycleTests(ITestOutputHelper output)
{
    private const string Net = "127.0.126";
    private static readonly int[] All = [0, 1, 2];

    private static void WriteNodes(TestCluster c, int pnn, params string[] lines) =>
        File.WriteAllText(Path.Combine(c.NodeBase(pnn), "nodes"), string.Concat(lines.Select(l => l + "\n")));

    private static void RecordShutdownEvent(TestCluster c, int pnn) =>
        AdminKit.WriteExecutable(Path.Combine(c.NodeBase(pnn), "events", "legacy", "10.record.script"), $"""
            #!/bin/sh
            [ "$1" = "shutdown" ] && echo ran > {c.NodeBase(pnn)}/shutdown.ran
            exit 0

            """);

    /// <summary>The node left cleanly: exit 0, shutdown event ran, pid file and socket gone, peers see it DISCONNECTED.</summary>
    private async Task AssertCleanExitAsync(TestCluster c, OwnedDaemon d, int pnn, int[] peers, Stopwatch since, string what)
    {
        await TestCluster.WaitUntilAsync(async () =>
        {
            foreach (var v in peers)
            {
                var f = await AdminKit.FlagsSeenByAsync(c, v);
                if (f is null || !f[pnn].Contains("Disconnected"))
                    return false;
            }
            return true;
        }, $"{what}: peers see the node DISCONNECTED", TimeSpan.FromSeconds(30), c.DescribeAsync);
        var seen = since.Elapsed;
        output.WriteLine($"{what} -> peers see DISCONNECTED: {seen.TotalSeconds:F2} s");
        // Far below the keepalive timeout (KeepaliveInterval 5 s × KeepaliveLimit 5): the connections were closed.
        Assert.True(seen < TimeSpan.FromSeconds(15), $"{what}: peers noticed after {seen.TotalSeconds:F2} s");
        Assert.Equal(0, await d.ExitCodeAsync(TimeSpan.FromSeconds(30)));
        Assert.True(File.Exists(Path.Combine(c.NodeBase(pnn), "shutdown.ran")), "shutdown event did not run");
        Assert.False(File.Exists(Path.Combine(c.NodeBase(pnn), "run", "ctdbd.pid")), "pid file left behind");
        Assert.False(File.Exists(c.SocketPath(pnn)), "socket left behind");
        Assert.Contains("CTDB daemon shutting down", AdminKit.Log(c, pnn));
        await AdminKit.WaitOwnersAsync(c, peers, 6, o => !o.Contains(pnn), $"{what}: addresses off the node");
    }

    [Fact]
    public async Task StartAsDisabledOrStoppedFromConfigThenSigtermLeavesCleanly()
    {
        await using var c = AdminKit.Create(3, Net);
        AdminKit.AddConf(c, 1, "legacy", "start as disabled = true");
        AdminKit.AddConf(c, 2, "legacy", "start as stopped = true");
        RecordShutdownEvent(c, 2);
        c.StartNode(0);
        c.StartNode(1);
        await using var node2 = new OwnedDaemon(c, 2);

        int[] running = [0, 1];
        await TestCluster.WaitUntilAsync(async () =>
            await AdminKit.AllSeeAsync(c, running, 0) && await AdminKit.AllSeeAsync(c, running, 1, "Disabled")
            && await AdminKit.AllSeeAsync(c, running, 2, "Unhealthy", "Stopped", "Inactive"),
            "node 1 DISABLED and node 2 STOPPED on the running nodes", TimeSpan.FromSeconds(60), c.DescribeAsync);
        // As with 4.17: a node started stopped never monitors, so it also stays UNHEALTHY.
        Assert.True(await AdminKit.AllSeeAsync(c, [2], 2, "Unhealthy", "Stopped", "Inactive"));
        // Only node 0 may host addresses; the stopped node never leaves FIRST_RECOVERY; it never leads.
        await AdminKit.WaitOwnersAsync(c, running, 6, o => o.All(p => p == 0), "every address on node 0");
        Assert.Equal("FIRST_RECOVERY", (await AdminKit.OkAsync(c, 2, "runstate")).Stdout.Trim());
        Assert.NotEqual(2, await AdminKit.AgreedLeaderAsync(c, running));
        var vnn = await AdminKit.OkAsync(c, 0, "status");
        Assert.Contains("Size:2", vnn.Stdout);

        await AdminKit.OkAsync(c, 1, "enable");
        var sw = Stopwatch.StartNew();
        var r = await AdminKit.OkAsync(c, 2, "continue");
        output.WriteLine($"ctdb continue (started stopped) returned after {r.Elapsed.TotalSeconds:F2} s");
        await c.WaitHealthyAsync(All, 3);
        output.WriteLine($"continue -> all OK: {sw.Elapsed.TotalSeconds:F2} s");
        Assert.Equal("RUNNING", (await AdminKit.OkAsync(c, 2, "runstate")).Stdout.Trim());
        await AdminKit.WaitOwnersAsync(c, All, 6, o => o.Contains(2) && o.Contains(1), "nodes 1 and 2 host addresses");

        // --- SIGTERM: the shutdown sequence runs (4.17 dies at once and leaves its pid file) ---
        sw.Restart();
        Process.Start("kill", ["-TERM", node2.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        await AssertCleanExitAsync(c, node2, 2, running, sw, "SIGTERM");
        Assert.Contains("Release of IP", AdminKit.Log(c, 2));
    }

    [Fact]
    public async Task CapabilitiesFromConfigKeepNodesOutOfLeadershipAndVnnmap()
    {
        await using var c = AdminKit.Create(3, Net);
        AdminKit.AddConf(c, 0, "cluster", "leader capability = false");
        AdminKit.AddConf(c, 1, "legacy", "lmaster capability = false");
        c.StartAll();
        await c.WaitHealthyAsync(All, 3);

        var leader = await AdminKit.AgreedLeaderAsync(c, All);
        Assert.NotEqual(0, leader);
        var caps0 = await AdminKit.OkAsync(c, 0, "getcapabilities");
        Assert.Contains("LEADER: NO", caps0.Stdout);
        Assert.Contains("LMASTER: YES", caps0.Stdout);
        Assert.Contains("LMASTER: NO", (await AdminKit.OkAsync(c, 1, "getcapabilities")).Stdout);
        var st = await AdminKit.OkAsync(c, leader, "status");
        Assert.Contains("Size:2", st.Stdout);
        Assert.DoesNotContain("lmaster:1\n", st.Stdout);

        // --- the leader loses its capability: it yields at once, the other capable node leads ---
        var sw = Stopwatch.StartNew();
        await AdminKit.OkAsync(c, leader, "setleaderrole", "off");
        var next = await AdminKit.AgreedLeaderAsync(c, All, l => l != leader);
        output.WriteLine($"setleaderrole off -> new leader {next}: {sw.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(3 - leader, next); // 1 ↔ 2; node 0 may never lead
        Assert.Contains("LEADER: NO", (await AdminKit.OkAsync(c, leader, "getcapabilities")).Stdout);

        // --- a node loses LMASTER: the next recovery leaves it out of the vnnmap ---
        await AdminKit.OkAsync(c, 2, "setlmasterrole", "off");
        await TestCluster.WaitUntilAsync(async () =>
        {
            var s = await c.CtdbAsync(next, "status");
            return s.ExitCode == 0 && s.Stdout.Contains("Size:1\nhash:0 lmaster:0\n", StringComparison.Ordinal);
        }, "vnnmap = node 0 only", TimeSpan.FromSeconds(30), c.DescribeAsync);
        await c.WaitHealthyAsync(All, 3);

        // --- the leader loses the cluster lock (its helper dies): it forces an election at once ---
        var helper = LockHelperOf(c.Pid(next) ?? throw new InvalidOperationException("leader not running"));
        Assert.NotNull(helper);
        Process.Start("kill", ["-KILL", helper.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        await TestCluster.WaitUntilAsync(() => Task.FromResult(AdminKit.Log(c, next).Contains("Cluster lock lost - forcing election", StringComparison.Ordinal)),
            "leader notices the lost lock", TimeSpan.FromSeconds(30), c.DescribeAsync);
        var afterLoss = await AdminKit.AgreedLeaderAsync(c, All);
        Assert.Contains(afterLoss, new[] { 1, 2 });
        await c.WaitHealthyAsync(All, 3);
    }

    /// <summary>The cluster-lock helper process started by daemon <paramref name="daemonPid"/> (a direct child).</summary>
    private static int? LockHelperOf(int daemonPid)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
                continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[1] != daemonPid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    continue;
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("ctdb_mutex_fcntl_helper", StringComparison.Ordinal))
                    return pid;
            }
            catch (IOException)
            {
            }
        }
        return null;
    }

    [Fact]
    public async Task ReloadNodesAddsAndDeletesNodesAndShutdownLeavesCleanly()
    {
        await using var c = AdminKit.Create(3, Net);
        string[] two = [$"{Net}.1", $"{Net}.2"];
        WriteNodes(c, 0, two);
        WriteNodes(c, 1, two);
        RecordShutdownEvent(c, 2);
        c.StartNode(0);
        c.StartNode(1);
        await c.WaitHealthyAsync([0, 1], 2);

        // Unchanged file: nothing to do.
        var r = await AdminKit.OkAsync(c, 0, "reloadnodes");
        Assert.Contains("No change in nodes file, skipping unnecessary reload", r.Stdout + r.Stderr);

        // --- add node 2 while the cluster runs ---
        string[] three = [.. two, $"{Net}.3"];
        WriteNodes(c, 0, three);
        WriteNodes(c, 1, three);
        r = await AdminKit.OkAsync(c, 0, "reloadnodes");
        Assert.Contains("Node 2 is NEW", r.Stdout);
        foreach (var v in new[] { 0, 1 })
        {
            var st = await AdminKit.OkAsync(c, v, "status");
            Assert.Contains("Number of nodes:3\n", st.Stdout);
            Assert.Contains($"pnn:2 {Net}.3", st.Stdout);
        }
        Assert.True(await AdminKit.AllSeeAsync(c, [0, 1], 2, "Disconnected", "Unhealthy", "Inactive"));
        var sw = Stopwatch.StartNew();
        await using var node2 = new OwnedDaemon(c, 2);
        await c.WaitHealthyAsync(All, 3);
        await AdminKit.WaitOwnersAsync(c, All, 6, o => o.Contains(2), "the new node hosts addresses");
        output.WriteLine($"reloadnodes + start -> new node OK and hosting: {sw.Elapsed.TotalSeconds:F2} s");

        // --- the tool refuses to delete a connected node (4.17's check) ---
        string[] deleted = [.. two, $"#{Net}.3"];
        foreach (var p in All)
            WriteNodes(c, p, deleted);
        r = await c.CtdbAsync(0, "reloadnodes");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ERROR: Node 2 is still connected", r.Stderr);

        // --- ctdb shutdown: clean exit, peers notice at once ---
        sw.Restart();
        r = await AdminKit.OkAsync(c, 2, "shutdown");
        output.WriteLine($"ctdb shutdown returned after {r.Elapsed.TotalSeconds:F2} s");
        await AssertCleanExitAsync(c, node2, 2, [0, 1], sw, "ctdb shutdown");

        // --- now it can be deleted ---
        r = await AdminKit.OkAsync(c, 0, "reloadnodes");
        Assert.Contains("Node 2 is DELETED", r.Stdout);
        foreach (var v in new[] { 0, 1 })
        {
            var st = await AdminKit.OkAsync(c, v, "status");
            Assert.Contains("Number of nodes:3 (including 1 deleted nodes)", st.Stdout);
            Assert.DoesNotContain("pnn:2", st.Stdout);
        }
        await c.WaitHealthyAsync([0, 1], 2);
        Assert.Contains("Node 2 (127.0.126.3) deleted", AdminKit.Log(c, 1));
    }

    [Fact]
    public async Task DaemonisedNodeReopensItsLogOnSighupAndShutsDownCleanly()
    {
        await using var c = AdminKit.Create(1, Net, ips: 2);
        var b = c.NodeBase(0);
        var log = Path.Combine(b, "log.ctdb");
        var pidFile = Path.Combine(b, "run", "ctdbd.pid");
        // Without -i: the parent returns 0 once the daemon child has its pid file and socket; the child logs to the file.
        using var parent = TestCluster.StartDaemon(b, [], redirectStdin: true, redirectOutput: false);
        int pid = 0;
        try
        {
            Assert.True(await AdminKit.ExitsWithinAsync(parent, TimeSpan.FromSeconds(60)), "ctdbd parent did not return");
            Assert.Equal(0, parent.ExitCode);
            pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.NotEqual(parent.Id, pid);
            await TestCluster.WaitUntilAsync(async () => (await c.CtdbAsync(0, "runstate")).Stdout.Trim() == "RUNNING",
                "node RUNNING", TimeSpan.FromSeconds(60));

            File.Move(log, log + ".1"); // what logrotate does
            Process.Start("kill", ["-HUP", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            await TestCluster.WaitUntilAsync(() => Task.FromResult(File.Exists(log) && File.ReadAllText(log).Contains("Reopened logs", StringComparison.Ordinal)),
                "SIGHUP: new log file with 'Reopened logs'", TimeSpan.FromSeconds(30));
            Assert.DoesNotContain("Reopened logs", File.ReadAllText(log + ".1"));
            Assert.True(Directory.Exists($"/proc/{pid}"), "SIGHUP stopped the daemon");

            // Later lines go to the new file.
            await AdminKit.OkAsync(c, 0, "setdebug", "INFO");
            await AdminKit.OkAsync(c, 0, "statisticsreset");
            await TestCluster.WaitUntilAsync(() => Task.FromResult(File.ReadAllText(log).Contains("Statistics reset", StringComparison.Ordinal)),
                "INFO line in the reopened log", TimeSpan.FromSeconds(30));

            await AdminKit.OkAsync(c, 0, "shutdown");
            await TestCluster.WaitUntilAsync(() => Task.FromResult(!Directory.Exists($"/proc/{pid}")), "daemon gone after ctdb shutdown",
                TimeSpan.FromSeconds(30));
            Assert.False(File.Exists(pidFile), "pid file left behind");
            Assert.False(File.Exists(c.SocketPath(0)), "socket left behind");
            Assert.Contains("CTDB daemon shutting down", File.ReadAllText(log));
            pid = 0;
        }
        finally
        {
            if (pid != 0 && Directory.Exists($"/proc/{pid}"))
                Process.Start("kill", ["-KILL", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        }
    }

    /// <summary>
    /// `location = syslog:udp`: the daemonised node sends 4.17's datagrams ("&lt;PRI&gt;ctdbd[PID]: MSG", facility daemon) to
    /// 127.0.0.1:514, which the test binds; messages above the level are not sent and setdebug changes that at run time.
    /// </summary>
    [Fact]
    public async Task DaemonisedNodeLogsToSyslogUdpAtTheConfiguredLevel()
    {
        using var rx = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram,
            System.Net.Sockets.ProtocolType.Udp);
        rx.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 514));
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            var buf = new byte[65536];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var n = await rx.ReceiveAsync(buf, stop.Token);
                    received.Enqueue(System.Text.Encoding.UTF8.GetString(buf, 0, n));
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });

        await using var c = AdminKit.Create(1, Net, ips: 2);
        var b = c.NodeBase(0);
        var conf = Path.Combine(b, "ctdb.conf");
        File.WriteAllText(conf, File.ReadAllText(conf).Replace($"location = file:{b}/log.ctdb", "location = syslog:udp", StringComparison.Ordinal));
        using var parent = TestCluster.StartDaemon(b, [], redirectStdin: true, redirectOutput: false);
        int pid = 0;
        try
        {
            Assert.True(await AdminKit.ExitsWithinAsync(parent, TimeSpan.FromSeconds(60)), "ctdbd parent did not return");
            Assert.Equal(0, parent.ExitCode);
            pid = int.Parse(File.ReadAllText(Path.Combine(b, "run", "ctdbd.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            bool Got(string text) => received.Any(m => m == text);
            await TestCluster.WaitUntilAsync(() => Task.FromResult(received.Any(m =>
                Regex.IsMatch(m, $@"^<27>ctdbd\[{pid}\]: Starting CTDBD \(Version [^)]+\) as PID: {pid}$"))),
                "start-up line from the daemon child", TimeSpan.FromSeconds(30), () => Task.FromResult(string.Join('\n', received)));
            Assert.DoesNotContain(received, m => !Regex.IsMatch(m, @"^<(27|28|29)>ctdbd\[\d+\]: [^\n]*$"));
            Assert.False(File.Exists(Path.Combine(b, "log.ctdb")), "logged to the file too");

            // INFO is sent as notice once the level allows it; DEBUG as debug; ERROR silences both.
            await AdminKit.OkAsync(c, 0, "statisticsreset");
            await AdminKit.OkAsync(c, 0, "setdebug", "DEBUG");
            await AdminKit.OkAsync(c, 0, "statisticsreset");
            await TestCluster.WaitUntilAsync(() => Task.FromResult(Got($"<29>ctdbd[{pid}]: Statistics reset")
                && received.Any(m => m.StartsWith($"<31>ctdbd[{pid}]: ", StringComparison.Ordinal))),
                "INFO and DEBUG datagrams after setdebug DEBUG", TimeSpan.FromSeconds(30), () => Task.FromResult(string.Join('\n', received)));
            Assert.Equal(1, received.Count(m => m == $"<29>ctdbd[{pid}]: Statistics reset"));
            await AdminKit.OkAsync(c, 0, "setdebug", "ERROR");
            await AdminKit.OkAsync(c, 0, "statisticsreset");
            await AdminKit.OkAsync(c, 0, "shutdown");
            await TestCluster.WaitUntilAsync(() => Task.FromResult(!Directory.Exists($"/proc/{pid}")), "daemon gone after ctdb shutdown",
                TimeSpan.FromSeconds(30));
            await TestCluster.WaitUntilAsync(() => Task.FromResult(Got($"<27>ctdbd[{pid}]: Shutdown sequence complete, exiting.")),
                "ERROR line at shutdown", TimeSpan.FromSeconds(10), () => Task.FromResult(string.Join('\n', received)));
            Assert.Equal(1, received.Count(m => m.EndsWith(": Statistics reset", StringComparison.Ordinal)));
            Assert.DoesNotContain($"<29>ctdbd[{pid}]: CTDB daemon shutting down", received); // NOTICE, above ERROR
            pid = 0;
        }
        finally
        {
            stop.Cancel();
            await reader;
            if (pid != 0 && Directory.Exists($"/proc/{pid}"))
                Process.Start("kill", ["-KILL", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        }
    }
}
