using System.Collections;
using System.Diagnostics;
using System.Text;
using SharpCtdb.Config;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Events.Tests;

/// <summary>A short-named temp directory (/tmp/sc-ev-XXXXXXXX) laid out like a test-mode CTDB_BASE.</summary>
public sealed class TempBase : IDisposable
{
    public TempBase()
    {
        Path = Directory.CreateTempSubdirectory("sc-ev-").FullName;
        Directory.CreateDirectory(Legacy);
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "share", "events", "legacy"));
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "run"));
    }

    public string Path { get; }
    public string EventsDir => System.IO.Path.Combine(Path, "events");
    public string Legacy => System.IO.Path.Combine(EventsDir, "legacy");
    public string DataLegacy => System.IO.Path.Combine(Path, "share", "events", "legacy");
    public string Socket => System.IO.Path.Combine(Path, "run", "eventd.socket");

    public CtdbPaths Paths => CtdbPaths.FromEnvironment(new Dictionary<string, string?>
    {
        ["CTDB_TEST_MODE"] = "yes",
        ["CTDB_BASE"] = Path,
    });

    /// <summary>Writes events/legacy/NAME.script (a /bin/sh script) with the given body.</summary>
    public string Script(string name, string body, bool executable = true, string? dir = null)
    {
        var path = System.IO.Path.Combine(dir ?? Legacy, name + ".script");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, executable ? (UnixFileMode)0x1ED : (UnixFileMode)0x1A4); // 0755 / 0644
        return path;
    }

    public string File_(string relative, string content = "")
    {
        var path = System.IO.Path.Combine(Path, relative);
        File.WriteAllText(path, content);
        return path;
    }

    public Dictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
            env[(string)e.Key] = (string)e.Value!;
        env["CTDB_BASE"] = Path;
        env["CTDB_TEST_MODE"] = "yes";
        return env;
    }

    public EventRunner Runner(CtdbLog? log = null, Func<EventRunnerSettings, EventRunnerSettings>? tweak = null)
    {
        var settings = new EventRunnerSettings
        {
            EventsDir = EventsDir,
            DataEventsDir = System.IO.Path.Combine(Path, "share", "events"),
            Environment = Environment(),
        };
        return new EventRunner(tweak is null ? settings : tweak(settings), log ?? CtdbLog.Null);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Collects log lines in memory.</summary>
public sealed class MemorySink : ILogSink
{
    private readonly List<(DebugLevel Level, string Line)> _entries = [];

    public void Write(DebugLevel level, string line)
    {
        lock (_entries)
            _entries.Add((level, line));
    }

    public string[] Lines
    {
        get
        {
            lock (_entries)
                return [.. _entries.Select(e => e.Line)];
        }
    }

    public (DebugLevel Level, string Line)[] Entries
    {
        get
        {
            lock (_entries)
                return [.. _entries];
        }
    }
}

public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until true or <paramref name="seconds"/> pass.</summary>
    public static async Task<bool> UntilAsync(Func<bool> condition, double seconds = 30)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            if (condition())
                return true;
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        return condition();
    }

    public static bool ProcessAlive(int pid)
    {
        // /proc/PID exists and is not a zombie.
        var stat = $"/proc/{pid}/stat";
        try
        {
            var text = File.ReadAllText(stat);
            var close = text.LastIndexOf(')');
            return close > 0 && text.Length > close + 2 && text[close + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}

/// <summary>Runs an external program, capturing stdout/stderr/exit code.</summary>
public static class Exec
{
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> args,
        IDictionary<string, string>? env = null, double timeoutSeconds = 60)
    {
        var psi = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        if (env is not null)
        {
            psi.Environment.Clear();
            foreach (var (k, v) in env)
                psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(true);
            throw;
        }
        return (p.ExitCode, await o, await e);
    }
}
