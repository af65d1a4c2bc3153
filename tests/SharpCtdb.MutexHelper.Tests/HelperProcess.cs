using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SharpCtdb.MutexHelper.Tests;

/// <summary>A lock helper run by a test: reads its status character, signals it, and always kills it on dispose.</summary>
public sealed partial class HelperProcess : IDisposable
{
    public const string SambaHelper = "/usr/libexec/ctdb/ctdb_mutex_fcntl_helper";
    public const int SigTerm = 15;
    public const int SigKill = 9;

    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly Process _process;

    private HelperProcess(Process process)
    {
        _process = process;
    }

    /// <summary>Our helper as built next to the test assembly (apphost).</summary>
    public static string OurHelper => Path.Combine(AppContext.BaseDirectory, "ctdb_mutex_fcntl_helper");

    public int Pid => _process.Id;

    public Process Process => _process;

    public static HelperProcess Start(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        return new HelperProcess(p);
    }

    /// <summary>The first character written to stdout, or null on EOF. Fails the test on timeout.</summary>
    public async Task<char?> ReadStatusAsync()
    {
        var buffer = new byte[1];
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Deadline);
        var n = await _process.StandardOutput.BaseStream.ReadAsync(buffer, cts.Token);
        return n == 0 ? null : (char)buffer[0];
    }

    public void Signal(int signal) => _ = Kill(_process.Id, signal);

    public async Task<bool> WaitExitAsync(TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout ?? Deadline);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public string ReadStderr() => _process.StandardError.ReadToEnd();

    public void CloseStdout() => _process.StandardOutput.Dispose();

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}

/// <summary>A short scratch directory under /tmp, removed on dispose.</summary>
public sealed class ScratchDir : IDisposable
{
    public ScratchDir()
    {
        Path = System.IO.Path.Combine("/tmp", "sc-mtx-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

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
