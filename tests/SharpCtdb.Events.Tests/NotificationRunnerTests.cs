using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Events.Tests;

public sealed class NotificationRunnerTests
{
    [Fact]
    public async Task StockNotifyShRunsNotificationScriptsInOrder()
    {
        using var b = new TempBase();
        File.Copy("/etc/ctdb/notify.sh", Path.Combine(b.Path, "notify.sh"));
        File.SetUnixFileMode(Path.Combine(b.Path, "notify.sh"), (UnixFileMode)0x1ED);
        var dir = Path.Combine(b.EventsDir, "notification");
        Directory.CreateDirectory(dir);
        var log = b.File_("notify.log");
        b.Script("10.first", $"sleep 0.2; echo \"first $1\" >> {log}", dir: dir);
        b.Script("20.second", $"echo \"second $1\" >> {log}", dir: dir);
        b.Script("30.off", $"echo \"off $1\" >> {log}", executable: false, dir: dir);
        var sink = new MemorySink();
        await using var n = new NotificationRunner(b.Paths.NotifyScript, b.Environment(), new CtdbLog("ctdbd", sink, 5));

        var sw = System.Diagnostics.Stopwatch.StartNew();
        n.Notify(NotificationRunner.Init);
        n.Notify(NotificationRunner.Setup);
        n.Notify(NotificationRunner.Healthy);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(0.2), "Notify must not block");
        await n.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(["first init", "second init", "first setup", "second setup", "first healthy", "second healthy"], File.ReadAllLines(log));
        Assert.DoesNotContain(sink.Entries, e => e.Level == DebugLevel.Error);
    }

    [Fact]
    public async Task MissingOrNonExecutableScriptIsLoggedAndFailureIsOnlyLogged()
    {
        using var b = new TempBase();
        var sink = new MemorySink();
        var notify = Path.Combine(b.Path, "notify.sh");
        await using (var n = new NotificationRunner(notify, b.Environment(), new CtdbLog("ctdbd", sink, 5)))
        {
            n.Notify(NotificationRunner.Startup);
            await n.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
        Assert.Contains(sink.Entries, e => e.Level == DebugLevel.Error && e.Line.Contains("does not exist or is not executable"));

        File.WriteAllText(notify, "#!/bin/sh\necho \"bad $1\"\nexit 4\n");
        File.SetUnixFileMode(notify, (UnixFileMode)0x1ED);
        await using (var n = new NotificationRunner(notify, b.Environment(), new CtdbLog("ctdbd", sink, 5)))
        {
            n.Notify(NotificationRunner.Unhealthy);
            await n.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
        Assert.Contains(sink.Lines, l => l.Contains("exit status 4") && l.Contains("bad unhealthy"));
    }

    [Fact]
    public async Task HangingNotificationIsKilledAtItsTimeout()
    {
        using var b = new TempBase();
        var notify = Path.Combine(b.Path, "notify.sh");
        var pidFile = b.File_("n.pid");
        File.WriteAllText(notify, $"#!/bin/sh\nsleep 300 & echo $! > {pidFile}\nwait\n");
        File.SetUnixFileMode(notify, (UnixFileMode)0x1ED);
        var sink = new MemorySink();
        await using var n = new NotificationRunner(notify, b.Environment(), new CtdbLog("ctdbd", sink, 5), TimeSpan.FromSeconds(1));
        n.Notify(NotificationRunner.Init);
        await n.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var child = int.Parse(File.ReadAllText(pidFile).Trim());
        Assert.True(await Wait.UntilAsync(() => !Wait.ProcessAlive(child)));
        Assert.Contains(sink.Lines, l => l.Contains("did not finish in time"));
    }
}
