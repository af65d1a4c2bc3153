using System.Diagnostics;
using System.Text.RegularExpressions;
using SharpCtdb.Config.Logging;

namespace SharpCtdb.Events.Tests;

/// <summary>
/// Debian's real ctdb-event tool against our <see cref="EventDaemonServer"/> must print exactly what it prints
/// against the real ctdb-eventd for the same script directory; and our <see cref="EventCli"/> must print what the
/// real tool prints.
/// </summary>
public sealed partial class RealBinaryComparisonTests
{
    private const string RealEventd = "/usr/libexec/ctdb/ctdb-eventd";
    private const string RealTool = "/usr/libexec/ctdb/ctdb-event";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[][] DaemonCommands =
    [
        ["script", "list", "legacy"],
        ["status", "legacy", "monitor"],
        ["run", "10", "legacy", "monitor"],
        ["status", "legacy", "monitor"],
        ["run", "10", "legacy", "startup"],
        ["status", "legacy", "startup"],
        ["run", "10", "legacy", "takeip", "eth0", "10.1.1.1", "24"],
        ["status", "legacy", "takeip"],
        ["run", "10", "legacy", "weird"],
        ["status", "legacy", "weird"],
        ["run", "10", "legacy", "sixtyfour"],
        ["status", "legacy", "sixtyfour"],
        ["run", "1", "legacy", "hang"],
        ["status", "legacy", "hang"],
        // Not compared: `run 0 ...` (the real daemon races a zero timer against the first script; under load the
        // script sometimes wins). Ours always times out at once; see EventRunnerTests.ZeroTimeoutTimesOutAtOnceLike417.
        ["run", "10", "nope", "monitor"],
        ["status", "nope", "monitor"],
        ["run", "10", "legacy", "empty-args", ""],
        ["status", "legacy", "monitor"],
    ];

    private static void Populate(TempBase b)
    {
        b.Script("01.ok", "echo \"ok $*\"");
        b.Script("02.off", "echo off", executable: false);
        b.Script("03.maybe", """
            case "$1" in
            monitor) echo failing; echo err >&2; exit 3 ;;
            hang) echo hanging; sleep 3 ;;
            weird) echo weird; exit 65 ;;
            sixtyfour) echo sixtyfour; exit 64 ;;
            esac
            echo "fine $1"
            """);
        b.Script("04.after", "echo after");
        File.WriteAllText(Path.Combine(b.Legacy, "README"), "junk");
        File.WriteAllText(Path.Combine(b.Legacy, "1.x.script"), "junk");
        File.WriteAllText(Path.Combine(b.Legacy, "04.after.options"), "X=1");
        b.Script("20.pkg", "echo pkg", dir: b.DataLegacy);
        b.Script("21.linked", "echo linked $1", dir: b.DataLegacy);
        File.CreateSymbolicLink(Path.Combine(b.Legacy, "21.linked.script"), Path.Combine(b.DataLegacy, "21.linked.script"));
    }

    [GeneratedRegex(@"\d+\.\d{3} \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}")]
    private static partial Regex DurationAndTime();

    [GeneratedRegex(@"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}")]
    private static partial Regex CTime();

    private static string Normalise(string text, string basePath) =>
        CTime().Replace(DurationAndTime().Replace(text.Replace(basePath, "<BASE>", StringComparison.Ordinal), "<D> <T>"), "<T>");

    private static Dictionary<string, string> ToolEnv(TempBase b) => b.Environment();

    private static async Task<string> RunToolAsync(TempBase b, string[] args)
    {
        var (code, stdout, stderr) = await Exec.RunAsync(RealTool, args, ToolEnv(b));
        return Normalise($"$ {string.Join(' ', args)}\nrc={code}\n-- stdout\n{stdout}-- stderr\n{stderr}", b.Path);
    }

