using System.ComponentModel;
using System.Diagnostics;
using System.Threading.Channels;
using SharpCtdb.Config.Logging;

namespace SharpCtdb.Events;

/// <summary>
/// Runs `$CTDB_BASE/notify.sh EVENT` for the daemon's notifications (behaviour.md §7.4): init, setup, startup,
/// healthy, unhealthy. <see cref="Notify"/> never blocks; notifications run one after another in call order on a
/// background loop, each in its own session with a time limit (4.17 forks and forgets; we bound and reap).
/// A missing or non-executable notify.sh is logged as an error and skipped; a non-zero exit is only logged.
/// The scripts in events/notification/ are run by the stock notify.sh itself (every executable *.script, glob
/// order, event as the only argument), so they are deliberately not run from here as well.
/// </summary>
public sealed class NotificationRunner : IAsyncDisposable
{
    public const string Init = "init";
    public const string Setup = "setup";
    public const string Startup = "startup";
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";

    private readonly string _notifyScript;
    private readonly IReadOnlyDictionary<string, string>? _environment;
    private readonly CtdbLog _log;
    private readonly TimeSpan _timeout;
    private readonly Channel<(string Event, TaskCompletionSource? Done)> _queue =
        Channel.CreateUnbounded<(string, TaskCompletionSource?)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="notifyScript">Usually <c>CtdbPaths.NotifyScript</c> ($CTDB_BASE/notify.sh).</param>
    /// <param name="environment">Complete environment for the script; null = this process's.</param>
    /// <param name="timeout">Per-notification limit before its process group is killed (default 60 s).</param>
    public NotificationRunner(string notifyScript, IReadOnlyDictionary<string, string>? environment, CtdbLog log, TimeSpan? timeout = null)
    {
        _notifyScript = notifyScript;
        _environment = environment;
        _log = log;
        _timeout = timeout ?? TimeSpan.FromSeconds(60);
        _loop = LoopAsync();
    }

    /// <summary>Queues a notification and returns at once.</summary>
    public void Notify(string eventName) => _queue.Writer.TryWrite((eventName, null));

    /// <summary>Completes when every notification queued before this call has finished.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(("", done)))
            done.TrySetResult();
        return done.Task;
    }

    private async Task LoopAsync()
    {
        try
        {
            await foreach (var (eventName, done) in _queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                if (done is not null)
                {
                    done.TrySetResult();
                    continue;
                }
                await RunOneAsync(eventName).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        // Release anyone still waiting on a flush.
        while (_queue.Reader.TryRead(out var item))
            item.Done?.TrySetResult();
    }

    private async Task RunOneAsync(string eventName)
    {
        var probe = FileProbe.Stat(_notifyScript);
        if (probe.Error != 0 || !probe.OwnerExecute)
        {
            _log.Error($"Notification script \"{_notifyScript}\" does not exist or is not executable");
            return;
        }
        var psi = new ProcessStartInfo("/usr/bin/setsid")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Through the shell as in 4.17 ("notify.sh EVENT"), with stdin closed and output merged.
        psi.ArgumentList.Add("/bin/sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null 2>&1");
        psi.ArgumentList.Add(_notifyScript);
        psi.ArgumentList.Add(eventName);
        if (_environment is not null)
        {
            psi.Environment.Clear();
            foreach (var (k, v) in _environment)
                psi.Environment[k] = v;
        }
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("process did not start");
        }
        catch (Win32Exception e)
        {
            _log.Error($"Failed to run notification script for {eventName}: {e.Message}");
            return;
        }
        using (process)
        {
            var output = new BoundedOutput(16 * 1024);
            using var readStop = new CancellationTokenSource();
            var pumps = Task.WhenAll(Pump(process.StandardOutput.BaseStream), Pump(process.StandardError.BaseStream));
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            limit.CancelAfter(_timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _log.Error($"Notification script for {eventName} did not finish in time, killing it");
                Native.KillGroup(process.Id, Native.SIGKILL);
                using var reap = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await process.WaitForExitAsync(reap.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
            readStop.CancelAfter(TimeSpan.FromMilliseconds(250));
            await Task.WhenAny(pumps, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
            if (process.HasExited && process.ExitCode != 0)
                _log.Error($"Notification script \"{_notifyScript} {eventName}\" failed with exit status {process.ExitCode}: {output.ToString().TrimEnd()}");

            async Task Pump(Stream s)
            {
                var buf = new byte[4096];
                try
                {
                    int n;
                    while ((n = await s.ReadAsync(buf, readStop.Token).ConfigureAwait(false)) > 0)
                        output.Append(buf.AsSpan(0, n));
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
                {
                }
            }
        }
    }

    /// <summary>Kills a notification still running and drops queued ones (use <see cref="FlushAsync"/> first to wait).</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
