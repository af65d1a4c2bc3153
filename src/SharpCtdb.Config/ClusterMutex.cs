using System.Diagnostics;
using System.Runtime.InteropServices;
using SharpCtdb.Config.Logging;

namespace SharpCtdb.Config;

/// <summary>
/// Runs a cluster mutex helper (behaviour.md §4.4) and reports its one-character verdict:
/// '0' taken (and held until <see cref="Release"/>), '1' contention, '2' timed out, '3' error (also EOF before any
/// character, a spec that cannot be run, or a helper that fails to start). While held, <see cref="Lost"/> completes
/// when the helper exits or closes its stdout. Any result other than '0' terminates the helper.
/// </summary>
public sealed partial class ClusterMutex : IDisposable
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    /// <summary>How long a helper may ignore SIGTERM before it is killed outright.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource<char> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cts = new();
    private readonly CtdbLog _log;
    private readonly Lock _lock = new();
    private Process? _process;
    private bool _released;

    private ClusterMutex(CtdbLog log, IReadOnlyList<string> argv)
    {
        _log = log;
        Argv = argv;
    }

    /// <summary>The command line that was (or would have been) run.</summary>
    public IReadOnlyList<string> Argv { get; }

    /// <summary>Why the helper could not be started (the result is then '3'), else null.</summary>
    public string? StartError { get; private set; }

    /// <summary>The helper's verdict: '0', '1', '2' or '3'.</summary>
    public Task<char> Result => _result.Task;

    /// <summary>
    /// Completes when a held lock is lost (the helper exited or closed stdout after reporting '0').
    /// Never completes after <see cref="Release"/> or when the lock was not taken.
    /// </summary>
    public Task Lost => _lost.Task;

    /// <summary>Process id of the helper, or 0 when none is running.</summary>
    public int HelperPid { get; private set; }

    /// <summary>Time from start to the verdict.</summary>
    public TimeSpan Latency { get; private set; }

    /// <summary>
    /// Starts the helper for <paramref name="lockSpec"/> ("!prog args..." runs prog directly; anything else runs
    /// <paramref name="defaultHelperPath"/> with the spec as its single argument). <paramref name="timeout"/> bounds the
    /// wait for the verdict ('2' when it expires).
    /// </summary>
    public static ClusterMutex Start(string lockSpec, string defaultHelperPath, CtdbLog log, TimeSpan timeout)
    {
        var argv = ParseSpec(lockSpec, defaultHelperPath, out var specError);
        var mutex = new ClusterMutex(log, argv);
        if (specError is not null)
        {
            mutex.Fail(specError);
            return mutex;
        }
        var executableError = CheckExecutable(argv[0]);
        if (executableError is not null)
        {
            mutex.Fail(executableError);
            return mutex;
        }
        mutex.Launch(timeout);
        return mutex;
    }

    /// <summary>Splits a lock spec into argv (§4.4). Empty "!" spec → error.</summary>
    public static IReadOnlyList<string> ParseSpec(string lockSpec, string defaultHelperPath, out string? error)
    {
        error = null;
        if (lockSpec.StartsWith('!'))
        {
            var argv = lockSpec[1..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (argv.Length == 0)
                error = "cluster lock helper command is empty";
            return argv;
        }
        return [defaultHelperPath, lockSpec];
    }

    private static string? CheckExecutable(string path)
    {
        if (!File.Exists(path))
            return $"cluster lock helper '{path}' does not exist";
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) == 0)
            return $"cluster lock helper '{path}' is not executable";
        return null;
    }

    private void Fail(string error)
    {
        StartError = error;
        _log.Error(error);
        _result.TrySetResult('3');
    }

    private void Launch(TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(Argv[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in Argv.Skip(1))
            psi.ArgumentList.Add(a);
        var stopwatch = Stopwatch.StartNew();
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Fail($"failed to start cluster lock helper '{Argv[0]}': {e.Message}");
            return;
        }
        lock (_lock)
        {
            _process = process;
            HelperPid = process.Id;
        }
        _ = ForwardStderrAsync(process);
        _ = RunAsync(process, timeout, stopwatch);
    }

    private async Task RunAsync(Process process, TimeSpan timeout, Stopwatch stopwatch)
    {
        var stdout = process.StandardOutput.BaseStream;
        var buffer = new byte[64];
        char verdict;
        using (var timer = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token))
        {
            timer.CancelAfter(timeout);
            try
            {
                var n = await stdout.ReadAsync(buffer, timer.Token).ConfigureAwait(false);
                verdict = n == 0 ? '3' : (char)buffer[0];
                if (verdict is not ('0' or '1' or '2' or '3'))
                {
                    _log.Error($"cluster lock helper sent unexpected status '{verdict}'");
                    verdict = '3';
                }
            }
            catch (OperationCanceledException)
            {
                // Released while waiting counts as an error outcome; an expired timer is a timeout.
                verdict = _cts.IsCancellationRequested ? '3' : '2';
            }
            catch (IOException)
            {
                verdict = '3';
            }
        }
        Latency = stopwatch.Elapsed;
        if (verdict != '0')
        {
            Terminate();
            _result.TrySetResult(verdict);
            return;
        }
        _result.TrySetResult('0');

        // Held: anything further is ignored; EOF means the helper is gone and so is the lock.
        try
        {
            while (await stdout.ReadAsync(buffer, _cts.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (IOException)
        {
        }
        bool released;
        lock (_lock)
            released = _released;
        if (!released)
        {
            // The owner logs "Cluster lock helper terminated" and reacts; this is only the detail.
            _log.Info($"cluster lock helper {HelperPid} exited or closed its stdout: lock lost");
            _lost.TrySetResult();
            Terminate();
        }
    }

    private async Task ForwardStderrAsync(Process process)
    {
        try
        {
            while (await process.StandardError.ReadLineAsync(_cts.Token).ConfigureAwait(false) is { } line)
                _log.Error($"cluster lock helper: {line}");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Gives the lock up: SIGTERM to the helper, which is then reaped. Idempotent.</summary>
    public void Release()
    {
        lock (_lock)
        {
            if (_released)
                return;
            _released = true;
        }
        _result.TrySetResult('3');
        Terminate();
        _cts.Cancel();
    }

    /// <summary>SIGTERM the helper (once), escalate to SIGKILL if it lingers, and dispose it after it exits.</summary>
    private void Terminate()
    {
        Process? process;
        lock (_lock)
        {
            process = _process;
            _process = null;
        }
        if (process is null)
            return;
        var pid = process.Id;
        if (!process.HasExited)
            _ = Kill(pid, SigTerm);
        _ = ReapAsync(process, pid);
    }

    private static async Task ReapAsync(Process process, int pid)
    {
        using (process)
        {
            using var grace = new CancellationTokenSource(KillGrace);
            try
            {
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException)
            {
            }
            _ = Kill(pid, SigKill);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        Release();
        _cts.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