    private static string RunOurCli(TempBase b, string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = EventCli.Run(args, stdout, stderr, b.Paths);
        return Normalise($"$ {string.Join(' ', args)}\nrc={code}\n-- stdout\n{stdout}-- stderr\n{stderr}", b.Path);
    }

    /// <summary>Starts Debian's ctdb-eventd in test mode for <paramref name="b"/>; it exits with this process.</summary>
    private static async Task<Process> StartRealEventdAsync(TempBase b)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        // -S: fd for the readiness int; -P: exit when this (test) process goes away.
        psi.ArgumentList.Add($"exec {RealEventd} -P {Environment.ProcessId} -S 3 3>/dev/null </dev/null >{b.Path}/eventd.log 2>&1");
        psi.Environment.Clear();
        foreach (var (k, v) in b.Environment())
            psi.Environment[k] = v;
        var p = Process.Start(psi)!;
        Assert.True(await Wait.UntilAsync(() => File.Exists(b.Socket)), "real ctdb-eventd did not create its socket");
        return p;
    }

    private static async Task StopAsync(Process p)
    {
        if (!p.HasExited)
            p.Kill();
        await p.WaitForExitAsync(Ct);
        p.Dispose();
    }

    [Fact]
    public async Task RealToolSeesTheSameOutputFromOurServerAsFromRealEventd()
    {
        Assert.SkipUnless(File.Exists(RealEventd) && File.Exists(RealTool), "Debian ctdb not installed");
        using var realBase = new TempBase();
        using var ourBase = new TempBase();
        Populate(realBase);
        Populate(ourBase);

        var real = await StartRealEventdAsync(realBase);
        var expected = new List<string>();
        try
        {
            foreach (var cmd in DaemonCommands)
                expected.Add(await RunToolAsync(realBase, cmd));
        }
        finally
        {
            await StopAsync(real);
        }

        // The real tool against our server.
        var actual = await WithOurServerAsync(ourBase, async () =>
        {
            var lines = new List<string>();
            foreach (var cmd in DaemonCommands)
                lines.Add(await RunToolAsync(ourBase, cmd));
            return lines;
        });
        Assert.Equal(expected, actual);

        // Our CLI against a fresh server of ours.
        using var cliBase = new TempBase();
        Populate(cliBase);
        var cli = await WithOurServerAsync(cliBase, () => Task.FromResult(DaemonCommands.Select(c => RunOurCli(cliBase, c)).ToList()));
        Assert.Equal(expected, cli);
    }

    private static async Task<List<string>> WithOurServerAsync(TempBase b, Func<Task<List<string>>> body)
    {
        var log = new CtdbLog("ctdb-eventd", new MemorySink(), 5);
        await using var runner = b.Runner(log);
        List<string> result;
        await using (var server = new EventDaemonServer(b.Socket, runner, log))
        {
            await server.StartAsync(Ct);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(b.Socket));
            result = await body();
        }
        Assert.False(File.Exists(b.Socket));
        return result;
    }

    private static readonly string[][] OfflineCommands =
    [
        [],
        ["-h"],
        ["--help"],
        ["bogus"],
        ["-x", "status", "legacy", "monitor"],
        ["status", "legacy", "monitor", "-q"],
        ["-d"],
        ["run"],
        ["run", "10", "legacy"],
        ["status", "legacy"],
        ["status", "a", "b", "c"],
        ["script"],
        ["script", "frob", "legacy"],
        ["script", "list"],
        ["script", "list", "legacy", "x"],
        ["script", "enable", "legacy"],
        ["script", "disable", "legacy", "a", "b"],
        ["script", "list", "legacy"],
        ["script", "list", "nope"],
        ["script", "enable", "legacy", "nonexistent"],
        ["script", "disable", "legacy", "nonexistent"],
        ["script", "disable", "legacy", "01.ok"],
        ["script", "list", "legacy"],
        ["script", "enable", "legacy", "01.ok"],
        ["script", "enable", "legacy", "02.off"],
        ["script", "enable", "legacy", "20.pkg"],
        ["script", "list", "legacy"],
        ["script", "enable", "legacy", "20.pkg"],
        ["script", "disable", "legacy", "20.pkg"],
        ["script", "disable", "legacy", "21.linked"],
        ["script", "list", "legacy"],
        ["script", "enable", "legacy", "07.dir"],
        ["script", "disable", "legacy", "07.dir"],
        ["script", "enable", "legacy", "08.dangling"],
        ["script", "list", "legacy"],
        ["script", "disable", "legacy", "08.dangling"],
        ["script", "list", "legacy"],
        ["status", "legacy", "monitor"],
        ["-d", "DEBUG", "run", "5", "legacy", "monitor"],
    ];

    private static void PopulateOffline(TempBase b)
    {
        Populate(b);
        Directory.CreateDirectory(Path.Combine(b.Legacy, "07.dir.script"));
        File.CreateSymbolicLink(Path.Combine(b.Legacy, "08.dangling.script"), "/nonexistent/file");
        b.Script("09.zz", "true");
        File.SetUnixFileMode(Path.Combine(b.Legacy, "09.zz.script"), (UnixFileMode)0x180); // 0600: enable gives 0711
    }

    [Fact]
    public async Task OurCliMatchesRealToolForUsageAndScriptCommands()
    {
        Assert.SkipUnless(File.Exists(RealTool), "Debian ctdb not installed");
        using var realBase = new TempBase();
        using var ourBase = new TempBase();
        PopulateOffline(realBase);
        PopulateOffline(ourBase);

        foreach (var cmd in OfflineCommands)
        {
            var expected = await RunToolAsync(realBase, cmd);
            var actual = RunOurCli(ourBase, cmd);
            Assert.Equal(expected, actual);
        }

        // Same resulting modes and links on disk.
        foreach (var name in Directory.GetFileSystemEntries(realBase.Legacy).Select(Path.GetFileName).Order())
        {
            var r = new FileInfo(Path.Combine(realBase.Legacy, name!));
            var o = new FileInfo(Path.Combine(ourBase.Legacy, name!));
            Assert.Equal(r.LinkTarget?.Replace(realBase.Path, "<B>"), o.LinkTarget?.Replace(ourBase.Path, "<B>"));
            if (r.LinkTarget is null && r.Exists)
                Assert.Equal(File.GetUnixFileMode(r.FullName), File.GetUnixFileMode(o.FullName));
        }
        Assert.Equal(
            Directory.GetFileSystemEntries(realBase.Legacy).Select(Path.GetFileName).Order(),
            Directory.GetFileSystemEntries(ourBase.Legacy).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task ScriptStatusMatchesCtdbTool()
    {
        Assert.SkipUnless(File.Exists(RealEventd) && File.Exists("/usr/bin/ctdb"), "Debian ctdb not installed");
        using var b = new TempBase();
        Populate(b);
        await using var runner = b.Runner();
        await using var server = new EventDaemonServer(b.Socket, runner, CtdbLog.Null);
        await server.StartAsync(Ct);
        await runner.RunAsync("legacy", "monitor", [], TimeSpan.FromSeconds(10), ct: Ct);
        await runner.RunAsync("legacy", "startup", [], TimeSpan.FromSeconds(10), ct: Ct);

        foreach (var args in new[] { Array.Empty<string>(), ["startup"], ["never"], ["a", "b"] })
        {
            var (code, stdout, stderr) = await Exec.RunAsync("/usr/bin/ctdb", ["scriptstatus", .. args], b.Environment());
            var o = new StringWriter();
            var e = new StringWriter();
            var ours = EventCli.ScriptStatus(args, o, e, b.Paths);
            Assert.Equal(Normalise(stdout, b.Path), Normalise(o.ToString(), b.Path));
            Assert.Equal(code, ours);
            Assert.Equal(stderr, e.ToString());
        }
    }
}
