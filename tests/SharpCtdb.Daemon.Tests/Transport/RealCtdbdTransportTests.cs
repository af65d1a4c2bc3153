using System.Diagnostics;
using System.Net;
using SharpCtdb.Daemon.Transport;

namespace SharpCtdb.Daemon.Tests.Transport;

/// <summary>Our transport as node 1 next to a real Samba ctdbd 4.17 as node 0 (loopback 127.0.94.x).</summary>
public sealed class RealCtdbdTransportTests
{
    private const string ClusterScript = "/work/shared/anchors/ctdb-real/cluster.sh";
    private const string ClusterDir = "/tmp/sc-d1real";
    private const string Net = "127.0.94";

    [Fact]
    public async Task RealCtdbd_ConnectsToUs_ExchangesKeepalives_AndItsDeathIsSeenAtOnce()
    {
        Assert.SkipWhen(!File.Exists("/usr/sbin/ctdbd") || !File.Exists(ClusterScript), "real ctdbd or the anchor script is not installed");
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
            var events = new EventLog();
            var options = new NodeTransportOptions
            {
                OwnPnn = 1,
                OwnAddress = nodes[1].Address,
                Nodes = nodes,
                KeepaliveIntervalSeconds = () => 1,
                KeepaliveLimit = () => 5,
                UptimeSeconds = () => 1,
            };
            var transport = new NodeTransport(options, TestLog.For("us"));
            events.Attach(transport);
            try
            {
                await transport.StartAsync(TestContext.Current.CancellationToken);
                await Wait.UntilAsync(() => transport.IsConnected(0), "connected to the real ctdbd", TimeSpan.FromSeconds(60));

                // The real daemon's keepalive: op 9, {0x00040011, uptime}, src 0, dest 1, reqid 0, padded to 40.
                await Wait.UntilAsync(() => !events.Keepalives.IsEmpty, "keepalive from the real ctdbd", TimeSpan.FromSeconds(30));
                var (from, ka) = events.Keepalives.First();
                Assert.Equal(0u, from);
                Assert.False(ka.Bare);
                Assert.Equal(0x00040011u, ka.Version);
                Assert.Equal((0u, 1u, 0u), (ka.Header.SrcNode, ka.Header.DestNode, ka.Header.ReqId));
                await Wait.UntilAsync(() => !events.Packets.IsEmpty, "messages/controls from the real ctdbd", TimeSpan.FromSeconds(30));
                Assert.All(events.Packets, p => Assert.Equal(0, p.Packet.Length % 8));

                // The real daemon accepted our connection too: it logs node 1 as connected (as seen in its own log).
                var realLog = Path.Combine(ClusterDir, "node.0", "log.ctdb");
                await Wait.UntilAsync(() => File.Exists(realLog) && File.ReadAllText(realLog).Contains($"connected to {Net}.2:4379", StringComparison.Ordinal),
                    "real ctdbd logs node 1 as connected", TimeSpan.FromSeconds(30));

                // Its process dies: the kernel closes its sockets and we must notice in milliseconds.
                var pid = int.Parse((await RunScriptAsync("pid", "0")).Output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
                using var process = Process.GetProcessById(pid);
                var killedAt = events.Now;
                process.Kill();
                await Wait.UntilAsync(() => events.DisconnectedCount(0) == 1, "death of the real ctdbd seen", TimeSpan.FromSeconds(10));
                var (_, reason, at) = events.Disconnected.Single();
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
        // Real keepalives every second instead of 5 so that the test doesn't wait for them.
        psi.Environment["CTDB_REAL_TUNABLES"] = "KeepaliveInterval=1";
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
}
