namespace SharpCtdb.Daemon;

/// <summary>
/// A re-armable one-shot timer whose action runs on the loop. Disposing a System.Threading timer cannot recall
/// a fire already posted to the loop (e.g. a timer that fell due while the process was SIGSTOPped, queued behind
/// the packets that arrived meanwhile), so every fire carries the arming it belongs to and a stale one is
/// dropped: it must neither act nor forget the timer that replaced it, which would then keep firing on its own.
/// Arm, Cancel and Armed are used on the loop thread only.
/// </summary>
internal sealed class LoopTimer(TimeProvider time, LoopContext loop)
{
    private ITimer? _timer;
    private long _arming;

    public bool Armed => _timer is not null;

    public void Arm(TimeSpan delay, Action action)
    {
        _timer?.Dispose();
        var arming = ++_arming;
        _timer = time.CreateTimer(_ => loop.Post(() =>
        {
            if (arming != _arming)
                return;
            _timer = null;
            action();
        }), null, delay, Timeout.InfiniteTimeSpan);
    }

    public void Cancel()
    {
        _timer?.Dispose();
        _timer = null;
        _arming++;
    }
}
