using System.Diagnostics;

namespace SharpCtdb.TestSupport;

/// <summary>Output of a finished child process.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, bool TimedOut);

/// <summary>Runs child processes for tests and always reaps them: nothing a test starts outlives it.</summary>
public static class ChildProcess
{
    /// <summary>
    /// Runs <paramref name="file"/> to completion with stdout/stderr captured and <paramref name="stdin"/> (or an
    /// immediately closed stdin). <paramref name="env"/> entries with a null value are removed from the environment.
    /// After <paramref name="timeout"/> the process tree is killed and reaped and the result says TimedOut.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null,
        string? stdin = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            if (v is null)
                psi.Environment.Remove(k);
            else
                psi.Environment[k] = v;
        }
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null)
                await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        catch (IOException)
        {
            // the child exited without reading its input
        }
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        var timedOut = false;
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync(CancellationToken.None);
        }
        return new ProcessResult(p.ExitCode, await stdout, await stderr, sw.Elapsed, timedOut);
    }

    /// <summary>
    /// Kills <paramref name="p"/> (by pid, with the children it started, such as event scripts and lock helpers) if
    /// still running, waits up to 10 s for the exit and disposes it. Never throws.
    /// </summary>
    public static async Task KillAndReapAsync(Process p)
    {
        try
        {
            if (!p.HasExited)
                p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }
        p.Dispose();
    }

    /// <summary>Appends every line of <paramref name="r"/> to <paramref name="path"/> until the stream ends.</summary>
    public static async Task DrainToFileAsync(StreamReader r, string path)
    {
        try
        {
            await using var w = new StreamWriter(path, append: true) { AutoFlush = true };
            while (await r.ReadLineAsync() is { } line)
                await w.WriteLineAsync(line);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }
}
