using System.Diagnostics;
using System.Globalization;

namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>
/// Bad event scripts in a running daemon (127.0.131.0/24, "events-131" collection): junk names, a non-executable
/// script, megabytes of output, a script that leaves a daemon behind, a hanging monitor (pre-empted by another event,
/// then timed out with the debug hook), a script that deletes itself. None of them blocks the daemon or other
/// events, and each shows up in Debian's `ctdb scriptstatus` as 4.17 reports it.
/// </summary>
[Collection("events-131")]
public sealed class EventBadInputTests(ITestOutputHelper output)
{
    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static void Write(string path, string text, bool executable = true)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        if (executable)
            File.SetUnixFileMode(path, Executable);
    }

    private static Dictionary<string, string> Parse(string text)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 2 && line.Length > 0 && char.IsAsciiDigit(line[0]))
                d[f[0]] = f[1];
        }
        return d;
    }

    private static bool Alive(int pid) => File.Exists($"/proc/{pid}/stat") &&
        !File.ReadAllText($"/proc/{pid}/stat").Split(") ").Last().StartsWith('Z');

    [Fact]
    public async Task BadScriptsNeitherBlockTheDaemonNorOtherEventsAndAreReported()
    {
        await using var c = new TestCluster(1, "127.0.131", extraClusterConf: "[event]\n\tdebug script = debug-hung.sh\n");
        var b = c.NodeBase(0);
        var legacy = Path.Combine(b, "events", "legacy");
        var hangFlag = Path.Combine(c.Dir, "hang");
        var goneFlag = Path.Combine(c.Dir, "gone");
        var hangPid = Path.Combine(c.Dir, "hang.pid");
        var forkPids = Path.Combine(c.Dir, "fork.pids");
        var hookOut = Path.Combine(c.Dir, "hook.out");
        File.WriteAllText(Path.Combine(b, "ctdb.tunables"), "MonitorInterval=1\nEventScriptTimeout=4\n");

        // Junk the directory listing must ignore (4.17: only [0-9][0-9].*.script counts).
        Write(Path.Combine(legacy, "README"), "not a script");
        Write(Path.Combine(legacy, "1.x.script"), "#!/bin/sh\nexit 1\n");
        Write(Path.Combine(legacy, "21.backup.script~"), "#!/bin/sh\nexit 1\n");
        Write(Path.Combine(legacy, "22.opts.options"), "X=1\n");
        Directory.CreateDirectory(Path.Combine(legacy, "aa.dir.script"));
        // Listed but not run: non-executable, a directory. (A dangling symlink is "CANNOT RUN" and fails the event,
        // in 4.17 too: EventRunnerTests covers it.)
        Write(Path.Combine(legacy, "03.noexec.script"), "#!/bin/sh\nexit 1\n", executable: false);
        Directory.CreateDirectory(Path.Combine(legacy, "04.dir.script"));
        Write(Path.Combine(legacy, "10.big.script"), """
            #!/bin/sh
            [ "$1" = monitor ] || exit 0
            echo BIG-START; head -c 5000000 /dev/zero | tr '\0' 'x'; echo; echo BIG-END

            """);
        Write(Path.Combine(legacy, "30.fork.script"), $"""
            #!/bin/sh
            # startup: start a "service" that keeps our stdout open, then exit.
            [ "$1" = startup ] || exit 0
            sleep 600 &
            echo $! >> "{forkPids}"
            echo service started

            """);
        Write(Path.Combine(legacy, "40.hang.script"), $"""
            #!/bin/sh
            [ "$1" = monitor ] && [ -e "{hangFlag}" ] || exit 0
            echo hanging
            echo $$ > "{hangPid}.tmp"; mv "{hangPid}.tmp" "{hangPid}"
            sleep 600

            """);
        Write(Path.Combine(legacy, "50.gone.script"), $"""
            #!/bin/sh
            [ "$1" = monitor ] && [ -e "{goneFlag}" ] || exit 0
            rm -f "$0"
            sleep 0.2
            echo deleted myself

            """);
        // Debian's stock hung-script hook (pstree of the hung script, then `ctdb scriptstatus EVENT`), with its
        // testing hook CTDB_DEBUG_HUNG_SCRIPT_LOGFILE.
        File.Copy("/etc/ctdb/debug-hung-script.sh", Path.Combine(b, "debug-hung.sh"));
        File.SetUnixFileMode(Path.Combine(b, "debug-hung.sh"), Executable);
        File.Copy(StockScripts.Functions, Path.Combine(b, "functions"));
        c.NodeEnvironment = _ => new Dictionary<string, string>
        {
            ["CTDB_SCRIPT_VARDIR"] = Path.Combine(b, "scripts"),
            ["CTDB_DEBUG_HUNG_SCRIPT_LOGFILE"] = hookOut,
        };
        Directory.CreateDirectory(Path.Combine(b, "scripts"));

        try
        {
            c.StartAll();
            await c.WaitHealthyAsync([0], 1);
            var st = Parse((await c.CtdbAsync(0, "scriptstatus")).Stdout);
            await TestCluster.WaitUntilAsync(async () =>
            {
                st = Parse((await c.CtdbAsync(0, "scriptstatus")).Stdout);
                return st.GetValueOrDefault("50.gone") == "OK";
            }, "a complete monitor run recorded", TimeSpan.FromSeconds(30));
            Assert.Equal(["03.noexec", "04.dir", "10.big", "30.fork", "40.hang", "50.gone"], st.Keys);
            Assert.Equal("DISABLED", st["03.noexec"]);
            Assert.Equal("DISABLED", st["04.dir"]);
            Assert.Equal("OK", st["10.big"]);

            // The service started at startup holds the pipe; the startup event still finished as soon as the script
            // exited (4.17 does the same) and the service is left running.
            var startup = await c.CtdbAsync(0, "event", "status", "legacy", "startup");
            var forkLine = startup.Stdout.Split('\n').Single(l => l.StartsWith("30.fork ", StringComparison.Ordinal));
            var duration = double.Parse(forkLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);
            Assert.True(duration < 5, forkLine);
            Assert.True(File.ReadAllLines(forkPids).Select(int.Parse).All(Alive));

            // A hanging monitor does not hold up another event: `ctdb event run` pre-empts it at once and its process
            // group is killed.
            File.WriteAllText(hangFlag, "");
            await TestCluster.WaitUntilAsync(() => Task.FromResult(File.Exists(hangPid)), "monitor hanging", TimeSpan.FromSeconds(30));
            var firstHung = int.Parse(File.ReadAllText(hangPid).Trim(), CultureInfo.InvariantCulture);
            var sw = Stopwatch.StartNew();
            var run = await c.CtdbAsync(0, "event", "run", "30", "legacy", "recovered");
            output.WriteLine($"event run while a monitor hangs: {sw.Elapsed.TotalSeconds:F2} s, {run}");
            Assert.Equal(0, run.ExitCode);
            await TestCluster.WaitUntilAsync(() => Task.FromResult(!Alive(firstHung)), "pre-empted hung monitor killed", TimeSpan.FromSeconds(30));

            // Left alone, the hang times out: TIMEDOUT in status, the debug hook ran with (pid, monitor) before the
            // group was killed, and one timeout (< MonitorTimeoutCount) leaves the node healthy.
            await TestCluster.WaitUntilAsync(async () => Parse((await c.CtdbAsync(0, "scriptstatus")).Stdout).GetValueOrDefault("40.hang") == "TIMEDOUT",
                "40.hang TIMEDOUT", TimeSpan.FromSeconds(40), async () => (await c.CtdbAsync(0, "scriptstatus")).ToString());
            await TestCluster.WaitUntilAsync(() => Task.FromResult(File.Exists(hookOut)), "debug hook ran", TimeSpan.FromSeconds(30));
            var hook = File.ReadAllText(hookOut);
            output.WriteLine(hook);
            var m = System.Text.RegularExpressions.Regex.Match(hook, "===== Start of hung script debug for PID=\"(\\d+)\", event=\"monitor\" =====");
            Assert.True(m.Success, hook);
            var hungPid = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            // pstree shows the hung script still alive when the hook runs; the hook's `ctdb scriptstatus monitor`
            // already sees this run's TIMEDOUT.
            Assert.Matches($@"pstree -p -a {hungPid}:\n.*,{hungPid} .*40\.hang\.script monitor\n.*sleep,\d+ 600", hook);
            Assert.Matches(@"---- ctdb scriptstatus monitor: ----\n(.*\n)*40\.hang\s+TIMEDOUT", hook);
            await TestCluster.WaitUntilAsync(() => Task.FromResult(!Alive(hungPid)), "timed-out script killed", TimeSpan.FromSeconds(30));
            Assert.Contains("OK", (await c.CtdbAsync(0, "nodestatus")).Stdout);
            File.Delete(hangFlag);

            // A script that deletes itself while running completes; the next run no longer lists it.
            File.WriteAllText(goneFlag, "");
            await TestCluster.WaitUntilAsync(async () =>
            {
                var s = Parse((await c.CtdbAsync(0, "scriptstatus")).Stdout);
                return s.ContainsKey("40.hang") && !s.ContainsKey("50.gone") && s.Values.All(v => v is "OK" or "DISABLED");
            }, "monitor without 50.gone", TimeSpan.FromSeconds(30), async () => (await c.CtdbAsync(0, "scriptstatus")).ToString());
            Assert.Equal(0, (await c.CtdbAsync(0, "nodestatus")).ExitCode);
        }
        finally
        {
            if (File.Exists(forkPids))
            {
                foreach (var pid in File.ReadAllLines(forkPids).Select(int.Parse))
                {
                    try
                    {
                        Process.GetProcessById(pid).Kill();
                    }
                    catch (ArgumentException)
                    {
                    }
                }
            }
        }
    }
}
