using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SharpCtdb.FakeDaemon;

public sealed record ConformanceStep(
    string[] Argv,
    string DebugLevel,
    bool DaemonRunning,
    int ExpectedRc,
    string[] ExpectedOutput,
    bool Filtered,
    IReadOnlyDictionary<string, string>? ConfigFiles,
    IReadOnlyDictionary<string, string>? Env);

public sealed record FilterHint(string Regex, string Replace);

/// <summary>One ../shared/conformance/tool/*.json case (format in that directory's README.md).</summary>
public sealed record ConformanceCase(
    string Name,
    string? StateText,
    IReadOnlyDictionary<string, string> ConfigFiles,
    IReadOnlyList<ConformanceStep> Steps,
    IReadOnlyList<FilterHint> FilterHints)
{
    public static ConformanceCase Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        static Dictionary<string, string> Map(JsonElement e)
        {
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            if (e.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in e.EnumerateObject())
                    d[p.Name] = p.Value.GetString() ?? "";
            }
            return d;
        }
        var hasState = root.TryGetProperty("state", out var st) && st.ValueKind != JsonValueKind.Null;
        var steps = new List<ConformanceStep>();
        foreach (var s in root.GetProperty("steps").EnumerateArray())
        {
            steps.Add(new ConformanceStep(
                [.. s.GetProperty("argv").EnumerateArray().Select(a => a.GetString() ?? "")],
                s.TryGetProperty("debuglevel", out var dl) ? dl.GetString() ?? "NOTICE" : "NOTICE",
                !s.TryGetProperty("daemon_running", out var dr) || dr.GetBoolean(),
                s.GetProperty("expected_rc").GetInt32(),
                [.. s.GetProperty("expected_output").EnumerateArray().Select(a => a.GetString() ?? "")],
                s.TryGetProperty("output_is_filtered", out var f) && f.ValueKind == JsonValueKind.True,
                s.TryGetProperty("config_files", out var cf) ? Map(cf) : null,
                s.TryGetProperty("env", out var env) ? Map(env) : null));
        }
        var hints = new List<FilterHint>();
        if (root.TryGetProperty("output_filter_hint", out var h) && h.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in h.EnumerateArray())
                hints.Add(new FilterHint(e.GetProperty("regex").GetString() ?? "", e.GetProperty("replace").GetString() ?? ""));
        }
        return new ConformanceCase(
            root.GetProperty("name").GetString() ?? Path.GetFileNameWithoutExtension(path),
            hasState ? root.GetProperty("state_text").GetString() : null,
            root.TryGetProperty("config_files", out var c) ? Map(c) : [],
            steps,
            hints);
    }
}

/// <summary>Runs the tool once: argv (already including "-d LEVEL"), environment; returns exit code and merged output.</summary>
public delegate Task<(int ExitCode, string Output)> ToolInvoker(string[] argv, IReadOnlyDictionary<string, string?> env, CancellationToken ct);

public sealed record StepResult(int Index, string[] Argv, bool Passed, string Detail);

public sealed record CaseResult(string Name, bool Passed, IReadOnlyList<StepResult> Steps)
{
    public string Describe()
    {
        var sb = new StringBuilder();
        foreach (var s in Steps.Where(s => !s.Passed))
            sb.Append("  step ").Append(s.Index).Append(": ctdb ").AppendJoin(' ', s.Argv).AppendLine().Append(s.Detail);
        return sb.ToString();
    }
}

