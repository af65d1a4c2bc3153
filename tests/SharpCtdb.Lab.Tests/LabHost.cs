using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SharpCtdb.Lab.Tests;

/// <summary>What the lab tests share: root check, the built programs, the repository root, running a lab script.</summary>
internal static partial class LabHost
{
    public static bool IsRoot => geteuid() == 0;

    /// <summary>A program built next to the tests (ctdbd, ctdb, ctdb_ip_watchdog, ...).</summary>
    public static string Bin(string name)
    {
        var p = Path.Combine(AppContext.BaseDirectory, name);
        Assert.True(File.Exists(p), $"{name} not built at {p}");
        return p;
    }

    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "SharpCtdb.slnx")))
                return d.FullName;
        }
        throw new InvalidOperationException("repository root not found");
    }

    /// <summary>Runs <paramref name="file"/> to completion (killed after <paramref name="limit"/>); exit code and stdout+stderr.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args,
        IReadOnlyDictionary<string, string> env, TimeSpan limit, bool log = true)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in env)
            psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        try
        {
            await p.WaitForExitAsync().WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
        var text = await output + await error;
        if (log)
            TestContext.Current.SendDiagnosticMessage(text.Length > 2000 ? text[^2000..] : text);
        return (p.ExitCode, text);
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
