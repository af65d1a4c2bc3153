using System.Diagnostics;

namespace SharpCtdb.Config.Tests;

/// <summary>
/// Runs Samba's 4.17 /usr/libexec/ctdb/ctdb-config and ours (the built ctdb-config next to this assembly) on the
/// same files in test mode and requires the same verdicts and outputs.
/// </summary>
public sealed class RealToolComparisonTests : IDisposable
{
    private const string RealTool = "/usr/libexec/ctdb/ctdb-config";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed record ToolRun(int ExitCode, string Stdout, string Stderr);

    // Real tool as a process; ours in-process (fast) unless ourBinary.
    private ToolRun Run(bool real, params string[] args) => Run(real, ourBinary: false, args);

    private ToolRun Run(bool real, bool ourBinary, params string[] args)
    {
        if (!real && !ourBinary)
        {
            var env = new Dictionary<string, string?> { ["CTDB_TEST_MODE"] = "yes", ["CTDB_BASE"] = _dir.Path };
            var stdoutWriter = new StringWriter { NewLine = "\n" };
            var stderrWriter = new StringWriter { NewLine = "\n" };
            var rc = SharpCtdb.ConfigTool.ConfigTool.Run(args, stdoutWriter, stderrWriter, env);
            return new ToolRun(rc, stdoutWriter.ToString(), stderrWriter.ToString());
        }
        ProcessStartInfo psi;
        if (real)
        {
            psi = new ProcessStartInfo(RealTool);
        }
        else
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "ctdb-config.dll");
            psi = new ProcessStartInfo("dotnet");
            psi.ArgumentList.Add(dll);
        }
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        psi.Environment["CTDB_TEST_MODE"] = "yes";
        psi.Environment["CTDB_BASE"] = _dir.Path;
        psi.Environment.Remove("CTDB_SOCKET");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.True(p.WaitForExit(60_000), "tool did not finish");
        return new ToolRun(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static TheoryData<string> Configs => new()
    {
        "[logging]\n\tlog level = NOTICE\n[cluster]\n\tleader timeout = 7\n",
        "[logging]\nlog levl = NOTICE\n",
        "[logging]\nlog level =\n",
        "[legacy]\nstart as stopped = maybe\n",
        "[legacy]\nstart as stopped = YES\n",
        "[bogus]\nx = 1\n",
        "x = 1\n",
        "[cluster]\nleader timeout = 3x\n",
        "[cluster]\nleader timeout = 0\n",
        "[cluster]\nleader timeout = -1\n",
        "[cluster]\nleader timeout = 010\n",
        "[cluster]\nleader timeout = 09\n",
        "[cluster]\nleader timeout = 2147483648\n",
        "[cluster]\ntransport = udp\n",
        "[cluster]\nnode address = 1.2.3\n",
        "[cluster]\nnode address = 1.2.3.4:22\n",
        "[cluster]\nnode address = [::1]\n",
        "[cluster]\nnode address = ::ffff:1.2.3.4\n",
        "[cluster]\ncluster lock = a \t  b\t\tc\nrecovery lock = /x\n",
        "[database]\nvolatile database directory = /nonexistent/sc\n",
        "[event]\ndebug script = /nonexistent/missing.sh\n",
        "[logging]\nlocation = foo\n",
        "[logging]\nlocation = syslog:bad\n",
        "[logging]\nlocation = file\n",
        "[logging]\nlocation = filex\n",
        "[logging]\nlog level = 11\n",
        "[logging]\nlog level = x\n",
        "[logging]\nlog level = 3x\n",
        "[LOGGING]\nlog level = notice\n",
        "[logging]\nLog Level = NOTICE\n",
        "just some text\n",
        "[logging\nlog level = bogus\n",
        "[logging]\n  log level = DE\\\n BUG\n",
        "[logging]\n  log level = DEBUG \\\n\n",
        "[ cluster ]\nleader timeout = 7\n",
        "[cluster] # note\nleader timeout = 7 # note\n",
        "[cluster]\n=5\n",
        "[failover]\ndisabled = yes\n[database]\ntdb mutexes = FALSE\n",
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void ValidateDumpAndGetAgreeWithTheRealTool(string config)
    {
        Assert.SkipUnless(File.Exists(RealTool), "real ctdb-config not installed");
        _dir.Write("ctdb.conf", config);

        var realValidate = Run(true, "validate");
        var ourValidate = Run(false, "validate");
        Assert.Equal(realValidate.ExitCode, ourValidate.ExitCode);
        Assert.Equal(realValidate.Stdout, ourValidate.Stdout);
        // Our diagnostics differ in wording (they carry FILE:LINE) but both tools end with the same summary line.
        if (realValidate.ExitCode != 0)
            Assert.EndsWith($"Failed to load config file {_dir.Path}/ctdb.conf\n", ourValidate.Stderr);

        // The in-process API gives the same verdict in strict mode.
        var api = CtdbConfigFile.Load(Path.Combine(_dir.Path, "ctdb.conf"), _dir.TestModePaths(), strict: true);
        Assert.Equal(realValidate.ExitCode == 0, api.Ok);

        var realDump = Run(true, "dump");
        var ourDump = Run(false, "dump");
        Assert.Equal(realDump.ExitCode, ourDump.ExitCode);
        Assert.Equal(realDump.Stdout, ourDump.Stdout);

        foreach (var (section, key) in new[] { ("cluster", "leader timeout"), ("logging", "log level"), ("cluster", "cluster lock") })
        {
            var realGet = Run(true, "get", section, key);
            var ourGet = Run(false, "get", section, key);
            Assert.Equal(realGet.ExitCode, ourGet.ExitCode);
            Assert.Equal(realGet.Stdout, ourGet.Stdout);
        }
    }

    [Fact]
    public void MissingFileAndUnknownOptionAgree()
    {
        Assert.SkipUnless(File.Exists(RealTool), "real ctdb-config not installed");
        foreach (var args in new[] { new[] { "validate" }, ["get", "cluster", "bogus"], ["get", "Cluster", "leader timeout"], ["get", "cluster"], ["dump", "x"], [], ["frob"] })
        {
            var real = Run(true, args);
            var ours = Run(false, args);
            Assert.Equal(real.ExitCode, ours.ExitCode);
            Assert.Equal(real.Stdout, ours.Stdout);
            if (args is ["get", "cluster", "bogus"])
                Assert.Equal(real.Stderr, ours.Stderr);
        }
        Assert.Equal(2, Run(false, "validate").ExitCode);
    }

    [Fact]
    public void TheBuiltBinaryBehavesLikeTheRealOne()
    {
        Assert.SkipUnless(File.Exists(RealTool), "real ctdb-config not installed");
        _dir.Write("ctdb.conf", "[cluster]\nleader timeout = 010\n[legacy]\nstart as stopped = yes\n");
        foreach (var args in new[] { new[] { "validate" }, ["dump"], ["get", "cluster", "leader timeout"] })
        {
            var real = Run(true, args);
            var ours = Run(false, ourBinary: true, args);
            Assert.Equal(real.ExitCode, ours.ExitCode);
            Assert.Equal(real.Stdout, ours.Stdout);
        }
        _dir.Write("ctdb.conf", "[logging]\nlog levl = NOTICE\n");
        var bad = Run(false, ourBinary: true, "validate");
        Assert.Equal(22, bad.ExitCode);
        Assert.Contains("ctdb.conf:2: unknown key 'log levl' in section [logging]; did you mean 'log level'?", bad.Stderr);
    }
}