/// <summary>Runs conformance cases: one fake daemon per case, steps in order against it, exact comparison of the exit
/// code and the merged output lines.</summary>
public static partial class ConformanceRunner
{
    /// <summary>Directory of the shared cases: walks up from <paramref name="start"/> to the directory holding
    /// SharpCtdb.slnx, then ../shared/conformance/tool. Throws when it is missing.</summary>
    public static string FindCaseDirectory(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SharpCtdb.slnx")))
            {
                var cases = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "conformance", "tool"));
                if (!Directory.Exists(cases))
                    throw new DirectoryNotFoundException($"conformance cases not found: {cases} (expected next to the repository)");
                return cases;
            }
        }
        throw new DirectoryNotFoundException($"no SharpCtdb.slnx above {start}: cannot locate ../shared/conformance/tool");
    }

    [GeneratedRegex(@"/tmp/ctdbconv\.[^/]+/base")]
    private static partial Regex ConverterBaseDir();

    /// <summary>Starts a fake daemon for a state: (state text, socket, CTDB_BASE, db dir) → something to dispose.</summary>
    public delegate Task<IAsyncDisposable> DaemonStarter(string stateText, string socket, string baseDir, string dbDir, CancellationToken ct);

    /// <summary>The fake daemon inside this process.</summary>
    public static readonly DaemonStarter InProcess = (state, socket, baseDir, dbDir, _) =>
        Task.FromResult<IAsyncDisposable>(FakeCtdbd.Start(FakeState.Parse(state), socket, baseDir, dbDir));

    public static async Task<CaseResult> RunAsync(ConformanceCase c, ToolInvoker tool, string? toolBinary, CancellationToken ct,
        DaemonStarter? startDaemon = null)
    {
        // Short paths: Unix socket paths must stay below ~100 characters.
        var root = Path.Combine("/tmp", "sc-kc-" + Guid.NewGuid().ToString("N")[..10]);
        var baseDir = Path.Combine(root, "base");
        var dbDir = Path.Combine(root, "db");
        var socket = Path.Combine(root, "ctdbd.sock");
        Directory.CreateDirectory(baseDir);
        IAsyncDisposable? daemon = null;
        var results = new List<StepResult>();
        try
        {
            WriteConfig(baseDir, c.ConfigFiles);
            if (c.StateText is not null)
                daemon = await (startDaemon ?? InProcess)(c.StateText, socket, baseDir, dbDir, ct).ConfigureAwait(false);
            for (var i = 0; i < c.Steps.Count; i++)
            {
                var step = c.Steps[i];
                if (step.ConfigFiles is not null)
                    WriteConfig(baseDir, step.ConfigFiles);
                var env = new Dictionary<string, string?>(StringComparer.Ordinal)
                {
                    ["CTDB_BASE"] = baseDir,
                    ["CTDB_SOCKET"] = socket,
                    ["PATH"] = Environment.GetEnvironmentVariable("PATH"),
                };
                if (toolBinary is not null)
                    env["CTDB"] = toolBinary;
                if (step.Env is not null)
                {
                    foreach (var (k, v) in step.Env)
                        env[k] = Path.Combine(baseDir, v);
                }
                string[] argv = ["-d", step.DebugLevel, .. step.Argv];
                var (rc, output) = await tool(argv, env, ct).ConfigureAwait(false);
                var actual = SplitLines(output).Select(l => Normalize(l, dbDir, step.Filtered ? c.FilterHints : [])).ToArray();
                var expected = step.ExpectedOutput
                    .Select(l => ConverterBaseDir().Replace(l.Replace("{CTDBD_SOCKET}", socket, StringComparison.Ordinal), baseDir))
                    .ToArray();
                var ok = rc == step.ExpectedRc && actual.SequenceEqual(expected);
                var detail = ok ? "" : Diff(step.ExpectedRc, expected, rc, actual);
                results.Add(new StepResult(i, step.Argv, ok, detail));
            }
        }
        finally
        {
            if (daemon is not null)
                await daemon.DisposeAsync().ConfigureAwait(false);
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        return new CaseResult(c.Name, results.All(r => r.Passed), results);
    }

    private static void WriteConfig(string baseDir, IReadOnlyDictionary<string, string> files)
    {
        foreach (var (name, content) in files)
            File.WriteAllText(Path.Combine(baseDir, name), content);
        // The natgw/lvs helpers source $CTDB_BASE/functions, as upstream's test tree provides it.
        var functions = Path.Combine(baseDir, "functions");
        if (!File.Exists(functions) && File.Exists("/etc/ctdb/functions"))
            File.Copy("/etc/ctdb/functions", functions);
    }

    private static string Normalize(string line, string dbDir, IReadOnlyList<FilterHint> hints)
    {
        // The fake daemon keeps its tdb files in a temp dir; upstream's expected output shows them at "/".
        line = line.Replace(dbDir, "", StringComparison.Ordinal);
        foreach (var h in hints)
            line = Regex.Replace(line, h.Regex, h.Replace.Replace(@"\g<0>", "$0", StringComparison.Ordinal));
        return line;
    }

    private static string[] SplitLines(string output)
    {
        var text = output.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (text.EndsWith('\n'))
            text = text[..^1];
        return text.Length == 0 ? [] : text.Split('\n');
    }

    private static string Diff(int expectedRc, string[] expected, int rc, string[] actual)
    {
        var sb = new StringBuilder();
        sb.Append("    rc expected ").Append(expectedRc).Append(", got ").Append(rc).AppendLine();
        sb.AppendLine("    expected:");
        foreach (var l in expected)
            sb.Append("      |").AppendLine(l);
        sb.AppendLine("    actual:");
        foreach (var l in actual)
            sb.Append("      |").AppendLine(l);
        return sb.ToString();
    }

    /// <summary>Runs an external tool binary with stdout and stderr on one pipe (so their order is kept).</summary>
    public static ToolInvoker ExternalTool(string binary, TimeSpan limit) => async (argv, env, ct) =>
    {
        // setsid: the real tool's -T alarm kills its whole process group, which must not include us.
        var psi = new ProcessStartInfo("/usr/bin/setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-w");
        psi.ArgumentList.Add("/bin/sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" 2>&1");
        psi.ArgumentList.Add(binary);
        foreach (var a in argv)
            psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in env)
        {
            if (v is not null)
                psi.Environment[k] = v;
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {binary}");
        p.StandardInput.Close();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(limit);
        var output = p.StandardOutput.ReadToEndAsync(cts.Token);
        try
        {
            await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            return (-1, "TIMEOUT: tool did not finish\n");
        }
        return (p.ExitCode, await output.ConfigureAwait(false));
    };
}

/// <summary><c>fake_ctdbd run-cases --tool PATH CASE.json...</c>: PASS/FAIL per case and "N passed, N failed".</summary>
public static class ConformanceCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? tool = null;
        var verbose = false;
        var files = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--tool" && i + 1 < args.Length)
                tool = args[++i];
            else if (args[i] == "-v")
                verbose = true;
            else
                files.Add(args[i]);
        }
        if (tool is null || files.Count == 0)
        {
            await Console.Error.WriteLineAsync("usage: fake_ctdbd run-cases [-v] --tool PATH CASE.json...").ConfigureAwait(false);
            return 2;
        }
        int passed = 0, failed = 0;
        var invoker = ConformanceRunner.ExternalTool(tool, TimeSpan.FromSeconds(60));
        foreach (var f in files)
        {
            CaseResult result;
            try
            {
                result = await ConformanceRunner.RunAsync(ConformanceCase.Load(f), invoker, tool, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or JsonException or FormatException or KeyNotFoundException)
            {
                Console.WriteLine($"FAIL {Path.GetFileNameWithoutExtension(f)}: {ex.Message}");
                failed++;
                continue;
            }
            Console.WriteLine($"{(result.Passed ? "PASS" : "FAIL")} {result.Name}");
            if (!result.Passed && verbose)
                Console.Write(result.Describe());
            if (result.Passed)
                passed++;
            else
                failed++;
        }
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
