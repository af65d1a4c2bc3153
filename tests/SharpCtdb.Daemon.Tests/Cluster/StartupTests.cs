using System.Diagnostics;

namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>Start-up failures (127.0.98.0/24): they must exit before daemonising, with the 4.17 messages and codes.</summary>
public sealed class StartupTests
{
    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string ctdbBase, params string[] args)
    {
        using var p = TestCluster.StartDaemon(ctdbBase, args, redirectStdin: false);
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill();
            throw;
        }
        return (p.ExitCode, await so, await se);
    }

    [Fact]
    public async Task UnknownOptionAndExtraArguments()
    {
        await using var c = new TestCluster(1, "127.0.98");
        var bad = await RunAsync(c.NodeBase(0), "--bogus");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("Invalid option --bogus: unknown option", bad.Stderr);
        var extra = await RunAsync(c.NodeBase(0), "-i", "extra");
        Assert.Equal(1, extra.Exit);
        Assert.Contains("Usage: ctdbd", extra.Stdout);
    }

    [Fact]
    public async Task ConfigErrorExitsOneWithFileAndLine()
    {
        await using var c = new TestCluster(1, "127.0.98");
        var conf = Path.Combine(c.NodeBase(0), "ctdb.conf");
        File.AppendAllText(conf, "[cluster]\n\tleader timeout = 0\n");
        var r = await RunAsync(c.NodeBase(0));
        Assert.Equal(1, r.Exit);
        var lines = File.ReadAllLines(conf).Length;
        Assert.Contains($"{conf}:{lines}: ", r.Stderr);
        Assert.Contains($"Failed to load configuration file {conf}", r.Stderr);
        Assert.False(File.Exists(Path.Combine(c.NodeBase(0), "run", "ctdbd.pid")));
        Assert.False(File.Exists(c.SocketPath(0)));
    }

    [Fact]
    public async Task UnknownNodeAddressIsFatal()
    {
        await using var c = new TestCluster(1, "127.0.98");
        var conf = Path.Combine(c.NodeBase(0), "ctdb.conf");
        File.WriteAllText(conf, File.ReadAllText(conf).Replace("node address = 127.0.98.1", "node address = 127.0.98.200"));
        var r = await RunAsync(c.NodeBase(0), "-i");
        Assert.Equal(1, r.Exit);
        Assert.Contains("Can not determine PNN - unknown node address", r.Stderr);
    }

    [Fact]
    public async Task DaemonisesThenShutsDownOnCtdbShutdown()
    {
        await using var c = new TestCluster(1, "127.0.98");
        var sw = Stopwatch.StartNew();
        // No -i: the parent exits 0 once the daemon is ready. Output is not redirected: the daemon would
        // inherit the pipes and keep them open.
        using (var parent = TestCluster.StartDaemon(c.NodeBase(0), [], redirectStdin: false, redirectOutput: false))
        {
            await parent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, parent.ExitCode);
        }
        var pidFile = Path.Combine(c.NodeBase(0), "run", "ctdbd.pid");
        var pid = int.Parse(File.ReadAllText(pidFile).Trim());
        using var daemon = Process.GetProcessById(pid);
        try
        {
            await c.WaitHealthyAsync([0], 1);
            // A second daemon on the same CTDB_BASE finds the pid file locked: exit 11.
            var second = await RunAsync(c.NodeBase(0), "-i");
            Assert.Equal(11, second.Exit);

            var shut = await c.CtdbAsync(0, "shutdown");
            Assert.Equal(0, shut.ExitCode);
            await daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(File.Exists(pidFile));
            Assert.False(File.Exists(c.SocketPath(0)));
        }
        finally
        {
            if (!daemon.HasExited)
                daemon.Kill();
        }
    }

    [Fact]
    public async Task TestModeStdinEofShutsDownWithEpipe()
    {
        await using var c = new TestCluster(1, "127.0.98");
        using var p = TestCluster.StartDaemon(c.NodeBase(0), ["-i"]);
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        try
        {
            await TestCluster.WaitUntilAsync(async () => (await c.CtdbAsync(0, "pnn")).Stdout == "0\n", "daemon answers");
            p.StandardInput.Close();
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(32, p.ExitCode);
            Assert.Contains("stdin", await stderr);
            Assert.False(File.Exists(c.SocketPath(0)));
        }
        finally
        {
            if (!p.HasExited)
                p.Kill();
            _ = await stdout;
        }
    }
}
