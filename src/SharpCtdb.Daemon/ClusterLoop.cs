using System.Net;
using SharpCtdb.Config;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>Everything the cluster loop needs that was decided at start-up.</summary>
internal sealed record DaemonSettings
{
    public required CtdbPaths Paths { get; init; }
    public required CtdbConfig Config { get; init; }
    public required IReadOnlyList<NodeInfo> Nodes { get; init; }
    public required uint OwnPnn { get; init; }
    public required CtdbLog Log { get; init; }
    public required TunableSet Tunables { get; init; }
    public string? ClusterLock { get; init; }
    public string MutexHelperPath { get; init; } = "";
    /// <summary>The spec actually given to the cluster mutex (may wrap the helper so it dies with us).</summary>
    public string? ClusterLockLaunchSpec { get; init; }
    public IReadOnlyList<(IPAddress Address, uint Mask, IReadOnlyList<string> Ifaces)> PublicAddresses { get; init; } = [];
    public bool FastStart { get; init; }
    /// <summary>(major &lt;&lt; 16) | minor sent in keepalives; 4.17 = 0x00040011.</summary>
    public uint KeepaliveVersion { get; init; } = 0x00040011;
    public TimeSpan InitialElectionDelay { get; init; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// The one owner of mutable cluster state: node map and flags, own runstate, recovery mode, vnnmap and
/// generation, leader, capabilities, public addresses, tunables. All work (client packets, peer packets,
/// transport events, timers) is posted into its <see cref="LoopContext"/>; nothing else touches the state.
/// Partial files: Controls (handlers), Messages, Election, Recovery, Takeover, Monitor.
/// </summary>
internal sealed partial class ClusterLoop
{
    private readonly DaemonSettings _settings;
    private readonly CtdbLog _log;
    private readonly TimeProvider _time;
    private readonly IEventHooks _events;
    private readonly LoopContext _loop;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<uint, PendingControl> _pending = [];
    private readonly List<ITimer> _timers = [];
    private IPeerNetwork? _network;
    private ClientServer? _clients;
    private uint _nextReqId = 1;

    // ---- cluster state (loop thread only) ----
    private NodeInfo[] _nodes; // replaced (not mutated in place) by reloadnodes
    private RunState _runState = RunState.Unknown;
    private RecoveryMode _recMode = RecoveryMode.Active;
    private VnnMap _vnnMap;
    private Capabilities _capabilities;
    private readonly PublicIpTable _ips = new();
    private readonly DateTimeOffset _startTime;
    private DateTimeOffset _lastRecoveryStarted;
    private DateTimeOffset _lastRecoveryFinished;
    private int _debugLevel;

    public ClusterLoop(DaemonSettings settings, IEventHooks events, TimeProvider? time = null)
    {
        _settings = settings;
        _log = settings.Log;
        _time = time ?? TimeProvider.System;
        _events = events;
        _loop = new LoopContext(e => _log.Error($"Unhandled error in cluster loop: {e}"));
        _leaderTimeout = new LoopTimer(_time, _loop);
        _electionTimer = new LoopTimer(_time, _loop);
        _electionSendTimer = new LoopTimer(_time, _loop);
        _lockRetryTimer = new LoopTimer(_time, _loop);
        _banTimer = new LoopTimer(_time, _loop);
        _nodes = [.. settings.Nodes];
        OwnPnn = settings.OwnPnn;
        _startTime = _time.GetUtcNow();
        _debugLevel = _log.Level;
        _vnnMap = new VnnMap(Wire.InvalidGeneration, [.. _nodes.Where(n => !n.Deleted).Select(n => n.Pnn)]);
        _capabilities = Capabilities.Default;
        if (!settings.Config.Cluster.LeaderCapability)
            _capabilities &= ~Capabilities.Recmaster;
        if (!settings.Config.Legacy.LmasterCapability)
            _capabilities &= ~Capabilities.Lmaster;
        foreach (var (addr, mask, ifaces) in settings.PublicAddresses)
            _ips.Add(addr, mask, ifaces);
        _priorityTime = _startTime;
    }

    public uint OwnPnn { get; }
    public LoopContext Loop => _loop;
    public CtdbLog Log => _log;
    public TimeProvider Time => _time;
    public Task<int> Exited => _exit.Task;
    public CancellationToken Stopping => _stopping.Token;
    private TunableSet Tunables => _settings.Tunables;
    private NodeInfo Own => _nodes[OwnPnn];
    private uint Generation => _vnnMap.Generation;

    /// <summary>The vnnmap generation for keepalive headers; read from the transport's threads (a reference read is atomic).</summary>
    public uint CurrentGeneration => Volatile.Read(ref _vnnMap).Generation;

    public void Attach(IPeerNetwork network, ClientServer clients)
    {
        _network = network;
        _clients = clients;
    }

    /// <summary>Starts the loop thread and the start-up sequence from runstate INIT on (§2.2 steps 9–17).</summary>
    public void Start()
    {
        _loop.Start(_stopping.Token);
        _loop.Post(() => _ = StartupAsync());
    }

    private async Task StartupAsync()
    {
        InitStatistics();
        Own.Flags &= ~NodeFlags.Disconnected;
        if (_settings.Config.Legacy.StartAsDisabled)
            Own.Flags |= NodeFlags.PermanentlyDisabled;
        if (_settings.Config.Legacy.StartAsStopped)
            Own.Flags |= NodeFlags.Stopped;
        SetRunState(RunState.Init);
        if (!StartDatabases())
        {
            Shutdown(1);
            return;
        }
        if (await RunEventAsync("init") != 0)
        {
            _log.Error("Failed to run init event");
            _log.Error("ctdb exiting with error: Failed to run init event");
            Shutdown(1);
            return;
        }
        _events.Notify("init");
        try
        {
            await _network!.StartAsync(_stopping.Token);
        }
        catch (Transport.TransportBindException e)
        {
            _log.Error($"Failed to bind the node address: {e.Message}");
            _log.Error("ctdb exiting with error: Failed to start node transport");
            Shutdown(1);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.Error($"Failed to start node transport: {e.Message}");
            Shutdown(1);
            return;
        }
        StartLease();
        SetRunState(RunState.Setup);
        if (await RunEventAsync("setup") != 0)
        {
            _log.Error("Failed to run setup event");
            Shutdown(1);
            return;
        }
        _events.Notify("setup");
        SetRunState(RunState.FirstRecovery);
        StartPeriodic(TimeSpan.FromSeconds(1), LeaderBroadcastTick);
        StartPeriodic(TimeSpan.FromSeconds(Math.Max(1u, Tunables.RecoverInterval)), () => RequestLeaderCheck());
        StartPeriodic(TimeSpan.FromSeconds(1), WaitUntilRecoveredTick);
        StartIpPeriodicTasks();
        ScheduleInitialElection(_settings.FastStart ? _settings.InitialElectionDelay : TimeSpan.FromSeconds(LeaderTimeoutSeconds));
    }

    private void SetRunState(RunState state)
    {
        if (_runState == state)
            return;
        _log.Notice($"Set runstate to {RunStateName(state)} ({(uint)state})");
        _runState = state;
    }

    internal static string RunStateName(RunState s) => s switch
    {
        RunState.Init => "INIT",
        RunState.Setup => "SETUP",
        RunState.FirstRecovery => "FIRST_RECOVERY",
        RunState.Startup => "STARTUP",
        RunState.Running => "RUNNING",
        RunState.Shutdown => "SHUTDOWN",
        _ => "UNKNOWN",
    };

    /// <summary>Events 4.17 still runs while the recovery mode is ACTIVE; every other one is refused then.</summary>
    private static readonly HashSet<string> EventsAllowedInRecovery =
        ["init", "setup", "startrecovery", "shutdown", "releaseip", "ipreallocated"];

    /// <summary>Events whose timeout counts as success (the operation must not hang on a slow script).</summary>
    private static readonly HashSet<string> EventsWhoseTimeoutIsSuccess = ["startrecovery", "recovered", "takeip", "releaseip"];

    /// <summary>Status of an event refused because the node is in recovery.</summary>
    private const int EventRefused = -1;

    /// <summary>
    /// Runs an event with the EventScriptTimeout tunable (§2.2, §9): refused while in recovery unless allowed;
    /// returns 0, or the event daemon's reply code (ENOEXEC, ETIMEDOUT, ECANCELED), or <see cref="EventRefused"/>.
    /// </summary>
    private async Task<int> RunEventAsync(string name, params string[] args)
    {
        if (_recMode == RecoveryMode.Active && !EventsAllowedInRecovery.Contains(name))
        {
            _log.Notice($"Refusing to run event '{name}' while in recovery");
            return EventRefused;
        }
        int status;
        try
        {
            status = await _events.RunEventAsync(name, args, TimeSpan.FromSeconds(Tunables.EventScriptTimeout), _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return EcCanceled;
        }
        catch (ObjectDisposedException)
        {
            return EcCanceled; // the runner is gone: we are shutting down
        }
        if (status == EtimedOut && EventsWhoseTimeoutIsSuccess.Contains(name))
        {
            _log.Warning($"Ignoring hung script for {name} event");
            return 0;
        }
        // A failing script (ENOEXEC) has already been logged by the runner with its output.
        if (status != 0 && status != EcCanceled && status != Enoexec)
            _log.Error($"Event {name} failed with status {status}");
        return status;
    }

    private const int Enoexec = 8;
    private const int EtimedOut = 110;
    private const int EcCanceled = 125;

    // ---- timers: every callback is posted into the loop ----

    private ITimer StartPeriodic(TimeSpan period, Action action)
    {
        var t = _time.CreateTimer(_ => _loop.Post(action), null, period, period);
        _timers.Add(t);
        return t;
    }

    private ITimer After(TimeSpan delay, Action action) =>
        _time.CreateTimer(_ => _loop.Post(action), null, delay, Timeout.InfiniteTimeSpan);

    /// <summary>Awaitable delay that resumes on the loop.</summary>
    private Task Delay(TimeSpan delay) => Task.Delay(delay, _time, _stopping.Token);

    // ---- shutdown ----

    private bool _shuttingDown;

    /// <summary>Graceful shutdown (§2.4); may be called from any thread.</summary>
    public void RequestShutdown(int exitCode) => _loop.Post(() => Shutdown(exitCode));

    private async void Shutdown(int exitCode)
    {
        if (_shuttingDown)
        {
            _log.Notice("Shutdown sequence already in progress");
            return;
        }
        _shuttingDown = true;
        _log.Notice("Shutdown sequence commencing.");
        SetRunState(RunState.Shutdown);
        foreach (var t in _timers)
            t.Dispose();
        ReleaseClusterLock();
        await HandOverAddressesAtShutdownAsync();
        try
        {
            await RunEventAsync("shutdown").WaitAsync(TimeSpan.FromSeconds(Math.Max(1u, Tunables.EventScriptTimeout)), _time);
        }
        catch (TimeoutException)
        {
            _log.Warning("shutdown event timed out");
        }
        await ReleaseAddressesAtShutdownAsync();
        await StopLeaseAsync();
        foreach (var p in _pending.Values)
            p.Tcs.TrySetResult(ControlResult.Fail("shutting down"));
        _pending.Clear();
        if (_network is not null)
            await _network.DisposeAsync();
        _clients?.Stop();
        _databases?.Dispose();
        _log.Error("Shutdown sequence complete, exiting."); // ERR in 4.17 too: always reaches the log
        _log.Notice("CTDB daemon shutting down");
        _exit.TrySetResult(exitCode);
        _stopping.Cancel();
        _loop.Stop();
    }

    // ---- helpers over the node table ----

    private IEnumerable<NodeInfo> ConnectedNodes => _nodes.Where(n => !n.Deleted && n.Connected);

    private uint LeaderTimeoutSeconds => (uint)Math.Max(1, _settings.Config.Cluster.LeaderTimeout);

    private NodeMap BuildNodeMap() =>
        new([.. _nodes.Select(n => new NodeAndFlags(n.Pnn, n.Flags, new SockAddr(n.Address)))]);

    private NodeInfo? NodeOrNull(uint pnn) => pnn < _nodes.Length ? _nodes[pnn] : null;
}
