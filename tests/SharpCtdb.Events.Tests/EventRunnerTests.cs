using System.Diagnostics;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Events.Tests;

public sealed class EventRunnerTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunsScriptsInNameOrderWithEventArgsAndEnvironment()
    {
        using var b = new TempBase();
        var log = b.File_("order.log");
        b.Script("20.second", $"echo \"20 $0 $*\" >> {log}");
        b.Script("05.first", $"echo \"05 $# $1 $2 $3 $4 base=$CTDB_BASE\" >> {log}");
        b.Script("10.middle", $"echo \"10 $*\" >> {log}");
        await using var runner = b.Runner();

        var r = await runner.RunAsync("legacy", "takeip", ["eth0", "10.0.0.1", "24"], Long, ct: Ct);

        Assert.Equal(EventRunStatus.Ok, r.Status);
        Assert.Equal(0, r.ErrorCode);
        Assert.Equal(["05.first", "10.middle", "20.second"], r.Scripts.Select(s => s.Name));
        var lines = File.ReadAllLines(log);
        Assert.Equal($"05 4 takeip eth0 10.0.0.1 24 base={b.Path}", lines[0]);
        Assert.Equal("10 takeip eth0 10.0.0.1 24", lines[1]);
        Assert.Equal($"20 {b.Legacy}/20.second.script takeip eth0 10.0.0.1 24", lines[2]);
        Assert.All(r.Scripts, s => Assert.True(s.End >= s.Begin));
    }

    [Fact]
    public async Task StopsAtFirstFailureAndCapturesMergedOutput()
    {
        using var b = new TempBase();
        b.Script("01.ok", "echo fine");
        b.Script("02.fail", "echo out1; echo err1 >&2; echo out2; exit 3");
        var after = b.File_("after.ran");
        File.Delete(after);
        b.Script("03.after", $"touch {after}");
        await using var runner = b.Runner();

        var r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);

        Assert.Equal(EventRunStatus.Failed, r.Status);
        Assert.Equal(8, r.ErrorCode); // ENOEXEC
        Assert.Equal(3, r.Summary);
        Assert.Equal(2, r.Scripts.Count);
        Assert.Equal("fine\n", r.Scripts[0].Output);
        Assert.Equal("out1\nerr1\nout2\n", r.Scripts[1].Output);
        Assert.Equal(ScriptOutcome.Error, r.Scripts[1].Outcome);
        Assert.False(File.Exists(after));
        Assert.Same(r, runner.LastRun("legacy", "monitor"));
        Assert.Equal(3, runner.LastScriptRun("legacy", "02.fail")!.Result);
    }

    [Fact]
    public async Task RunAllKeepsGoingAndReportsLastFailure()
    {
        using var b = new TempBase();
        b.Script("01.a", "exit 3");
        b.Script("02.b", "exit 0");
        b.Script("03.c", "exit 2");
        await using var runner = b.Runner();

        var r = await runner.RunAsync("legacy", "monitor", [], Long, new EventRunOptions { RunAll = true }, Ct);

        Assert.Equal(EventRunStatus.Failed, r.Status);
        Assert.Equal(3, r.Scripts.Count);
        Assert.Equal(2, r.Summary);
    }

    [Fact]
    public async Task NonExecutableAndHeaderlessScriptsAreDisabledAndNotRun()
    {
        using var b = new TempBase();
        var marker = b.File_("ran");
        File.Delete(marker);
        b.Script("01.off", $"touch {marker}", executable: false);
        // Executable but without "#!": 4.17's exec fails with ENOEXEC -> DISABLED (execvp would run it via sh).
        var noShebang = Path.Combine(b.Legacy, "02.noshebang.script");
        File.WriteAllText(noShebang, $"touch {marker}\n");
        File.SetUnixFileMode(noShebang, (UnixFileMode)0x1ED);
        Directory.CreateDirectory(Path.Combine(b.Legacy, "03.dir.script"));
        b.Script("04.ok", "echo ok");
        await using var runner = b.Runner();

        var r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);

        Assert.Equal(EventRunStatus.Ok, r.Status);
        Assert.Equal(["01.off", "02.noshebang", "03.dir", "04.ok"], r.Scripts.Select(s => s.Name));
        Assert.Equal([-8, -8, -8, 0], r.Scripts.Select(s => s.Result));
        Assert.All(r.Scripts.Take(3), s => Assert.Equal(ScriptOutcome.Disabled, s.Outcome));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task JunkNamesAreIgnored()
    {
        using var b = new TempBase();
        var marker = b.File_("junk.ran");
        File.Delete(marker);
        foreach (var junk in new[] { "README", "1.x.script", "123.x.script", "05.script", "0a.x.script", "05-x.script", "05.x.script~", "05.x.SCRIPT", "10.y.options", ".05.hidden.script", "05.x.scriptx" })
        {
            var p = Path.Combine(b.Legacy, junk);
            File.WriteAllText(p, $"#!/bin/sh\necho {junk} >> {marker}\n");
            File.SetUnixFileMode(p, (UnixFileMode)0x1ED);
        }
        b.Script("05.", "echo empty-middle");
        b.Script("99.last", "echo last");
        await using var runner = b.Runner();

        var r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);

        Assert.Equal(EventRunStatus.Ok, r.Status);
        Assert.Equal(["05.", "99.last"], r.Scripts.Select(s => s.Name));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task BrokenSymlinkAndMissingInterpreterCannotRun()
    {
        using var b = new TempBase();
        File.CreateSymbolicLink(Path.Combine(b.Legacy, "05.broken.script"), "/nonexistent/x");
        await using var runner = b.Runner();

        var r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        Assert.Equal(EventRunStatus.Failed, r.Status);
        Assert.Equal(-2, r.Summary);
        Assert.Equal(ScriptOutcome.CannotRun, r.Scripts[0].Outcome);

        File.Delete(Path.Combine(b.Legacy, "05.broken.script"));
        var bad = Path.Combine(b.Legacy, "06.badinterp.script");
        File.WriteAllText(bad, "#!/nonexistent/interp\necho x\n");
        File.SetUnixFileMode(bad, (UnixFileMode)0x1ED);
        r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        Assert.Equal(-2, r.Scripts.Single().Result);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(63, 63)]
    [InlineData(64, 0)]     // exec-error encoding: e = status - 64 = 0
    [InlineData(65, -1)]
    [InlineData(72, -8)]    // ENOEXEC: DISABLED
    [InlineData(77, -8)]    // EACCES -> ENOEXEC
    [InlineData(100, -36)]
    [InlineData(254, -190)]
    [InlineData(255, 255)]
    public async Task ExitStatusMappingMatches417(int exit, int expected)
    {
        using var b = new TempBase();
        b.Script("10.x", $"exit {exit}");
        await using var runner = b.Runner();

        var r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);

        Assert.Equal(expected, r.Scripts.Single().Result);
    }

    [Fact]
    public async Task KilledBySignalIsInterrupted()
    {
        using var b = new TempBase();
        b.Script("10.sig", "kill -9 $$");
        await using var runner = b.Runner();
        var r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        Assert.Equal(-4, r.Scripts.Single().Result);
    }

    [Fact]
    public async Task ScriptIsSessionLeaderWithOwnProcessGroup()
    {
        using var b = new TempBase();
        b.Script("10.ids", "echo \"$$ $(ps -o pgid= -p $$) $(ps -o sid= -p $$)\"");
        await using var runner = b.Runner();
        var r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        var ids = r.Scripts.Single().Output!.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, ids.Length);
        Assert.Equal(ids[0], ids[1]);
        Assert.Equal(ids[0], ids[2]);
        Assert.NotEqual(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), ids[0]);
    }

    [Fact]
    public async Task HangingScriptIsKilledWithItsWholeGroupAtTheTimeout()
    {
        using var b = new TempBase();
        var pids = b.File_("pids");
        b.Script("01.ok", "echo quick");
        // The grandchild (sleep in a subshell) must die with the script.
        b.Script("02.hang", $"echo hanging; (sleep 300; echo never) & echo \"$$ $!\" > {pids}; sleep 300");
        b.Script("03.never", "echo never");
        await using var runner = b.Runner();

        var sw = Stopwatch.StartNew();
        var r = await runner.RunAsync("legacy", "monitor", [], TimeSpan.FromSeconds(2), ct: Ct);
        sw.Stop();

        Assert.Equal(EventRunStatus.TimedOut, r.Status);
        Assert.Equal(110, r.ErrorCode);
        Assert.Equal(-110, r.Summary);
        Assert.Equal(["01.ok", "02.hang"], r.Scripts.Select(s => s.Name));
        Assert.Equal(ScriptOutcome.TimedOut, r.Scripts[1].Outcome);
        Assert.Equal("hanging\n", r.Scripts[1].Output);
        Assert.InRange(sw.Elapsed.TotalSeconds, 1.5, 20);
        var ids = File.ReadAllText(pids).Split(' ', StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        Assert.True(await Wait.UntilAsync(() => !Wait.ProcessAlive(ids[0]) && !Wait.ProcessAlive(ids[1])),
            "script and its grandchild must be gone");
    }

    [Fact]
    public async Task TimeoutCoversTheWholeEvent()
    {
        using var b = new TempBase();
        // Each script alone fits in the timeout; together they do not.
        b.Script("01.a", "sleep 1.5");
        b.Script("02.b", "sleep 1.5");
        b.Script("03.c", "sleep 1.5");
        await using var runner = b.Runner();

        var sw = Stopwatch.StartNew();
        var r = await runner.RunAsync("legacy", "monitor", [], TimeSpan.FromSeconds(2.5), ct: Ct);

        Assert.Equal(EventRunStatus.TimedOut, r.Status);
        Assert.InRange(r.Scripts.Count, 1, 2);
        Assert.Equal(-110, r.Scripts[^1].Result);
        Assert.All(r.Scripts.SkipLast(1), s => Assert.Equal(0, s.Result));
        Assert.InRange(sw.Elapsed.TotalSeconds, 2.4, 15);
    }

    [Fact]
    public async Task ZeroTimeoutTimesOutAtOnceLike417()
    {
        using var b = new TempBase();
        b.Script("01.off", "true", executable: false);
        b.Script("02.a", "true");
        await using var runner = b.Runner();

        var r = await runner.RunAsync("legacy", "monitor", [], TimeSpan.Zero, ct: Ct);

        Assert.Equal(EventRunStatus.TimedOut, r.Status);
        Assert.Equal([-8, -110], r.Scripts.Select(s => s.Result));
    }

    [Fact]
    public async Task DebugHookRunsWithPidAndEventThenGroupIsKilled()
    {
        using var b = new TempBase();
        var pids = b.File_("pids");
        var hookOut = b.File_("hook.out");
        b.Script("02.hang", $"echo \"$$\" > {pids}; sleep 300");
        var hook = Path.Combine(b.Path, "debug-hook.sh");
        File.WriteAllText(hook, $"#!/bin/sh\n[ -d /proc/$1 ] && alive=yes || alive=no\necho \"$1 $2 $alive\" > {hookOut}.tmp; mv {hookOut}.tmp {hookOut}\necho hook-says-hello\n");
        File.SetUnixFileMode(hook, (UnixFileMode)0x1ED);
        File.Delete(hookOut);
        var sink = new MemorySink();
        await using var runner = b.Runner(new CtdbLog("test", sink, 10), s => s with { DebugScript = hook });

        var r = await runner.RunAsync("legacy", "startrecovery", [], TimeSpan.FromSeconds(1), ct: Ct);

        Assert.Equal(EventRunStatus.TimedOut, r.Status);
        Assert.True(await Wait.UntilAsync(() => File.Exists(hookOut)), "debug hook must run");
        var scriptPid = File.ReadAllText(pids).Trim();
        Assert.Equal($"{scriptPid} startrecovery yes", File.ReadAllText(hookOut).Trim());
        Assert.True(await Wait.UntilAsync(() => !Wait.ProcessAlive(int.Parse(scriptPid))), "hung script killed after the hook");
        Assert.True(await Wait.UntilAsync(() => sink.Lines.Any(l => l.Contains("event_debug: hook-says-hello"))));
    }

    [Fact]
    public async Task MegabytesOfOutputAreBounded()
    {
        using var b = new TempBase();
        // ~8 MB: far more than any pipe buffer, so a reader that stopped would deadlock the script.
        b.Script("10.chatty", "echo FIRST-LINE; head -c 8000000 /dev/zero | tr '\\0' 'x'; echo; echo LAST-LINE; exit 1");
        await using var runner = b.Runner(tweak: s => s with { OutputLimit = 64 * 1024 });

        var r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);

        var s = r.Scripts.Single();
        Assert.Equal(1, s.Result);
        Assert.True(s.OutputTruncated);
        Assert.InRange(s.Output!.Length, 1000, 70 * 1024);
        Assert.StartsWith("FIRST-LINE\n", s.Output);
        Assert.EndsWith("LAST-LINE\n", s.Output);
        Assert.Contains("bytes of output omitted", s.Output);
    }

    [Fact]
    public async Task ScriptThatLeavesADaemonHoldingThePipeCompletesPromptly()
    {
        using var b = new TempBase();
        var pidFile = b.File_("daemon.pid");
        b.Script("10.daemon", $"echo starting; sleep 300 & echo $! > {pidFile}; echo started");
        await using var runner = b.Runner();

        var sw = Stopwatch.StartNew();
        var r = await runner.RunAsync("legacy", "startup", [], Long, ct: Ct);
        sw.Stop();

        var daemon = int.Parse(File.ReadAllText(pidFile).Trim());
        try
        {
            Assert.Equal(EventRunStatus.Ok, r.Status);
            Assert.Equal("starting\nstarted\n", r.Scripts.Single().Output);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
            // Documented choice (as 4.17): a daemon started by a successful script is left running.
            Assert.True(Wait.ProcessAlive(daemon));
        }
        finally
        {
            try
            {
                Process.GetProcessById(daemon).Kill();
            }
            catch (ArgumentException)
            {
            }
        }
    }

    [Fact]
    public async Task ScriptDeletedWhileRunningStillCompletes()
    {
        using var b = new TempBase();
        var started = b.File_("started");
        File.Delete(started);
        var path = b.Script("10.self", $"touch {started}; sleep 0.5; echo done-after-delete");
        b.Script("20.next", "echo next");
        await using var runner = b.Runner();

        var run = runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        Assert.True(await Wait.UntilAsync(() => File.Exists(started)));
        File.Delete(path);
        var r = await run;

        Assert.Equal(EventRunStatus.Ok, r.Status);
        Assert.Equal("done-after-delete\n", r.Scripts[0].Output);
        Assert.Equal("next\n", r.Scripts[1].Output);
    }

    [Fact]
    public async Task ScriptDeletedAfterListingCannotRun()
    {
        using var b = new TempBase();
        var victim = b.Script("20.victim", "echo should-not-run");
        b.Script("10.deleter", $"rm -f {victim}");
        await using var runner = b.Runner();

        var r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);

        Assert.Equal(EventRunStatus.Failed, r.Status);
        Assert.Equal(-2, r.Scripts[1].Result);
        Assert.Equal(ScriptOutcome.CannotRun, r.Scripts[1].Outcome);
    }

    [Fact]
    public async Task MissingComponentIsENOENT()
    {
        using var b = new TempBase();
        await using var runner = b.Runner();
        var r = await runner.RunAsync("nope", "monitor", [], Long, ct: Ct);
        Assert.Equal(EventRunStatus.NoSuchComponent, r.Status);
        Assert.Equal(2, r.ErrorCode);
        Assert.Equal(2, runner.GetStatus("nope", "monitor", out _));
        Assert.Equal(22, runner.GetStatus("legacy", "monitor", out _));
    }

    [Fact]
    public async Task EmptyComponentSucceeds()
    {
        using var b = new TempBase();
        await using var runner = b.Runner();
        var r = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        Assert.Equal(EventRunStatus.Ok, r.Status);
        Assert.Empty(r.Scripts);
        Assert.Equal(0, runner.GetStatus("legacy", "monitor", out var last));
        Assert.Same(r, last);
    }

    [Fact]
    public async Task AnotherEventCancelsARunningMonitorWhichIsNotRecorded()
    {
        using var b = new TempBase();
        var started = b.File_("mon.started");
        File.Delete(started);
        var pidFile = b.File_("mon.pid");
        b.Script("10.slow", $"if [ \"$1\" = monitor ]; then echo $$ > {pidFile}; touch {started}; sleep 300; fi; echo ran $1");
        await using var runner = b.Runner();

        var monitor = runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        Assert.True(await Wait.UntilAsync(() => File.Exists(started)));
        var sw = Stopwatch.StartNew();
        var other = await runner.RunAsync("legacy", "ipreallocated", [], Long, ct: Ct);
        var mon = await monitor;

        Assert.Equal(EventRunStatus.Cancelled, mon.Status);
        Assert.Equal(125, mon.ErrorCode);
        Assert.Equal(EventRunStatus.Ok, other.Status);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15));
        Assert.Null(runner.LastRun("legacy", "monitor"));
        Assert.True(await Wait.UntilAsync(() => !Wait.ProcessAlive(int.Parse(File.ReadAllText(pidFile).Trim()))));
    }

    [Fact]
    public async Task NewMonitorCancelsRunningMonitorButIsRefusedDuringOtherEvents()
    {
        using var b = new TempBase();
        var started = b.File_("started");
        File.Delete(started);
        b.Script("10.slow", $"touch {started}.$1; [ \"$1\" = monitor ] && [ -e {started}.second ] && exit 0; sleep 2; echo done");
        await using var runner = b.Runner();

        // A second monitor pre-empts the first and runs itself.
        var first = runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        Assert.True(await Wait.UntilAsync(() => File.Exists(started + ".monitor")));
        File.WriteAllText(started + ".second", "");
        var second = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        Assert.Equal(EventRunStatus.Cancelled, (await first).Status);
        Assert.Equal(EventRunStatus.Ok, second.Status);

        // A monitor arriving while another event runs is refused at once and does not disturb it.
        var startup = runner.RunAsync("legacy", "startup", [], Long, ct: Ct);
        Assert.True(await Wait.UntilAsync(() => File.Exists(started + ".startup")));
        var sw = Stopwatch.StartNew();
        var refused = await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        Assert.Equal(EventRunStatus.Cancelled, refused.Status);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1.5), $"refusal took {sw.Elapsed}");
        Assert.Equal(EventRunStatus.Ok, (await startup).Status);
    }

    [Fact]
    public async Task EventsOfOneComponentRunInArrivalOrderOneAtATime()
    {
        using var b = new TempBase();
        var log = b.File_("fifo.log");
        b.Script("10.s", $"echo \"start $1\" >> {log}; sleep 0.3; echo \"end $1\" >> {log}");
        await using var runner = b.Runner();

        var tasks = new List<Task<EventRunResult>>();
        foreach (var ev in new[] { "startup", "takeip", "releaseip", "ipreallocated" })
        {
            tasks.Add(runner.RunAsync("legacy", ev, [], Long, ct: Ct));
            await Task.Delay(30, Ct); // arrival order
        }
        var results = await Task.WhenAll(tasks);

        Assert.All(results, r => Assert.Equal(EventRunStatus.Ok, r.Status));
        Assert.Equal(
            ["start startup", "end startup", "start takeip", "end takeip", "start releaseip", "end releaseip", "start ipreallocated", "end ipreallocated"],
            File.ReadAllLines(log));
    }

    [Fact]
    public async Task DifferentComponentsDoNotBlockEachOther()
    {
        using var b = new TempBase();
        Directory.CreateDirectory(Path.Combine(b.EventsDir, "other"));
        var started = b.File_("slow.started");
        File.Delete(started);
        b.Script("10.slow", $"touch {started}; sleep 300");
        b.Script("10.fast", "echo fast", dir: Path.Combine(b.EventsDir, "other"));
        await using var runner = b.Runner();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var slow = runner.RunAsync("legacy", "startup", [], Long, ct: cts.Token);
        Assert.True(await Wait.UntilAsync(() => File.Exists(started)));
        var fast = await runner.RunAsync("other", "startup", [], Long, ct: Ct);
        Assert.Equal(EventRunStatus.Ok, fast.Status);
        Assert.False(slow.IsCompleted);

        // Cancelling the caller's token kills the script and throws.
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
    }

    [Fact]
    public async Task QueueTimeCountsTowardsTheDeadline()
    {
        using var b = new TempBase();
        var started = b.File_("q.started");
        File.Delete(started);
        b.Script("10.s", $"[ \"$1\" = startup ] && {{ touch {started}; sleep 1.5; }}; exit 0");
        await using var runner = b.Runner();

        var first = runner.RunAsync("legacy", "startup", [], Long, ct: Ct);
        Assert.True(await Wait.UntilAsync(() => File.Exists(started)));
        var queued = await runner.RunAsync("legacy", "takeip", [], TimeSpan.FromSeconds(0.5), ct: Ct);

        Assert.Equal(EventRunStatus.Ok, (await first).Status);
        Assert.Equal(EventRunStatus.TimedOut, queued.Status);
        Assert.Equal(-110, queued.Scripts.Single().Result);
    }

    [Fact]
    public async Task OutputIsLoggedLineByLineAtErrorLevel()
    {
        using var b = new TempBase();
        b.Script("10.talk", "echo line-one; echo line-two >&2");
        var sink = new MemorySink();
        await using var runner = b.Runner(new CtdbLog("ctdb-eventd", sink, 10));
        await runner.RunAsync("legacy", "monitor", [], Long, ct: Ct);
        Assert.Contains(sink.Entries, e => e.Level == DebugLevel.Error && e.Line.EndsWith("]: 10.talk: line-one", StringComparison.Ordinal));
        Assert.Contains(sink.Entries, e => e.Level == DebugLevel.Error && e.Line.EndsWith("]: 10.talk: line-two", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DaemonSettingsGiveScriptsThe417Environment()
    {
        using var b = new TempBase();
        b.Script("10.env", "echo \"$CTDB_BASE|$CTDB_LOGGING|$CTDB_DEBUGLEVEL|${CTDB_INTERACTIVE-unset}|$CTDB_DEBUG_LOCKS\"");
        var config = new SharpCtdb.Config.CtdbConfig
        {
            Logging = new SharpCtdb.Config.LoggingConfig { Location = "syslog", LogLevel = 10 },
            Database = new SharpCtdb.Config.DatabaseConfig { LockDebugScript = "/etc/ctdb/debug_locks.sh" },
            Event = new SharpCtdb.Config.EventConfig { DebugScript = Path.Combine(b.Path, "dbg.sh") },
        };
        var settings = EventRunnerSettings.ForDaemon(b.Paths, config, interactive: true);
        Assert.Equal(b.EventsDir, settings.EventsDir);
        Assert.Equal(Path.Combine(b.Path, "dbg.sh"), settings.DebugScript);
        await using var runner = new EventRunner(settings with { Environment = new Dictionary<string, string>(settings.Environment!) { ["CTDB_BASE"] = b.Path } }, CtdbLog.Null);

        Assert.Equal(0, await runner.RunLegacyAsync("monitor", [], Long, Ct));
        Assert.Equal($"{b.Path}|syslog|DEBUG|true|/etc/ctdb/debug_locks.sh\n", runner.LastRun("legacy", "monitor")!.Scripts.Single().Output);
    }

    [Fact]
    public void BoundedOutputKeepsHeadAndTail()
    {
        var o = new BoundedOutput(10);
        o.Append("0123"u8);
        Assert.Equal("0123", o.ToString());
        o.Append("456789ABCDEF"u8);
        Assert.True(o.Truncated);
        Assert.Equal(16, o.TotalBytes);
        Assert.Equal("01234\n[... 6 bytes of output omitted ...]\nBCDEF", o.ToString());
        o.Append("G"u8);
        Assert.Equal("01234\n[... 7 bytes of output omitted ...]\nCDEFG", o.ToString());
    }
}
