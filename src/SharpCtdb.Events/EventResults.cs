using System.Collections;
using SharpCtdb.Config;
using SharpCtdb.Protocol;
using SharpCtdb.Protocol.EventDaemon;

namespace SharpCtdb.Events;

/// <summary>How one script ended, in 4.17's terms.</summary>
public enum ScriptOutcome
{
    Ok,
    Error,
    TimedOut,
    Disabled,
    CannotRun,
}

/// <summary>
/// One script of an event run. <paramref name="Result"/>: 0 OK, &gt;0 exit status (ERROR), -110 TIMEDOUT,
/// -8 (-ENOEXEC) DISABLED (not run, or exec refused), other negative = could not run (-errno).
/// </summary>
public sealed record ScriptRunResult(string Name, DateTimeOffset Begin, DateTimeOffset End, int Result, string? Output, bool OutputTruncated = false)
{
    public ScriptOutcome Outcome => Result switch
    {
        0 => ScriptOutcome.Ok,
        > 0 => ScriptOutcome.Error,
        -Errno.ETIMEDOUT => ScriptOutcome.TimedOut,
        -Errno.ENOEXEC => ScriptOutcome.Disabled,
        _ => ScriptOutcome.CannotRun,
    };

    /// <summary>A failure stops the event (unless run-all): anything but OK and DISABLED.</summary>
    public bool IsFailure => Result != 0 && Result != -Errno.ENOEXEC;

    public TimeSpan Duration => End - Begin;

    public EventScriptStatus ToWire() =>
        new(Name, Timeval.FromDateTimeOffset(Begin), Timeval.FromDateTimeOffset(End), Result, Output);
}

/// <summary>Overall result of an event.</summary>
public enum EventRunStatus
{
    Ok,

    /// <summary>A script failed (reply ENOEXEC).</summary>
    Failed,

    /// <summary>The event's deadline passed (reply ETIMEDOUT).</summary>
    TimedOut,

    /// <summary>A monitor run cancelled by another event, or refused (reply ECANCELED). Not recorded.</summary>
    Cancelled,

    /// <summary>The component directory does not exist (reply ENOENT).</summary>
    NoSuchComponent,
}

/// <summary>A completed (or refused) event run: summary = 0, or the result of the (last) failing script.</summary>
public sealed record EventRunResult(string Component, string Event, EventRunStatus Status, int Summary, IReadOnlyList<ScriptRunResult> Scripts)
{
    /// <summary>The positive errno the event daemon replies with (0, ENOEXEC, ETIMEDOUT, ECANCELED, ENOENT).</summary>
    public int ErrorCode => Status switch
    {
        EventRunStatus.Ok => 0,
        EventRunStatus.Failed => Errno.ENOEXEC,
        EventRunStatus.TimedOut => Errno.ETIMEDOUT,
        EventRunStatus.Cancelled => Errno.ECANCELED,
        _ => Errno.ENOENT,
    };

    public EventScriptStatusList ToWire() => new(Summary, Scripts.Select(s => s.ToWire()).ToArray());
}

/// <summary>Per-call options of <see cref="EventRunner.RunAsync"/>.</summary>
public sealed record EventRunOptions
{
    /// <summary>Keep running after a failing script (CTDB_EVENT_RUN_ALL); the summary is then the last failure.</summary>
    public bool RunAll { get; init; }
}

/// <summary>Configuration of an <see cref="EventRunner"/>.</summary>
public sealed record EventRunnerSettings
{
    /// <summary>ETCDIR/events: components are its subdirectories.</summary>
    public required string EventsDir { get; init; }

    /// <summary>DATADIR/events (packaged scripts), only used for SCRIPT requests / listings.</summary>
    public string? DataEventsDir { get; init; }

    /// <summary>The complete environment of every script (ctdbd's environment plus CTDB_BASE etc.); null = this process's.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Absolute path of the hung-script debug hook (`[event] debug script`, resolved), or null.</summary>
    public string? DebugScript { get; init; }

    /// <summary>How long the debug hook may run before it is killed (4.17 has no limit).</summary>
    public TimeSpan DebugScriptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Bytes of output kept per script (head + tail); the rest is counted and dropped.</summary>
    public int OutputLimit { get; init; } = 64 * 1024;

    /// <summary>After a script exits, how long to keep reading output from children that still hold the pipe.</summary>
    public TimeSpan OutputDrainTime { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Log each output line at ERROR as "name: line", like 4.17's event daemon.</summary>
    public bool LogScriptOutput { get; init; } = true;

    public string SetsidPath { get; init; } = "/usr/bin/setsid";
    public string ShellPath { get; init; } = "/bin/sh";

    /// <summary>
    /// Settings for ctdbd: scripts from ETCDIR/events, the configured debug hook, and the environment 4.17 gives
    /// scripts (behaviour.md §9.2): this process's environment plus CTDB_BASE (kept if set), CTDB_LOGGING,
    /// CTDB_DEBUGLEVEL, CTDB_INTERACTIVE=true with --interactive, CTDB_DEBUG_LOCKS when a lock debug script is set.
    /// </summary>
    public static EventRunnerSettings ForDaemon(CtdbPaths paths, CtdbConfig config, bool interactive = false)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            if (e.Value is string v)
                env[(string)e.Key] = v;
        }
        env.TryAdd("CTDB_BASE", paths.CtdbBase);
        env["CTDB_LOGGING"] = config.Logging.Location;
        env["CTDB_DEBUGLEVEL"] = DebugLevels.NameOf(config.Logging.LogLevel);
        if (interactive)
            env["CTDB_INTERACTIVE"] = "true";
        if (config.Database.LockDebugScript is { } locks)
            env["CTDB_DEBUG_LOCKS"] = locks;
        return new EventRunnerSettings
        {
            EventsDir = paths.EventsDir,
            DataEventsDir = System.IO.Path.Combine(paths.DataDir, "events"),
            Environment = env,
            DebugScript = config.Event.DebugScript,
        };
    }
}
