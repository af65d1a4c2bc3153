namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>
/// Enables Debian's stock event scripts on every node of a <see cref="TestCluster"/> the way the package does:
/// symlinks events/legacy/NN.name.script → /usr/share/ctdb/events/legacy/, Debian's functions and script.options
/// beside them in CTDB_BASE, and a per-node CTDB_SCRIPT_VARDIR (00.ctdb wipes it at init, so nodes must not share
/// the default /var/lib/ctdb/scripts).
/// </summary>
public static class StockScripts
{
    public const string PackagedDir = "/usr/share/ctdb/events/legacy";
    public const string Functions = "/etc/ctdb/functions";
    public const string ScriptOptions = "/etc/ctdb/script.options";
    public static readonly string[] Default = ["00.ctdb", "01.reclock", "05.system"];

    /// <summary>True when the ctdb package's scripts are installed (the tests need them).</summary>
    public static void AssertInstalled()
    {
        foreach (var s in Default)
            Assert.True(File.Exists(Path.Combine(PackagedDir, s + ".script")), $"Debian's {s}.script is not installed (apt-get install ctdb)");
        Assert.True(File.Exists(Functions), "Debian's /etc/ctdb/functions is not installed");
    }

    public static string ScriptVarDir(TestCluster c, int pnn) => Path.Combine(c.NodeBase(pnn), "scripts");

    public static void Install(TestCluster c, IEnumerable<string>? scripts = null)
    {
        AssertInstalled();
        var list = (scripts ?? Default).ToList();
        for (var pnn = 0; pnn < c.NodeCount; pnn++)
        {
            var b = c.NodeBase(pnn);
            var legacy = Path.Combine(b, "events", "legacy");
            Directory.CreateDirectory(legacy);
            File.Copy(Functions, Path.Combine(b, "functions"), overwrite: true);
            if (File.Exists(ScriptOptions))
                File.Copy(ScriptOptions, Path.Combine(b, "script.options"), overwrite: true);
            foreach (var s in list)
                File.CreateSymbolicLink(Path.Combine(legacy, s + ".script"), Path.Combine(PackagedDir, s + ".script"));
        }
        c.NodeEnvironment = pnn => new Dictionary<string, string> { ["CTDB_SCRIPT_VARDIR"] = ScriptVarDir(c, pnn) };
    }

    /// <summary>`name status` pairs of `ctdb event status legacy EVENT` (real tool), or null if the command failed.</summary>
    public static async Task<Dictionary<string, string>?> EventStatusAsync(TestCluster c, int pnn, string eventName)
    {
        var r = await c.CtdbAsync(pnn, "event", "status", "legacy", eventName);
        if (r.ExitCode != 0)
            return null;
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in r.Stdout.Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 2 && line.Length > 0 && char.IsAsciiDigit(line[0]))
                d[f[0]] = f[1];
        }
        return d;
    }

    /// <summary>
    /// Lines the daemon logged for script output ("NN.name: text"): from stderr (TestCluster runs it with -i) and the
    /// configured log file.
    /// </summary>
    public static List<string> ScriptOutputLines(TestCluster c, int pnn)
    {
        var lines = new List<string>();
        foreach (var name in new[] { "stderr.log", "log.ctdb" })
        {
            var log = Path.Combine(c.NodeBase(pnn), name);
            if (File.Exists(log))
                Collect(log, lines);
        }
        return lines;
    }

    private static void Collect(string log, List<string> lines)
    {
        using var fs = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(fs);
        while (r.ReadLine() is { } line)
        {
            // "TIMESTAMP HOST ctdbd[PID]: NN.script: output" (4.17's log line; script output is logged at ERROR).
            var i = line.IndexOf("]: ", StringComparison.Ordinal);
            if (i < 0)
                continue;
            var rest = line[(i + 3)..];
            if (rest.Length > 3 && char.IsAsciiDigit(rest[0]) && char.IsAsciiDigit(rest[1]) && rest[2] == '.' && rest.Contains(": ", StringComparison.Ordinal))
                lines.Add(rest);
        }
    }
}
