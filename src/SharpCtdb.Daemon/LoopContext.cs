namespace SharpCtdb.Daemon;

/// <summary>
/// A single-threaded event loop (the C# counterpart of CTDB's tevent loop). Every piece of work that reads or
/// changes cluster state is posted here and runs on one dedicated thread; because this is also the
/// <see cref="SynchronizationContext"/> of that thread, code that <c>await</c>s inside the loop resumes on it too.
/// So state needs no locks: only await points interleave.
/// </summary>
internal sealed class LoopContext : SynchronizationContext
{
    // A plain monitor-guarded queue rather than a Channel: a Channel completes the loop's wait through a thread-pool
    // work item, so every post (every packet) cost one extra thread hand-off, slow when the pool is busy. Here the
    // poster wakes the loop thread itself.
    private readonly object _gate = new(); // an object, not a Lock: the loop waits on it with Monitor.Wait
    private Queue<(SendOrPostCallback Callback, object? State)> _incoming = new();
    private Queue<(SendOrPostCallback Callback, object? State)> _running = new();
    private readonly Action<Exception> _onError;
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
            if (_waiting)
                Monitor.Pulse(_gate);
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
            Monitor.Pulse(_gate);
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
        while (true)
        {
            lock (_gate)
            {
                while (_incoming.Count == 0 && !_stopped)
                {
                    // Blocking on our own dedicated thread is intended: this thread has nothing else to do.
                    _waiting = true;
                    Monitor.Wait(_gate);
                    _waiting = false;
                }
                if (_incoming.Count == 0 || _abandoned)
                    return;
                // Swap the queues: the batch runs without the lock, posters keep filling the other one.
                (_incoming, _running) = (_running, _incoming);
            }
            while (!_abandoned && _running.TryDequeue(out var item))
            {
                try
                {
                    item.Callback(item.State);
                }
                catch (Exception e)
                {
                    _onError(e);
                }
            }
        }
    }
}
