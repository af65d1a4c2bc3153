using System.Threading.Channels;

namespace SharpCtdb.Daemon;

/// <summary>
/// A single-threaded event loop (the C# counterpart of CTDB's tevent loop). Every piece of work that reads or
/// changes cluster state is posted here and runs on one dedicated thread; because this is also the
/// <see cref="SynchronizationContext"/> of that thread, code that <c>await</c>s inside the loop resumes on it too.
/// So state needs no locks: only await points interleave.
/// </summary>
internal sealed class LoopContext : SynchronizationContext
{
    private readonly Channel<(SendOrPostCallback Callback, object? State)> _queue =
        Channel.CreateUnbounded<(SendOrPostCallback, object?)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Action<Exception> _onError;
    private Thread? _thread;

    public LoopContext(Action<Exception> onError) => _onError = onError;

    public bool IsLoopThread => Thread.CurrentThread == _thread;

    public override void Post(SendOrPostCallback d, object? state) => _queue.Writer.TryWrite((d, state));

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
        _thread = new Thread(() => Run(ct)) { Name = "ctdbd-loop", IsBackground = true };
        _thread.Start();
    }

    public void Stop() => _queue.Writer.TryComplete();

    private void Run(CancellationToken ct)
    {
        SetSynchronizationContext(this);
        var reader = _queue.Reader;
        while (!ct.IsCancellationRequested)
        {
            if (!reader.TryRead(out var item))
            {
                // Blocking on our own dedicated thread is intended: this thread has nothing else to do.
                bool more;
                try
                {
                    more = reader.WaitToReadAsync(ct).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                if (!more)
                    break;
                continue;
            }
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
