using System.Diagnostics;
using System.Net.Sockets;
using SharpCtdb.Daemon.Transport;

namespace SharpCtdb.Daemon;

/// <summary>
/// A single-threaded event loop (the C# counterpart of CTDB's tevent loop). Every piece of work that reads or
/// changes cluster state is posted here and runs on one dedicated thread; because this is also the
/// <see cref="SynchronizationContext"/> of that thread, code that <c>await</c>s inside the loop resumes on it too.
/// So state needs no locks: only await points interleave.
/// The loop waits in epoll (<see cref="Watch"/>): sockets the daemon reads itself (clients, peers) are read on this
/// thread when they have input, with no thread hand-off per packet; other threads wake it through an eventfd.
/// </summary>
internal sealed class LoopContext : SynchronizationContext
{
    // A plain lock-guarded queue rather than a Channel: a Channel completes the loop's wait through a thread-pool
    // work item, so every post (every packet) cost one extra thread hand-off, slow when the pool is busy. Here the
    // poster wakes the loop thread itself.
    private readonly Lock _gate = new();
    private readonly Epoll _epoll = new(); // written and closed under _gate only, so no write hits a reused descriptor
    private readonly Dictionary<ulong, Action> _watches = []; // under _gate
    private readonly List<ulong> _ready = [];
    private ulong _nextWatch = Epoll.WakeToken;
    private bool _closed;
    private Queue<(SendOrPostCallback Callback, object? State)> _incoming = new();
    private Queue<(SendOrPostCallback Callback, object? State)> _running = new();
    private readonly Action<Exception> _onError;
    private readonly PriorityQueue<Action, long> _timers = new(); // loop thread only; priority = due (monotonic ns)
    private long _timerArmedFor = long.MaxValue;
    private Thread? _thread;
    private bool _waiting;
    private bool _stopped;
    private volatile bool _abandoned;

    public LoopContext(Action<Exception> onError) => _onError = onError;

    public bool IsLoopThread => Thread.CurrentThread == _thread;

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            if (_stopped)
                return;
            _incoming.Enqueue((d, state));
            WakeLocked();
        }
    }

    private void WakeLocked()
    {
        if (!_waiting)
            return;
        _waiting = false; // one write is enough to end this wait
        _epoll.Wake();
    }

    /// <summary>
    /// Runs <paramref name="onReadable"/> on the loop thread whenever <paramref name="socket"/> has input or an error
    /// (level-triggered: a handler may read only part and is called again). Any thread. The result must be disposed
    /// before the socket is closed. Null when the loop has ended.
    /// </summary>
    public IDisposable? Watch(Socket socket, Action onReadable)
    {
        var fd = (int)socket.Handle;
        lock (_gate)
        {
            if (_closed)
                return null;
            var token = ++_nextWatch;
            if (!_epoll.Add(fd, token))
                throw new SocketException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            _watches[token] = onReadable;
            return new Watching(this, fd, token);
        }
    }

    private sealed class Watching(LoopContext loop, int fd, ulong token) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0)
                return;
            lock (loop._gate)
            {
                // A stale ready event for this token may still be in the loop's batch; the lookup then misses.
                loop._watches.Remove(token);
                if (!loop._closed)
                    loop._epoll.Remove(fd);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the loop after <paramref name="delay"/>, with microsecond resolution (a timerfd
    /// in the loop's epoll set: no timer thread, no thread-pool hop). Loop thread only; not cancellable, for short
    /// retries (a busy chain lock). Dropped when the loop ends.
    /// </summary>
    public void RunAfter(TimeSpan delay, Action action)
    {
        var due = MonotonicNs() + Math.Max(0, delay.Ticks) * (1_000_000_000 / TimeSpan.TicksPerSecond);
        _timers.Enqueue(action, due);
        if (due < _timerArmedFor)
        {
            _timerArmedFor = due;
            _epoll.ArmTimer(due);
        }
    }

    // Stopwatch's clock is CLOCK_MONOTONIC on Linux, the timerfd's clock.
    private static long MonotonicNs() => (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));

    /// <summary>The timerfd fired: run what is due, then arm it for the next one.</summary>
    private void RunDueTimers()
    {
        var now = MonotonicNs();
        _timerArmedFor = long.MaxValue; // callbacks that add timers arm afresh
        while (_timers.TryPeek(out var action, out var due) && due <= now && !_abandoned)
        {
            _timers.Dequeue();
            Invoke(static s => ((Action)s!)(), action);
        }
        var next = _timers.TryPeek(out _, out var d) ? d : long.MaxValue;
        if (next != _timerArmedFor)
        {
            _timerArmedFor = next;
            _epoll.ArmTimer(next);
        }
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("synchronous Send into the cluster loop would dead-lock");

    public override SynchronizationContext CreateCopy() => this;

    public void Post(Action action) => Post(static s => ((Action)s!)(), action);

    /// <summary>Runs <paramref name="action"/> on the loop and returns its task (completed on the loop).</summary>
    public Task<T> InvokeAsync<T>(Func<T> action)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try
            {
                tcs.SetResult(action());
            }
            catch (Exception e)
            {
                tcs.SetException(e);
            }
        });
        return tcs.Task;
    }

    public void Start(CancellationToken ct)
    {
        ct.Register(Abandon);
        _thread = new Thread(Run) { Name = "ctdbd-loop", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Work posted afterwards is dropped; work already queued still runs.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            WakeLocked();
        }
    }

    /// <summary>Cancellation: stop after the item running now; queued work is dropped.</summary>
    private void Abandon()
    {
        _abandoned = true;
        Stop();
    }

    private void Run()
    {
        SetSynchronizationContext(this);
        try
        {
            while (true)
            {
                bool idle;
                lock (_gate)
                {
                    if (_abandoned || (_stopped && _incoming.Count == 0))
                        return;
                    idle = _incoming.Count == 0;
                    _waiting = idle;
                }
                // Idle: sleep until a socket is readable or someone posts. Busy: just poll, so sockets are not starved.
                _epoll.Wait(idle ? -1 : 0, _ready);
                if (idle)
                {
                    lock (_gate)
                        _waiting = false;
                }
                foreach (var token in _ready)
                {
                    if (token == Epoll.TimerToken)
                    {
                        RunDueTimers();
                        continue;
                    }
                    Action? handler;
                    lock (_gate)
                        _watches.TryGetValue(token, out handler);
                    if (handler is not null)
                        Invoke(static s => ((Action)s!)(), handler);
                }
                lock (_gate)
                {
                    if (_abandoned)
                        return;
                    // Swap the queues: the batch runs without the lock, posters keep filling the other one.
                    (_incoming, _running) = (_running, _incoming);
                }
                while (!_abandoned && _running.TryDequeue(out var item))
                    Invoke(item.Callback, item.State);
            }
        }
        finally
        {
            lock (_gate)
            {
                _closed = true;
                _waiting = false;
                _watches.Clear();
                _epoll.Dispose();
            }
        }
    }

    private void Invoke(SendOrPostCallback callback, object? state)
    {
        try
        {
            callback(state);
        }
        catch (Exception e)
        {
            _onError(e);
        }
    }
}
