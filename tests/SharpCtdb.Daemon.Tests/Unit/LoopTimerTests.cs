namespace SharpCtdb.Daemon.Tests.Unit;

/// <summary>
/// A fire that was already posted to the loop when the timer was re-armed must be dropped, and the re-armed
/// timer must stay tracked (the lost reference made ctdbd force an election every 5 s after a SIGSTOP).
/// </summary>
public sealed class LoopTimerTests
{
    /// <summary>Timers that fire only when the test says so.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public List<(TimerCallback Callback, object? State, bool Disposed)> Timers { get; } = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var index = Timers.Count;
            Timers.Add((callback, state, false));
            return new Handle(() => Timers[index] = Timers[index] with { Disposed = true });
        }

        /// <summary>Fires timer <paramref name="index"/> even if disposed, as a thread-pool fire already under way would.</summary>
        public void Fire(int index) => Timers[index].Callback(Timers[index].State);

        private sealed class Handle(Action dispose) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;
            public void Dispose() => dispose();
            public ValueTask DisposeAsync()
            {
                dispose();
                return ValueTask.CompletedTask;
            }
        }
    }

    [Fact]
    public async Task StaleFireIsDroppedAndTheRearmedTimerStillFires()
    {
        var time = new ManualTime();
        var loop = new LoopContext(e => Assert.Fail(e.ToString()));
        using var cts = new CancellationTokenSource();
        loop.Start(cts.Token);
        try
        {
            var timer = new LoopTimer(time, loop);
            var fired = new List<string>();
            await loop.InvokeAsync(() =>
            {
                timer.Arm(TimeSpan.FromSeconds(5), () => fired.Add("first"));
                return 0;
            });
            // The first timer falls due (its fire is queued behind this action), then a leader broadcast re-arms.
            await loop.InvokeAsync(() =>
            {
                time.Fire(0);
                timer.Arm(TimeSpan.FromSeconds(5), () => fired.Add("second"));
                return 0;
            });
            var afterStale = await loop.InvokeAsync(() => (Fired: fired.ToArray(), timer.Armed));
            Assert.Empty(afterStale.Fired);
            Assert.True(afterStale.Armed);
            Assert.True(time.Timers[0].Disposed);
            Assert.False(time.Timers[1].Disposed);

            time.Fire(1);
            var afterDue = await loop.InvokeAsync(() => (Fired: fired.ToArray(), timer.Armed));
            Assert.Equal(["second"], afterDue.Fired);
            Assert.False(afterDue.Armed);

            // Cancel also drops a fire already posted.
            await loop.InvokeAsync(() =>
            {
                timer.Arm(TimeSpan.FromSeconds(5), () => fired.Add("third"));
                time.Fire(2);
                timer.Cancel();
                return 0;
            });
            var afterCancel = await loop.InvokeAsync(() => (Fired: fired.ToArray(), timer.Armed));
            Assert.Equal(["second"], afterCancel.Fired);
            Assert.False(afterCancel.Armed);
        }
        finally
        {
            loop.Stop();
        }
    }
}
