using System.Buffers;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using SharpCtdb.Config.Logging;

namespace SharpCtdb.Events;

/// <summary>
/// Runs event scripts the way 4.17's ctdb-eventd does (behaviour.md §9), with these deliberate differences:
/// <list type="bullet">
/// <item>Each script runs in its own session (via /usr/bin/setsid, which execs in place, so pid = pgid = sid) with
/// stdin from /dev/null; stdout and stderr share one pipe.</item>
/// <item>On timeout the script's whole process group is always SIGKILLed: at once, or after the debug hook (run
/// with a time limit) when one is configured. 4.17 leaves it running without a hook.</item>
/// <item>Output is bounded (<see cref="EventRunnerSettings.OutputLimit"/>, head + tail kept).</item>
/// <item>A script that leaves a daemon holding the output pipe counts as finished when the script process exits;
/// the output is drained for <see cref="EventRunnerSettings.OutputDrainTime"/> and then no longer read. The daemon
/// is left running (as in 4.17: scripts legitimately start services).</item>
/// <item>Exit statuses 129..159 are reported as "killed by a signal" (-EINTR): .NET reports a signal death as
/// 128+signal and cannot tell it apart from such an exit status.</item>
/// </list>
/// Concurrency per component (4.17 rules, §9.7): events run one at a time in arrival order; any new event cancels a
/// running or waiting monitor (ECANCELED, not recorded); a new monitor is refused with ECANCELED while another event
/// runs or waits. Different components run independently. The timeout is one deadline for the whole event,
/// counted from arrival (time spent waiting counts); a zero timeout times out at once, as in 4.17.
/// </summary>
public sealed class EventRunner : IAsyncDisposable
{
    private const string MonitorEvent = "monitor";
    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(int.MaxValue - 1);

    // sh execs the script in place (same pid, so still the session leader) after merging stderr into stdout.
    private const string WrapperScript = "exec \"$0\" \"$@\" </dev/null 2>&1";

