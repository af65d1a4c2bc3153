namespace SharpCtdb.Events;

/// <summary>A change of the own node's health caused by a monitor result.</summary>
public enum HealthTransition
{
    None,

    /// <summary>UNHEALTHY cleared: send notification "healthy", push flags, ask for a takeover run.</summary>
    BecameHealthy,

    /// <summary>UNHEALTHY set: send notification "unhealthy", push flags, ask for a takeover run.</summary>
    BecameUnhealthy,
}

/// <summary>What to do after a monitor tick.</summary>
/// <param name="NextDelay">Wait this long (from the end of this run) before the next monitor tick.</param>
/// <param name="Transition">Health change to apply, if any.</param>
/// <param name="LogMessage">A line the daemon should log (e.g. "Monitoring event was cancelled"), or null.</param>
public readonly record struct MonitorOutcome(TimeSpan NextDelay, HealthTransition Transition, string? LogMessage = null)
{
    /// <summary>The notify.sh argument for <see cref="Transition"/>, or null.</summary>
    public string? Notification => Transition switch
    {
        HealthTransition.BecameHealthy => NotificationRunner.Healthy,
        HealthTransition.BecameUnhealthy => NotificationRunner.Unhealthy,
        _ => null,
    };
}

/// <summary>
/// The monitor cadence and health state machine of behaviour.md §2.3/§7.2/§7.3, as pure logic (no clock, no
/// I/O) so that the daemon drives it and tests can step it:
/// <list type="bullet">
/// <item>After startup the first monitor is 2 s away (<see cref="InitialDelay"/>).</item>
/// <item>After each result the delay is the current interval, which then doubles up to MonitorInterval; a health
/// transition first resets the interval to 5 s; a launch failure waits 5 s and resets it to 5 s.</item>
/// <item>Skipped ticks (recovery, inactive node, not RUNNING, all databases frozen) keep the interval.</item>
/// <item>Cancelled runs change nothing; timeouts count, and only MonitorTimeoutCount consecutive timeouts count as
/// a failure; any other result resets the count.</item>
/// </list>
/// The node starts UNHEALTHY, so the first successful monitor is a transition to healthy.
/// </summary>
public sealed class MonitorHealthTracker
{
    public static readonly TimeSpan InitialDelay = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan ResetInterval = TimeSpan.FromSeconds(5);

    private readonly TimeSpan _monitorInterval;
    private readonly int _monitorTimeoutCount;

    /// <param name="monitorInterval">Tunable MonitorInterval (default 15 s).</param>
    /// <param name="monitorTimeoutCount">Tunable MonitorTimeoutCount (default 20).</param>
    /// <param name="initiallyUnhealthy">Own node's UNHEALTHY flag at start (true in 4.17).</param>
    public MonitorHealthTracker(TimeSpan monitorInterval, int monitorTimeoutCount, bool initiallyUnhealthy = true)
    {
        _monitorInterval = monitorInterval;
        _monitorTimeoutCount = monitorTimeoutCount;
        Unhealthy = initiallyUnhealthy;
        NextInterval = InitialDelay;
    }

    public bool Unhealthy { get; private set; }

    /// <summary>The interval that the next result will use as its delay.</summary>
    public TimeSpan NextInterval { get; private set; }

    public int ConsecutiveTimeouts { get; private set; }

    /// <summary>Call when `startup` succeeded; returns the delay before the first monitor (2 s).</summary>
    public TimeSpan Started()
    {
        NextInterval = InitialDelay;
        return InitialDelay;
    }

    /// <summary>A tick skipped because monitoring is not possible right now: try again after the current interval.</summary>
    public TimeSpan Skipped() => NextInterval;

    /// <summary>The monitor event could not even be started (e.g. refused): retry after 5 s.</summary>
    public TimeSpan LaunchFailed()
    {
        NextInterval = ResetInterval;
        return ResetInterval;
    }

    /// <summary>Feeds the event daemon's reply code for a monitor run (0, ECANCELED, ETIMEDOUT, anything else = failure).</summary>
    public MonitorOutcome OnResult(int replyCode)
    {
        string? message = null;
        var transition = HealthTransition.None;
        switch (replyCode)
        {
            case Errno.ECANCELED:
                message = "Monitoring event was cancelled";
                break;
            case Errno.ETIMEDOUT:
                ConsecutiveTimeouts++;
                if (ConsecutiveTimeouts >= _monitorTimeoutCount)
                {
                    message = $"Maximum monitor timeout count {_monitorTimeoutCount} reached. Making node unhealthy";
                    transition = Fail();
                }
                else
                {
                    message = $"Monitor event timed out, timeout count {ConsecutiveTimeouts}/{_monitorTimeoutCount}";
                }
                break;
            case 0:
                ConsecutiveTimeouts = 0;
                if (Unhealthy)
                {
                    Unhealthy = false;
                    transition = HealthTransition.BecameHealthy;
                }
                break;
            default:
                ConsecutiveTimeouts = 0;
                transition = Fail();
                break;
        }
        if (transition != HealthTransition.None)
        {
            NextInterval = ResetInterval;
            message ??= transition == HealthTransition.BecameHealthy
                ? "Node became HEALTHY. Ask recovery master to reallocate IPs"
                : "Node became UNHEALTHY. Ask recovery master to reallocate IPs";
        }
        var delay = NextInterval;
        var doubled = NextInterval * 2;
        NextInterval = doubled < _monitorInterval ? doubled : _monitorInterval;
        return new MonitorOutcome(delay, transition, message);
    }

    /// <summary>Convenience overload for an in-process <see cref="EventRunner"/> result.</summary>
    public MonitorOutcome OnResult(EventRunResult result) => OnResult(result.ErrorCode);

    private HealthTransition Fail()
    {
        if (Unhealthy)
            return HealthTransition.None;
        Unhealthy = true;
        return HealthTransition.BecameUnhealthy;
    }
}
