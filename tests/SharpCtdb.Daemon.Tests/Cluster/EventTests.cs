using System.Diagnostics;

namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>Event scripts and notify.sh in a real cluster on 127.0.105.0/24 and 127.0.106.0/24, observed with Debian's tools.</summary>
public sealed class EventTests(ITestOutputHelper output)
{
    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static void WriteExecutable(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, Executable);
    }

    private static async Task<string?> FlagsColumnOfAsync(TestCluster c, int from, int pnn)
    {
        var st = await c.CtdbAsync(from, "status");
        if (st.ExitCode != 0)
            return null;
        var line = st.Stdout.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith($"pnn:{pnn} ", StringComparison.Ordinal));
        // "pnn:1 127.0.105.2      UNHEALTHY (THIS NODE)": the third field is the flags.
        return line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2);
    }

    private static async Task<bool> AllSeeAsync(TestCluster c, int pnn, string flags)
    {
        for (var i = 0; i < c.NodeCount; i++)
        {
            if (await FlagsColumnOfAsync(c, i, pnn) != flags)
                return false;
        }
        return true;
    }

    private static async Task<string> EventStatusAsync(TestCluster c, int pnn)
    {
        var r = await c.CtdbAsync(pnn, "event", "status", "legacy", "monitor");
        return r.ToString();
    }

    private static string? ScriptState(string status) =>
        status.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith("50.test", StringComparison.Ordinal))?
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);

    [Fact]
    public async Task FailingMonitorMakesNodeUnhealthyEverywhereAndNotifies()
    {
        await using var c = new TestCluster(3, "127.0.105");
        var flag = Path.Combine(c.Dir, "fail-monitor");
        var notifyLog = Path.Combine(c.Dir, "notify.log");
        for (var pnn = 0; pnn < 3; pnn++)
            File.WriteAllText(Path.Combine(c.NodeBase(pnn), "ctdb.tunables"), "MonitorInterval=2\nEventScriptTimeout=5\n");
        WriteExecutable(Path.Combine(c.NodeBase(1), "events", "legacy", "50.test.script"), $"""
            #!/bin/sh
            case "$1" in
            monitor)
                if [ -e "{flag}" ]; then
                    echo "flag file present"
                    exit 1
                fi
                ;;
            esac
            exit 0

            """);
        // Debian's stock notify.sh, which runs events/notification/*.script with the event name.
        File.Copy("/etc/ctdb/notify.sh", Path.Combine(c.NodeBase(1), "notify.sh"));
        File.SetUnixFileMode(Path.Combine(c.NodeBase(1), "notify.sh"), Executable);
        WriteExecutable(Path.Combine(c.NodeBase(1), "events", "notification", "50.log.script"), $"""
            #!/bin/sh
            echo "$1" >> "{notifyLog}"

            """);
        c.StartAll();
        await c.WaitHealthyAsync([0, 1, 2], 3);
        await TestCluster.WaitUntilAsync(async () => ScriptState(await EventStatusAsync(c, 1)) == "OK",
            "first monitor of node 1 recorded", describe: () => EventStatusAsync(c, 1));

        File.WriteAllText(flag, "");
        var sw = Stopwatch.StartNew();
        await TestCluster.WaitUntilAsync(() => AllSeeAsync(c, 1, "UNHEALTHY"), "node 1 UNHEALTHY on every node",
            TimeSpan.FromSeconds(30), c.DescribeAsync);
        var latency = sw.Elapsed;
        output.WriteLine($"monitor failure -> UNHEALTHY everywhere: {latency.TotalSeconds:F2} s");
        // MonitorInterval (2) + EventScriptTimeout (5), plus slack for `ctdb status` on a loaded machine.
        Assert.True(latency < TimeSpan.FromSeconds(2 + 5 + 5), $"took {latency}");
        Assert.Equal("OK", await FlagsColumnOfAsync(c, 0, 0));
        var failed = await EventStatusAsync(c, 1);
        Assert.Equal("ERROR", ScriptState(failed));
        Assert.Contains("flag file present", failed);

        File.Delete(flag);
        sw.Restart();
        await TestCluster.WaitUntilAsync(() => AllSeeAsync(c, 1, "OK"), "node 1 OK again on every node",
            TimeSpan.FromSeconds(30), c.DescribeAsync);
        output.WriteLine($"monitor success -> OK everywhere: {sw.Elapsed.TotalSeconds:F2} s");
        await TestCluster.WaitUntilAsync(async () => ScriptState(await EventStatusAsync(c, 1)) == "OK",
            "monitor status OK again", describe: () => EventStatusAsync(c, 1));

        string[] events = [];
        await TestCluster.WaitUntilAsync(() =>
        {
            events = File.Exists(notifyLog) ? File.ReadAllLines(notifyLog) : [];
            return Task.FromResult(events.Length > 0 && events[^1] == "healthy");
        }, "notify.sh healthy", TimeSpan.FromSeconds(20));
        output.WriteLine("notify.sh: " + string.Join(' ', events));
        Assert.Equal(["init", "setup"], events.Take(2));
        Assert.Contains("startup", events);
        var lastUnhealthy = Array.LastIndexOf(events, "unhealthy");
        Assert.True(lastUnhealthy > 0, string.Join(' ', events));
        Assert.Equal("healthy", events[lastUnhealthy + 1]);
    }

    [Fact]
    public async Task FailingInitEventStopsTheDaemonWithExitCode1()
    {
        await using var c = new TestCluster(1, "127.0.106");
        WriteExecutable(Path.Combine(c.NodeBase(0), "events", "legacy", "01.broken.script"), """
            #!/bin/sh
            [ "$1" = "init" ] && { echo "init refuses"; exit 3; }
            exit 0

            """);
        using var p = TestCluster.StartDaemon(c.NodeBase(0), ["-i"]);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill();
            Assert.Fail("ctdbd with a failing init event did not exit");
        }
        var log = await stderr;
        Assert.Equal(1, p.ExitCode);
        Assert.Contains("Failed to run init event", log);
        Assert.Contains("init refuses", log);
    }

    [Fact]
    public async Task NodeWhoseTakeipFailsIsBannedAfterTwoFailedTakeoverRuns()
    {
        await using var c = new TestCluster(3, "127.0.107");
        for (var pnn = 0; pnn < 3; pnn++)
            File.WriteAllText(Path.Combine(c.NodeBase(pnn), "ctdb.tunables"), "RecoveryBanPeriod=60\n");
        WriteExecutable(Path.Combine(c.NodeBase(2), "events", "legacy", "10.badip.script"), """
            #!/bin/sh
            [ "$1" = "takeip" ] && { echo "cannot add $3"; exit 1; }
            exit 0

            """);
        c.StartAll();
        var sw = Stopwatch.StartNew();
        await TestCluster.WaitUntilAsync(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                if (await FlagsColumnOfAsync(c, i, 2) is not { } f || !f.Contains("BANNED", StringComparison.Ordinal))
                    return false;
            }
            return true;
        }, "node 2 BANNED on every node", TimeSpan.FromSeconds(60), c.DescribeAsync);
        output.WriteLine($"start -> node 2 banned: {sw.Elapsed.TotalSeconds:F2} s");
        Assert.Contains("Banning this node for 60 seconds", File.ReadAllText(Path.Combine(c.NodeBase(2), "stderr.log")));
        // The others then host every address.
        await TestCluster.WaitUntilAsync(async () =>
        {
            var ip = await c.CtdbAsync(0, "-X", "ip");
            var owners = ip.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split('|')).ToList();
            return ip.ExitCode == 0 && owners.Count == 6 && owners.All(f => f.Length > 2 && f[2] is "0" or "1");
        }, "addresses hosted by nodes 0 and 1", TimeSpan.FromSeconds(30), c.DescribeAsync);
    }

    [Fact]
    public async Task NodeAddressInUseStopsTheDaemonWithExitCode1()
    {
        await using var c = new TestCluster(1, "127.0.108");
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse("127.0.108.1"), 4379);
        squatter.Start();
        using var p = TestCluster.StartDaemon(c.NodeBase(0), ["-i"]);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill();
            Assert.Fail("ctdbd whose node address is in use did not exit");
        }
        var log = await stderr;
        Assert.Equal(1, p.ExitCode);
        Assert.Contains("Failed to bind the node address", log);
    }
}
