using System.Collections;
using SharpCtdb.Config.Logging;

namespace SharpCtdb.Events.Tests.Dist;

/// <summary>
/// A temp CTDB_BASE (/tmp/sc-dist-XXXX) with one of the repository's dist/ event scripts installed (symlinked, as
/// packages do) and a bin/ directory of stub commands that append their argv to one shared log, so the order of
/// external commands a script runs can be asserted. Scripts run through <see cref="EventRunner"/>.
/// </summary>
public sealed class DistHarness : IDisposable
{
    public DistHarness()
    {
        Root = Directory.CreateTempSubdirectory("sc-dist-").FullName;
        Base = Path.Combine(Root, "base");
        Bin = Path.Combine(Root, "bin");
        StubDir = Path.Combine(Root, "stub");
        Legacy = Path.Combine(Base, "events", "legacy");
        Directory.CreateDirectory(Legacy);
        Directory.CreateDirectory(Bin);
        Directory.CreateDirectory(StubDir);
        Directory.CreateDirectory(Path.Combine(Base, "events", "notification"));
        File.WriteAllText(CallLog, "");
    }

    public string Root { get; }
    public string Base { get; }
    public string Bin { get; }
    public string StubDir { get; }
    public string Legacy { get; }
    public string CallLog => Path.Combine(Root, "calls.log");
    public Dictionary<string, string> ExtraEnv { get; } = new(StringComparer.Ordinal);

    /// <summary>The repository's dist/ directory, found by walking up from the test binary.</summary>
    public static string DistDir
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "dist", "events", "legacy");
                if (Directory.Exists(candidate))
                    return Path.Combine(dir.FullName, "dist");
            }
            throw new DirectoryNotFoundException("dist/events/legacy not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Links dist/events/legacy/NAME.script into the temp legacy directory.</summary>
    public void Install(string scriptName) =>
        File.CreateSymbolicLink(Path.Combine(Legacy, scriptName + ".script"),
            Path.Combine(DistDir, "events", "legacy", scriptName + ".script"));

    /// <summary>
    /// Creates bin/NAME: logs "NAME ARGS" to the call log, then runs <paramref name="body"/> (sh; $STUB_DIR holds
    /// per-test data files). The file is written under a temp name and renamed so no writer fd is open at exec.
    /// </summary>
    public void Stub(string name, string body = "exit 0")
    {
        var path = Path.Combine(Bin, name);
        var temp = path + ".tmp";
        File.WriteAllText(temp, "#!/bin/sh\necho \"" + name + " $*\" >>\"$STUB_LOG\"\n" + body + "\n");
        File.SetUnixFileMode(temp, (UnixFileMode)0x1ED);
        File.Move(temp, path, overwrite: true);
    }

    public void WriteBaseFile(string relative, string content) => File.WriteAllText(Path.Combine(Base, relative), content);

    public void WriteStubData(string name, string content) => File.WriteAllText(Path.Combine(StubDir, name), content);

    public string[] Calls() => File.ReadAllLines(CallLog);

    public Dictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
            env[(string)e.Key] = (string)e.Value!;
        env["PATH"] = Bin + ":/usr/sbin:/usr/bin:/sbin:/bin";
        env["CTDB_BASE"] = Base;
        env["CTDB_SCRIPT_VARDIR"] = Path.Combine(Root, "vardir");
        env["STUB_LOG"] = CallLog;
        env["STUB_DIR"] = StubDir;
        // Keep the host's real interfaces out of the link checks.
        env["CTDB_SYSFS_NET"] = Path.Combine(Root, "no-sysfs");
        env["CTDB_PROCFS"] = Path.Combine(Root, "proc");
        foreach (var (k, v) in ExtraEnv)
            env[k] = v;
        return env;
    }

    /// <summary>Runs EVENT ARGS through the event runner; returns the single script's result.</summary>
    public async Task<ScriptRunResult> RunAsync(string eventName, params string[] args)
    {
        await using var runner = new EventRunner(new EventRunnerSettings
        {
            EventsDir = Path.Combine(Base, "events"),
            Environment = Environment(),
        }, CtdbLog.Null);
        var result = await runner.RunAsync("legacy", eventName, args, TimeSpan.FromSeconds(60),
            ct: TestContext.Current.CancellationToken);
        Assert.Single(result.Scripts);
        return result.Scripts[0];
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
