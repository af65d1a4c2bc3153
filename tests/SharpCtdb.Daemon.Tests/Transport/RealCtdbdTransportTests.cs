using System.Diagnostics;
using System.Net;
using SharpCtdb.Daemon.Transport;

namespace SharpCtdb.Daemon.Tests.Transport;

/// <summary>Our transport as node 1 next to a real Samba ctdbd 4.17 as node 0 (loopback 127.0.94.x).</summary>
public sealed class RealCtdbdTransportTests
{
    // The anchors live in ../shared beside the repository (the directory holding SharpCtdb.slnx).
    private static readonly string ClusterScript = FindClusterScript();
    private const string ClusterDir = "/tmp/sc-d1real";
    private const string Net = "127.0.94";

    [Fact]
    public async Task RealCtdbd_ConnectsToUs_ExchangesKeepalives_AndItsDeathIsSeenAtOnce()
    {
        Assert.True(File.Exists("/usr/sbin/ctdbd"), "Debian's ctdb package is not installed (scripts/test installs it)");
        Assert.True(File.Exists(ClusterScript), $"anchor script not found at {ClusterScript}: ../shared must be beside the repository");
        await RunScriptAsync("stop");
        try
        {
            Assert.Equal(0, (await RunScriptAsync("setup", "2")).Exit);
            Assert.Equal(0, (await RunScriptAsync("startnode", "0")).Exit);

            var nodes = new List<TransportNode>
            {
                new(0, IPAddress.Parse($"{Net}.1"), false),
                new(1, IPAddress.Parse($"{Net}.2"), false),
            };
            var options = new NodeTransportOptions
            {
                OwnPnn = 1,
                OwnAddress = nodes[1].Address,
                Nodes = nodes,
                KeepaliveIntervalSeconds = () => 1,
                KeepaliveLimit = () => 5,
                UptimeSeconds = () => 1,
            };
            var realLog = Path.Combine(ClusterDir, "node.0", "log.ctdb");
            string RealLog() => File.Exists(realLog) ? File.ReadAllText(realLog) : "";
            var seenConnected = $"connected to {Net}.2:4379";
            var seenDead = $"node {Net}.2:4379 is dead";

            // Leg 1: connect, exchange keepalives, then leave; the real daemon must notice at once.
            var first = new EventLog();
            var transport = new NodeTransport(options, TestLog.For("us"));
            first.Attach(transport);
            try
            {
                await transport.StartAsync(TestContext.Current.CancellationToken);
                await Wait.UntilAsync(() => transport.IsConnected(0), "connected to the real ctdbd", TimeSpan.FromSeconds(60));

                // The real daemon's keepalive: op 9, {0x00040011, uptime}, src 0, dest 1, reqid 0, padded to 40.
                await Wait.UntilAsync(() => !first.Keepalives.IsEmpty, "keepalive from the real ctdbd", TimeSpan.FromSeconds(30));
                var (from, ka) = first.Keepalives.First();
                Assert.Equal(0u, from);
                Assert.False(ka.Bare);
                Assert.Equal(0x00040011u, ka.Version);
                Assert.Equal((0u, 1u, 0u), (ka.Header.SrcNode, ka.Header.DestNode, ka.Header.ReqId));
                await Wait.UntilAsync(() => !first.Packets.IsEmpty, "messages/controls from the real ctdbd", TimeSpan.FromSeconds(30));
                Assert.All(first.Packets, p => Assert.Equal(0, p.Packet.Length % 8));

                // The real daemon accepted our connection and counts our keepalives as traffic: with its
                // KeepaliveInterval 1 / KeepaliveLimit 4 it would declare us dead within 5 s otherwise.
                await Wait.UntilAsync(() => RealLog().Contains(seenConnected, StringComparison.Ordinal),
                    "real ctdbd logs node 1 as connected", TimeSpan.FromSeconds(30));
                await Task.Delay(TimeSpan.FromSeconds(6), TestContext.Current.CancellationToken);
                Assert.DoesNotContain(seenDead, RealLog(), StringComparison.Ordinal);
                Assert.True(transport.IsConnected(0));
                Assert.Empty(first.Disconnected);
            }
            finally
            {
                var leftAt = DateTimeOffset.UtcNow;
                await transport.DisposeAsync();
                await Wait.UntilAsync(() => RealLog().Contains(seenDead, StringComparison.Ordinal), "real ctdbd sees us leave", TimeSpan.FromSeconds(10));
                var line = RealLog().Split('\n').First(l => l.Contains(seenDead, StringComparison.Ordinal));
                var loggedAt = DateTimeOffset.Parse(line[..line.IndexOf(' ', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
                TestLog.Line($"MEASURED: our transport closed -> real ctdbd logs node dead: {(loggedAt - leftAt).TotalMilliseconds:0.0} ms");
            }

            // Leg 2: we come back (a restart); the real daemon reconnects; then its process is killed.
            var second = new EventLog();
            transport = new NodeTransport(options, TestLog.For("us2"));
            second.Attach(transport);
            try
            {
                await transport.StartAsync(TestContext.Current.CancellationToken);
                await Wait.UntilAsync(() => transport.IsConnected(0), "connected again after our restart", TimeSpan.FromSeconds(30));

                // Its process dies: the kernel closes its sockets and we must notice in milliseconds.
                var pid = int.Parse((await RunScriptAsync("pid", "0")).Output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
                using var process = Process.GetProcessById(pid);
                var killedAt = second.Now;
                process.Kill();
                await Wait.UntilAsync(() => second.DisconnectedCount(0) == 1, "death of the real ctdbd seen", TimeSpan.FromSeconds(10));
                var (_, reason, at) = second.Disconnected.Single();
                TestLog.Line($"MEASURED: real ctdbd SIGKILL -> PeerDisconnected: {(at - killedAt).TotalMilliseconds:0.0} ms ({reason})");
                Assert.Equal("connection closed", reason);
            }
            finally
            {
                await transport.DisposeAsync();
            }
        }
        finally
        {
            KillNodeProcessGroup(0);
            await RunScriptAsync("stop");
        }
    }

    /// <summary>Kills what is left of the node's process group (eventd, recovery daemon; all started by this test
    /// through cluster.sh), by pid. cluster.sh stop does the same but scans /proc with one fork per process, which
    /// takes tens of seconds on a busy machine.</summary>
    private static void KillNodeProcessGroup(int pnn)
    {
        var nodeDir = Path.Combine(ClusterDir, $"node.{pnn}");
        if (!int.TryParse(File.Exists(Path.Combine(nodeDir, "started.pgid")) ? File.ReadAllText(Path.Combine(nodeDir, "started.pgid")).Trim() : "",
                System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pgid) || pgid <= 1)
            return;
        List<Process> victims = [];
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid))
                continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var comm = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // fields[0] = state, fields[2] = pgrp
                if (fields[0] != "Z" && fields[2] == pgid.ToString(System.Globalization.CultureInfo.InvariantCulture) && comm.StartsWith("ctdb", StringComparison.Ordinal))
                    victims.Add(Process.GetProcessById(pid));
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
            {
                // Gone meanwhile.
            }
        }
        foreach (var p in victims)
        {
            using (p)
            {
                try
                {
                    p.Kill();
                }
                catch (InvalidOperationException)
                {
                    // Already exited.
                }
            }
        }
        if (victims.Count > 0)
            File.Delete(Path.Combine(nodeDir, "started.pid"));
    }

    private static async Task<string?> NodeLine(uint pnn)
    {
        var (exit, output) = await RunScriptAsync("ctdb", "0", "status");
        return exit == 0 ? output.Split('\n').FirstOrDefault(l => l.StartsWith($"pnn:{pnn} ", StringComparison.Ordinal)) : null;
    }

    private static async Task<(int Exit, string Output)> RunScriptAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(ClusterScript)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["CTDB_REAL_DIR"] = ClusterDir;
        psi.Environment["CTDB_REAL_NET"] = Net;
        // Real keepalives every second and a short limit, so that the test neither waits long nor misses a dead peer.
        psi.Environment["CTDB_REAL_TUNABLES"] = "KeepaliveInterval=1 KeepaliveLimit=4";
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start cluster.sh");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync(CancellationToken.None);
        }
        var output = await stdout + await stderr;
        TestLog.Line($"cluster.sh {string.Join(' ', args)} -> {p.ExitCode} in {sw.ElapsedMilliseconds} ms{(p.ExitCode != 0 ? ": " + output : "")}");
        return (p.ExitCode, output);
    }

    private static string FindClusterScript()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "SharpCtdb.slnx")))
                return Path.GetFullPath(Path.Combine(d.FullName, "..", "shared", "anchors", "ctdb-real", "cluster.sh"));
        }
        return "../shared/anchors/ctdb-real/cluster.sh";
    }
}
