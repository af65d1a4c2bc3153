namespace SharpCtdb.Daemon.Tests.Unit;

/// <summary>LoopContext.RunAfter: the loop's own microsecond timer (a timerfd in its epoll set), used for lock retries.</summary>
public sealed class LoopRunAfterTests
{
    /// <summary>
    /// Timers run on the loop thread, in due order whatever order they were added in, never before their delay; a
    /// callback may add another timer (the retry chain of a busy chain lock), including one due before the rest.
    /// </summary>
    [Fact]
    public async Task TimersRunOnTheLoop_InDueOrder_NotEarly()
    {
        var ct = TestContext.Current.CancellationToken;
        var loop = new LoopContext(e => Assert.Fail(e.ToString()));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        loop.Start(stop.Token);
        var fired = new List<(string Name, TimeSpan At, bool OnLoop)>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Record(string name) => fired.Add((name, clock.Elapsed, loop.IsLoopThread));
        loop.Post(() =>
        {
            loop.RunAfter(TimeSpan.FromMilliseconds(120), () =>
            {
                Record("c");
                done.SetResult();
            });
            loop.RunAfter(TimeSpan.FromMilliseconds(40), () =>
            {
                Record("b");
                // Added from a timer callback and due before "c": the timer must be re-armed for it.
                loop.RunAfter(TimeSpan.FromMilliseconds(20), () => Record("b2"));
            });
            loop.RunAfter(TimeSpan.FromMicroseconds(50), () => Record("a"));
        });

        await done.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
        var got = await loop.InvokeAsync(() => fired.ToList());
        Assert.Equal(["a", "b", "b2", "c"], got.Select(f => f.Name));
        Assert.All(got, f => Assert.True(f.OnLoop, $"{f.Name} ran off the loop thread"));
        Assert.True(got[1].At >= TimeSpan.FromMilliseconds(40), $"b ran after {got[1].At}");
        Assert.True(got[2].At >= got[1].At + TimeSpan.FromMilliseconds(20), $"b2 ran {got[2].At - got[1].At} after b");
        Assert.True(got[3].At >= TimeSpan.FromMilliseconds(120), $"c ran after {got[3].At}");
        stop.Cancel();
    }
}
