namespace SharpCtdb.Events.Tests;

public sealed class MonitorHealthTrackerTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    private static double S(TimeSpan t) => t.TotalSeconds;

    [Fact]
    public void FirstSuccessIsAHealthyTransitionThenBackoffDoublesToTheInterval()
    {
        var t = new MonitorHealthTracker(Interval, 20);
        Assert.True(t.Unhealthy);
        Assert.Equal(2, S(t.Started()));

        var first = t.OnResult(0);
        Assert.Equal(HealthTransition.BecameHealthy, first.Transition);
        Assert.Equal("healthy", first.Notification);
        Assert.Equal(5, S(first.NextDelay));
        Assert.False(t.Unhealthy);

        Assert.Equal([10, 15, 15], new[] { t.OnResult(0), t.OnResult(0), t.OnResult(0) }.Select(o => S(o.NextDelay)));
        Assert.Equal(HealthTransition.None, t.OnResult(0).Transition);
    }

    [Fact]
    public void StartsAtTwoSecondsAndDoublesWithoutTransitions()
    {
        var t = new MonitorHealthTracker(Interval, 20, initiallyUnhealthy: false);
        t.Started();
        Assert.Equal([2, 4, 8, 15, 15], Enumerable.Range(0, 5).Select(_ => S(t.OnResult(0).NextDelay)));
    }

    [Fact]
    public void FailureWhileHealthyBecomesUnhealthyAndResetsTo5s()
    {
        var t = new MonitorHealthTracker(Interval, 20, initiallyUnhealthy: false);
        t.Started();
        t.OnResult(0);
        t.OnResult(0);
        var fail = t.OnResult(8);
        Assert.Equal(HealthTransition.BecameUnhealthy, fail.Transition);
        Assert.Equal("unhealthy", fail.Notification);
        Assert.Equal(5, S(fail.NextDelay));
        // Still failing: no new transition, backoff continues.
        var again = t.OnResult(8);
        Assert.Equal(HealthTransition.None, again.Transition);
        Assert.Equal(10, S(again.NextDelay));
        var ok = t.OnResult(0);
        Assert.Equal(HealthTransition.BecameHealthy, ok.Transition);
        Assert.Equal(5, S(ok.NextDelay));
    }

    [Fact]
    public void TimeoutsOnlyCountAfterMonitorTimeoutCountInARow()
    {
        var t = new MonitorHealthTracker(Interval, 3, initiallyUnhealthy: false);
        Assert.Equal(HealthTransition.None, t.OnResult(110).Transition);
        Assert.Equal(HealthTransition.None, t.OnResult(110).Transition);
        Assert.Equal(2, t.ConsecutiveTimeouts);
        t.OnResult(0); // any other result resets the count
        Assert.Equal(0, t.ConsecutiveTimeouts);
        t.OnResult(110);
        t.OnResult(110);
        var third = t.OnResult(110);
        Assert.Equal(HealthTransition.BecameUnhealthy, third.Transition);
        Assert.True(t.Unhealthy);
    }

    [Fact]
    public void CancelledChangesNothingAndSkipsKeepTheInterval()
    {
        var t = new MonitorHealthTracker(Interval, 2, initiallyUnhealthy: false);
        t.OnResult(110);
        var c = t.OnResult(125);
        Assert.Equal(HealthTransition.None, c.Transition);
        Assert.Equal("Monitoring event was cancelled", c.LogMessage);
        Assert.Equal(1, t.ConsecutiveTimeouts);
        var before = t.NextInterval;
        Assert.Equal(before, t.Skipped());
        Assert.Equal(before, t.NextInterval);
        Assert.Equal(5, S(t.LaunchFailed()));
        Assert.Equal(5, S(t.NextInterval));
    }

    [Fact]
    public void FailureWhileAlreadyUnhealthyIsNoTransition()
    {
        var t = new MonitorHealthTracker(Interval, 20);
        Assert.Equal(HealthTransition.None, t.OnResult(8).Transition);
        Assert.True(t.Unhealthy);
    }
}