    private readonly EventRunnerSettings _settings;
    private readonly CtdbLog _log;
    private readonly ScriptDirectory _scripts;
    private readonly ConcurrentDictionary<string, ComponentQueue> _queues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Component, string Event), EventRunResult> _lastRuns = new();
    private readonly ConcurrentDictionary<(string Component, string Script), ScriptRunResult> _lastScriptRuns = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _backgroundLock = new();
    private readonly HashSet<Task> _background = [];
    private int _debugHookActive;

    public EventRunner(EventRunnerSettings settings, CtdbLog log)
    {
        _settings = settings;
        _log = log;
        _scripts = new ScriptDirectory(settings.EventsDir, settings.DataEventsDir);
    }

    public EventRunnerSettings Settings => _settings;

    public ScriptDirectory Scripts => _scripts;

    /// <summary>
    /// Runs <paramref name="eventName"/> for <paramref name="component"/>: every script in order as
    /// <c>script EVENT ARGS...</c>, stopping at the first failure unless <see cref="EventRunOptions.RunAll"/>.
    /// Cancelling <paramref name="ct"/> kills the running script's group and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<EventRunResult> RunAsync(string component, string eventName, IReadOnlyList<string> args, TimeSpan timeout,
        EventRunOptions? options = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(component);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        options ??= new EventRunOptions();

        // The deadline starts now, before any wait in the queue (4.17 arms it when the request arrives).
        using var deadline = new CancellationTokenSource();
        if (timeout <= TimeSpan.Zero)
            deadline.Cancel();
        else if (timeout < MaxTimer)
            deadline.CancelAfter(timeout);
        // else: beyond what a timer can hold (u32 seconds from the wire): no deadline.

        var queue = _queues.GetOrAdd(component, _ => new ComponentQueue());
        var ticket = queue.Enter(eventName == MonitorEvent);
        if (ticket is null)
            return new EventRunResult(component, eventName, EventRunStatus.Cancelled, -Errno.ECANCELED, []);
        try
        {
            using (var waitCts = CancellationTokenSource.CreateLinkedTokenSource(ct, _disposing.Token, ticket.Cancel.Token))
            {
                try
                {
                    await ticket.Turn.WaitAsync(waitCts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ticket.Cancel.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    // A waiting monitor pre-empted by a newer event.
                }
            }
            if (ticket.Cancel.IsCancellationRequested)
                return new EventRunResult(component, eventName, EventRunStatus.Cancelled, -Errno.ECANCELED, []);

            var hung = new List<HungScript>();
            var result = await RunScriptsAsync(component, eventName, args, options, deadline, ticket.Cancel.Token, ct, hung)
                .ConfigureAwait(false);
            if (result.Status is not EventRunStatus.Cancelled and not EventRunStatus.NoSuchComponent)
            {
                _lastRuns[(component, eventName)] = result;
                foreach (var s in result.Scripts)
                    _lastScriptRuns[(component, s.Name)] = s;
            }
            // Only now (status recorded, so the hook's `ctdb scriptstatus` sees it) deal with hung scripts.
            foreach (var h in hung)
                HandleHungScript(h, eventName);
            return result;
        }
        finally
        {
            queue.Leave(ticket);
        }
    }

    /// <summary>
    /// ctdbd's view (component "legacy", as 4.17's daemon uses it): the event daemon's reply code — 0, ENOEXEC (a
    /// script failed), ETIMEDOUT, ECANCELED (monitor pre-empted/refused), ENOENT (no events/legacy directory).
    /// </summary>
    public async Task<int> RunLegacyAsync(string eventName, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct = default)
    {
        var result = await RunAsync("legacy", eventName, args, timeout, null, ct).ConfigureAwait(false);
        return result.ErrorCode;
    }

    /// <summary>The last completed run of an event, or null if it never completed.</summary>
    public EventRunResult? LastRun(string component, string eventName) =>
        _lastRuns.TryGetValue((component, eventName), out var r) ? r : null;

    /// <summary>The last recorded run of one script (any event), or null.</summary>
    public ScriptRunResult? LastScriptRun(string component, string scriptName) =>
        _lastScriptRuns.TryGetValue((component, scriptName), out var r) ? r : null;

    /// <summary>What the STATUS request answers: 0 with the last run, ENOENT (no such component), EINVAL (never run).</summary>
    public int GetStatus(string component, string eventName, out EventRunResult? result)
    {
        result = null;
        if (!_scripts.ComponentExists(component))
            return Errno.ENOENT;
        result = LastRun(component, eventName);
        return result is null ? Errno.EINVAL : 0;
    }

    private async Task<EventRunResult> RunScriptsAsync(string component, string eventName, IReadOnlyList<string> args,
        EventRunOptions options, CancellationTokenSource deadline, CancellationToken cancel, CancellationToken callerCt,
        List<HungScript> hung)
    {
        var scripts = _scripts.List(component);
        if (scripts is null)
            return new EventRunResult(component, eventName, EventRunStatus.NoSuchComponent, -Errno.ENOENT, []);

        var results = new List<ScriptRunResult>();
        var summary = 0;
        foreach (var script in scripts)
        {
            var run = await RunOneAsync(script, eventName, args, deadline, cancel, callerCt).ConfigureAwait(false);
            if (run.Cancelled)
            {
                callerCt.ThrowIfCancellationRequested();
                return new EventRunResult(component, eventName, EventRunStatus.Cancelled, -Errno.ECANCELED, []);
            }
            results.Add(run.Result);
            if (run.Hung is not null)
                hung.Add(run.Hung);
            if (run.Result.Result == -Errno.ETIMEDOUT)
            {
                _log.Error($"{eventName} event timed out");
                return new EventRunResult(component, eventName, EventRunStatus.TimedOut, -Errno.ETIMEDOUT, results);
            }
            if (run.Result.IsFailure)
            {
                summary = run.Result.Result;
                if (!options.RunAll)
                    break;
            }
        }
        if (summary != 0)
            _log.Error($"{eventName} event failed");
        return new EventRunResult(component, eventName, summary == 0 ? EventRunStatus.Ok : EventRunStatus.Failed, summary, results);
    }

    private sealed record ScriptRun(ScriptRunResult Result, bool Cancelled, HungScript? Hung);

    private async Task<ScriptRun> RunOneAsync(EventScriptEntry script, string eventName, IReadOnlyList<string> args,
        CancellationTokenSource deadline, CancellationToken cancel, CancellationToken callerCt)
    {
        var begin = DateTimeOffset.Now;
        ScriptRun Immediate(int result) => new(new ScriptRunResult(script.Name, begin, DateTimeOffset.Now, result, null), false, null);

        // Decide what exec would do before spawning: the wrapper cannot report exec errors faithfully.
        var probe = FileProbe.Stat(script.Path);
        if (probe.Error != 0)
            return Immediate(-probe.Error);
        if (!probe.OwnerExecute || !probe.IsRegular)
            return Immediate(-Errno.ENOEXEC);
        var exec = FileProbe.ExecCheck(script.Path);
        if (exec != 0)
            return Immediate(-exec);
        if (cancel.IsCancellationRequested || callerCt.IsCancellationRequested)
            return new ScriptRun(Immediate(0).Result, true, null);
        if (deadline.IsCancellationRequested)
            return Immediate(-Errno.ETIMEDOUT);

        var psi = new ProcessStartInfo(_settings.SetsidPath)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
        };
        psi.ArgumentList.Add(_settings.ShellPath);
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(WrapperScript);
        psi.ArgumentList.Add(script.Path);
        psi.ArgumentList.Add(eventName);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        ApplyEnvironment(psi);

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("process did not start");
        }
        catch (Win32Exception e)
        {
            _log.Error($"Failed to start script {script.Name}: {e.Message}");
            return Immediate(-(e.NativeErrorCode > 0 ? e.NativeErrorCode : Errno.EIO));
        }

        var pid = process.Id;
        var output = new BoundedOutput(_settings.OutputLimit);
        var readStop = new CancellationTokenSource();
        var pumps = Task.WhenAll(
            PumpAsync(process.StandardOutput.BaseStream, output, readStop.Token),
            PumpAsync(process.StandardError.BaseStream, output, readStop.Token));

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancel, callerCt, _disposing.Token);
        var exited = false;
        try
        {
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            exited = true;
        }
        catch (OperationCanceledException)
        {
        }

        if (exited)
        {
            await DrainAsync(pumps, readStop).ConfigureAwait(false);
            var code = process.ExitCode;
            process.Dispose();
            readStop.Dispose();
            var text = output.ToString();
            var result = MapExitStatus(code, text, script.Path);
            LogOutput(script.Name, text);
            return new ScriptRun(new ScriptRunResult(script.Name, begin, DateTimeOffset.Now, result, text, output.Truncated), false, null);
        }

        var isTimeout = !cancel.IsCancellationRequested && !callerCt.IsCancellationRequested && !_disposing.IsCancellationRequested;
        if (isTimeout)
        {
            var snapshot = output.ToString();
            LogOutput(script.Name, snapshot);
            var record = new ScriptRunResult(script.Name, begin, DateTimeOffset.Now, -Errno.ETIMEDOUT, snapshot, output.Truncated);
            // The hung script is killed (after the debug hook, if any) once the result has been recorded.
            return new ScriptRun(record, false, new HungScript(script.Name, process, pid, pumps, readStop));
        }

        // Cancelled (monitor pre-empted, caller gave up, or disposal): kill the whole group now.
        Native.KillGroup(pid, Native.SIGKILL);
        await ReapAsync(process).ConfigureAwait(false);
        readStop.Cancel();
        await DrainAsync(pumps, readStop).ConfigureAwait(false);
        process.Dispose();
        readStop.Dispose();
        return new ScriptRun(new ScriptRunResult(script.Name, begin, DateTimeOffset.Now, -Errno.ECANCELED, output.ToString()), true, null);
    }

    /// <summary>4.17's mapping of a wait status to a script result (behaviour.md §9.4).</summary>
    internal static int MapExitStatus(int exitCode, string output, string scriptPath)
    {
        // The wrapper shell reports a failed exec as 127/126 with "exec: PATH: ..." (only in a race with deletion).
        if (exitCode is 126 or 127 && output.Contains($"exec: {scriptPath}: ", StringComparison.Ordinal))
            return exitCode == 127 ? -Errno.ENOENT : -Errno.ENOEXEC;
        if (exitCode is >= 129 and <= 159)
            return -Errno.EINTR;
        if (exitCode is >= 64 and <= 254)
        {
            var e = exitCode - 64;
            if (e == 0)
                return 0;
            return e == Errno.EACCES ? -Errno.ENOEXEC : -e;
        }
        return exitCode;
    }

    private void ApplyEnvironment(ProcessStartInfo psi)
    {
        if (_settings.Environment is null)
            return;
        psi.Environment.Clear();
        foreach (var (k, v) in _settings.Environment)
            psi.Environment[k] = v;
    }

    private void LogOutput(string name, string text)
    {
        if (!_settings.LogScriptOutput || text.Length == 0)
            return;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length > 0)
                _log.Error($"{name}: {line}");
        }
    }

    private static async Task PumpAsync(Stream stream, BoundedOutput output, CancellationToken ct)
    {
        var buf = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                var n = await stream.ReadAsync(buf.AsMemory(), ct).ConfigureAwait(false);
                if (n == 0)
                    return;
                output.Append(buf.AsSpan(0, n));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
    }

    /// <summary>Reads what is left for a short while: children that inherited the pipe may keep it open forever.</summary>
    private async Task DrainAsync(Task pumps, CancellationTokenSource readStop)
    {
        readStop.CancelAfter(_settings.OutputDrainTime);
        // Belt and braces: if a read ignores cancellation, stop waiting anyway (disposing the process closes the pipe).
        await Task.WhenAny(pumps, Task.Delay(_settings.OutputDrainTime + TimeSpan.FromSeconds(2))).ConfigureAwait(false);
    }

    private static async Task ReapAsync(Process process)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record HungScript(string Name, Process Process, int Pid, Task Pumps, CancellationTokenSource ReadStop);

    private void HandleHungScript(HungScript hung, string eventName)
    {
        var runHook = _settings.DebugScript is not null && Interlocked.CompareExchange(ref _debugHookActive, 1, 0) == 0;
        Track(HungScriptAsync(hung, eventName, runHook));
    }

    private async Task HungScriptAsync(HungScript hung, string eventName, bool runHook)
    {
        try
        {
            if (runHook)
            {
                try
                {
                    await RunDebugHookAsync(hung.Pid, eventName).ConfigureAwait(false);
                }
                finally
                {
                    Volatile.Write(ref _debugHookActive, 0);
                }
            }
            Native.KillGroup(hung.Pid, Native.SIGKILL);
            await ReapAsync(hung.Process).ConfigureAwait(false);
            hung.ReadStop.Cancel();
            await Task.WhenAny(hung.Pumps, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }
        finally
        {
            hung.Process.Dispose();
            hung.ReadStop.Dispose();
        }
    }

    /// <summary>Runs `debug-script PID EVENT` in its own session, logging its output as "event_debug: ...".</summary>
    private async Task RunDebugHookAsync(int pid, string eventName)
    {
        var hook = _settings.DebugScript!;
        var psi = new ProcessStartInfo(_settings.SetsidPath)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(_settings.ShellPath);
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(WrapperScript);
        psi.ArgumentList.Add(hook);
        psi.ArgumentList.Add(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        psi.ArgumentList.Add(eventName);
        ApplyEnvironment(psi);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("process did not start");
        }
        catch (Win32Exception e)
        {
            _log.Error($"Failed to run debug script {hook}: {e.Message}");
            return;
        }
        using (process)
        {
            var output = new BoundedOutput(_settings.OutputLimit);
            using var readStop = new CancellationTokenSource();
            var pumps = Task.WhenAll(
                PumpAsync(process.StandardOutput.BaseStream, output, readStop.Token),
                PumpAsync(process.StandardError.BaseStream, output, readStop.Token));
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(_disposing.Token);
            limit.CancelAfter(_settings.DebugScriptTimeout);
            try
            {
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _log.Error($"Debug script {hook} did not finish in {_settings.DebugScriptTimeout.TotalSeconds:0} s, killing it");
                Native.KillGroup(process.Id, Native.SIGKILL);
                await ReapAsync(process).ConfigureAwait(false);
            }
            await DrainAsync(pumps, readStop).ConfigureAwait(false);
            foreach (var line in output.ToString().Split('\n'))
            {
                if (line.Length > 0)
                    _log.Error($"event_debug: {line}");
            }
        }
    }

    private void Track(Task task)
    {
        lock (_backgroundLock)
            _background.Add(task);
        task.ContinueWith(t =>
        {
            lock (_backgroundLock)
                _background.Remove(t);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Cancels running events (their script groups are killed) and waits for hung-script cleanup.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposing.IsCancellationRequested)
            return;
        _disposing.Cancel();
        Task[] pending;
        lock (_backgroundLock)
            pending = [.. _background];
        await Task.WhenAll(pending).ConfigureAwait(false);
        foreach (var q in _queues.Values)
            await q.IdleAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Per-component FIFO with 4.17's monitor rules. A ticket's <see cref="Ticket.Turn"/> completes when it may run.
    /// </summary>
    private sealed class ComponentQueue
    {
        private readonly Lock _lock = new();
        private readonly LinkedList<Ticket> _waiting = new();
        private Ticket? _current;
        private TaskCompletionSource _idle = CompletedIdle();

        private static TaskCompletionSource CompletedIdle()
        {
            var t = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            t.SetResult();
            return t;
        }

        /// <summary>Null = refused (a monitor while another event runs or waits).</summary>
        public Ticket? Enter(bool isMonitor)
        {
            var preempted = new List<Ticket>();
            Ticket ticket;
            lock (_lock)
            {
                if (isMonitor && (_current is { IsMonitor: false } || _waiting.Any(t => !t.IsMonitor)))
                    return null;
                // Any new event pre-empts monitors, running or waiting.
                if (_current is { IsMonitor: true })
                    preempted.Add(_current);
                preempted.AddRange(_waiting.Where(w => w.IsMonitor));
                ticket = new Ticket(isMonitor);
                if (_current is null)
                {
                    _current = ticket;
                    _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    ticket.Start();
                }
                else
                {
                    _waiting.AddLast(ticket);
                }
            }
            // Cancelled outside the lock: cancellation callbacks may run continuations inline.
            foreach (var p in preempted)
                p.Preempt();
            return ticket;
        }

        public void Leave(Ticket ticket)
        {
            lock (_lock)
            {
                if (_current == ticket)
                {
                    _current = _waiting.First?.Value;
                    if (_current is not null)
                    {
                        _waiting.RemoveFirst();
                        _current.Start();
                    }
                    else
                    {
                        _idle.TrySetResult();
                    }
                }
                else
                {
                    _waiting.Remove(ticket);
                }
            }
            ticket.Retire();
        }

        public Task IdleAsync()
        {
            lock (_lock)
                return _idle.Task;
        }
    }

    private sealed class Ticket(bool isMonitor)
    {
        private readonly TaskCompletionSource _turn = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _lock = new();
        private bool _retired;

        public bool IsMonitor { get; } = isMonitor;
        public CancellationTokenSource Cancel { get; } = new();
        public Task Turn => _turn.Task;

        public void Start() => _turn.TrySetResult();

        /// <summary>Cancels this (monitor) ticket unless it already finished.</summary>
        public void Preempt()
        {
            lock (_lock)
            {
                if (_retired)
                    return;
            }
            // Cancel may run continuations inline, so not under the lock; a racing Retire can dispose it first.
            try
            {
                Cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Retire()
        {
            lock (_lock)
                _retired = true;
            Cancel.Dispose();
        }
    }
}
