using SharpCtdb.Config;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>
/// Leader election (§4). With a cluster lock the leader is whoever holds it; without one, election messages
/// decide (earliest start wins, ties to the higher PNN). The leader broadcasts its PNN every second.
/// Faster than 4.17 where it is safe: a leader whose connection closes is known dead, so the election starts at
/// once; joining nodes and newly registered clients are told the leader immediately.
/// </summary>
internal sealed partial class ClusterLoop
{
    private uint _leader = Pnn.Unknown;
    private bool _electionInProgress;
    private DateTimeOffset _priorityTime;
    private readonly LoopTimer _leaderTimeout;
    private readonly LoopTimer _electionTimer;
    private readonly LoopTimer _electionSendTimer;
    private readonly LoopTimer _lockRetryTimer;
    private ClusterMutex? _lock;
    private bool _lockAttemptRunning;
    private bool _firstElection = true;
    private DateTimeOffset _lastPeerConnectedAt;

    private bool CanBeLeader => (_capabilities & Capabilities.Recmaster) != 0 && Own.Active && _runState != RunState.Shutdown;
    private bool HaveClusterLock => _settings.ClusterLock is not null;

    private static byte[] LeaderPayload(uint pnn) => U32(pnn);

    private void ScheduleInitialElection(TimeSpan delay)
    {
        var started = _time.GetUtcNow();
        void Check()
        {
            if (_shuttingDown || _leader != Pnn.Unknown || _electionInProgress)
                return;
            // Give peers a moment to connect so that a joining node learns the existing leader instead of
            // disturbing it; a cold-started cluster elects as soon as everyone is connected.
            var allConnected = _nodes.All(n => n.Deleted || n.Connected);
            var now = _time.GetUtcNow();
            var waitForPeers = !allConnected && now - started < delay + TimeSpan.FromSeconds(2);
            // A freshly connected existing leader announces itself within milliseconds: give it that moment.
            var waitForBroadcast = now - _lastPeerConnectedAt < TimeSpan.FromMilliseconds(300);
            if (waitForPeers || waitForBroadcast)
            {
                After(TimeSpan.FromMilliseconds(250), Check);
                return;
            }
            ForceElection("Initial election");
        }
        After(delay, Check);
        ArmLeaderTimeout();
    }

    /// <summary>1-s tick: the leader broadcasts itself; a node that can no longer lead gives up.</summary>
    private void LeaderBroadcastTick()
    {
        if (_shuttingDown)
            return;
        if (!CanBeLeader)
        {
            var wasLeader = _leader == OwnPnn;
            if (wasLeader)
            {
                _log.Notice("This node can no longer be leader");
                _leader = Pnn.Unknown;
            }
            ReleaseClusterLock();
            // Tell the others at once (an election starts on "leader unknown") instead of letting them wait for
            // the leader timeout as 4.17 does.
            if (wasLeader)
                SendMessage(Pnn.BroadcastConnected, Srvid.Leader, LeaderPayload(Pnn.Unknown));
            return;
        }
        if (_leader == OwnPnn && !_electionInProgress)
            SendMessage(Pnn.BroadcastConnected, Srvid.Leader, LeaderPayload(OwnPnn));
    }

    private void ArmLeaderTimeout()
    {
        _leaderTimeout.Arm(TimeSpan.FromSeconds(LeaderTimeoutSeconds), () =>
        {
            if (_shuttingDown || _leader == OwnPnn)
            {
                ArmLeaderTimeout();
                return;
            }
            ForceElection("Leader broadcast timeout");
        });
    }

    private void ReceiveLeaderBroadcast(uint src, byte[] data)
    {
        if (data.Length != 4)
            return;
        var pnn = new WireReader(data).U32();
        if (pnn == Pnn.Unknown)
        {
            if (src == OwnPnn)
                return;
            _leaderTimeout.Cancel();
            if (HaveClusterLock)
            {
                if (!_lockAttemptRunning)
                {
                    _electionInProgress = true;
                    _leader = _lock is not null ? OwnPnn : Pnn.Unknown;
                    _ = RunLockElectionAsync();
                }
            }
            else
            {
                _electionInProgress = true;
            }
            ArmLeaderTimeout();
            return;
        }
        if (pnn != _leader)
        {
            if (pnn != OwnPnn && _lock is not null)
            {
                // Two leaders cannot both hold the lock; trust the lock and tell the others.
                _log.Warning($"Node {pnn} claims leadership while this node holds the cluster lock");
                LeaderBroadcastTick();
                return;
            }
            _log.Notice($"Received leader broadcast, leader={pnn}");
            _leader = pnn;
        }
        if (pnn != OwnPnn && HaveClusterLock)
            _electionInProgress = false;
        _lockRetryTimer.Cancel();
        ArmLeaderTimeout();
    }

    /// <summary>Force an election (§4.2 steps 1–4 / §4.3).</summary>
    private void ForceElection(string reason)
    {
        if (_shuttingDown)
            return;
        _log.Notice($"{reason} - forcing election");
        if (_leader == OwnPnn && _lock is null && HaveClusterLock)
            _leader = Pnn.Unknown;
        if (_leader != OwnPnn)
            _leader = Pnn.Unknown;
        _electionInProgress = true;
        var active = U32((uint)RecoveryMode.Active);
        foreach (var n in _nodes.Where(n => n.Active && !n.Deleted).ToList())
            _ = SendControlAsync(n.Pnn, ControlOpcode.SetRecMode, active, timeout: TimeSpan.FromSeconds(5));
        SendMessage(Pnn.BroadcastConnected, Srvid.Leader, LeaderPayload(Pnn.Unknown));
        ArmLeaderTimeout();
        if (HaveClusterLock)
        {
            if (!_lockAttemptRunning)
                _ = RunLockElectionAsync();
            return;
        }
        var timeout = _firstElection && _settings.FastStart
            ? TimeSpan.FromMilliseconds(500)
            : TimeSpan.FromSeconds(Math.Max(1u, Tunables.ElectionTimeout));
        if (CanBeLeader)
        {
            _leader = OwnPnn;
            SendElectionMessage();
        }
        ArmElectionTimeout(timeout);
    }

    // ---------------- cluster-lock election ----------------

    private async Task RunLockElectionAsync()
    {
        _lockRetryTimer.Cancel();
        if (!CanBeLeader)
        {
            ReleaseClusterLock();
            if (_leader == OwnPnn)
                _leader = Pnn.Unknown;
            _electionInProgress = false;
            return;
        }
        if (_lock is not null)
        {
            BecomeLeader("Already holding cluster lock");
            return;
        }
        _lockAttemptRunning = true;
        char result;
        ClusterMutex mutex;
        try
        {
            mutex = ClusterMutex.Start(_settings.ClusterLockLaunchSpec ?? _settings.ClusterLock!, _settings.MutexHelperPath, _log, TimeSpan.FromSeconds(120));
            var lockStarted = _time.GetTimestamp();
            result = await mutex.Result;
            CountReclockLatency(_time.GetElapsedTime(lockStarted));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _lockAttemptRunning = false;
            _log.Error($"Unable to run the cluster lock helper: {e.Message}");
            _electionInProgress = false;
            ScheduleLockRetry();
            return;
        }
        _lockAttemptRunning = false;
        if (result == '0' && CanBeLeader && !_shuttingDown)
        {
            _lock = mutex;
            _ = WatchLockAsync(mutex);
            BecomeLeader("Took cluster lock");
            return;
        }
        mutex.Release();
        if (result != '1')
            _log.Error($"Unable to take cluster lock (helper result '{result}')");
        else
            _log.Info("Cluster lock is held by another node");
        _electionInProgress = false;
        if (_leader == OwnPnn)
            _leader = Pnn.Unknown;
        ScheduleLockRetry();
    }

    /// <summary>
    /// Still no leader after losing the race (e.g. the old leader's helper has not yet noticed its parent died):
    /// try again shortly instead of waiting for the 5-s leader timeout.
    /// </summary>
    private void ScheduleLockRetry()
    {
        _lockRetryTimer.Arm(TimeSpan.FromMilliseconds(500), () =>
        {
            if (_shuttingDown || _leader != Pnn.Unknown || _lockAttemptRunning)
                return;
            _electionInProgress = true;
            _ = RunLockElectionAsync();
        });
    }

    private void BecomeLeader(string how)
    {
        var was = _leader;
        _leader = OwnPnn;
        _electionInProgress = false;
        _firstElection = false;
        if (was != OwnPnn)
            _log.Notice($"{how}, leader={OwnPnn}");
        SendMessage(Pnn.BroadcastConnected, Srvid.Leader, LeaderPayload(OwnPnn));
        ServeKeptTakeoverRequests();
        RequestLeaderCheck();
    }

    private async Task WatchLockAsync(ClusterMutex mutex)
    {
        try
        {
            await mutex.Lost;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
        }
        if (_lock != mutex)
            return; // released on purpose
        _lock = null;
        _log.Error("Cluster lock helper terminated");
        if (_leader == OwnPnn)
            _leader = Pnn.Unknown;
        if (CanBeLeader && !_shuttingDown)
            ForceElection("Cluster lock lost");
    }

    private void ReleaseClusterLock()
    {
        if (_lock is not { } m)
            return;
        _lock = null;
        _log.Notice("Releasing the cluster lock");
        m.Release();
    }

    // ---------------- election messages (no cluster lock) ----------------

    private void SendElectionMessage()
    {
        var connected = (uint)_nodes.Count(n => !n.Deleted && n.Connected);
        var msg = CanBeLeader
            ? new ElectionMessage(connected, Timeval.FromDateTimeOffset(_priorityTime), OwnPnn, Own.Flags)
            : new ElectionMessage(0, Timeval.FromDateTimeOffset(_time.GetUtcNow()), OwnPnn, Own.Flags);
        SendMessage(Pnn.BroadcastAll, Srvid.Election, msg.ToBytes());
    }

    private void ArmElectionTimeout(TimeSpan timeout)
    {
        _electionTimer.Arm(timeout, () =>
        {
            _electionInProgress = false;
            _firstElection = false;
            _log.Notice($"Election period ended, leader={(int)_leader}");
            if (_leader == OwnPnn)
                BecomeLeader("Won election");
        });
    }

    private void ReceiveElection(uint src, byte[] data)
    {
        if (HaveClusterLock)
            return;
        ElectionMessage em;
        try
        {
            em = ElectionMessage.FromBytes(data);
        }
        catch (ProtocolException)
        {
            return;
        }
        if (em.Pnn == OwnPnn)
            return;
        _electionInProgress = true;
        ArmElectionTimeout(_firstElection && _settings.FastStart
            ? TimeSpan.FromMilliseconds(500)
            : TimeSpan.FromSeconds(Math.Max(1u, Tunables.ElectionTimeout)));
        if (IWinAgainst(em))
        {
            _leader = OwnPnn;
            if (!_electionSendTimer.Armed)
            {
                _electionSendTimer.Arm(TimeSpan.FromMilliseconds(500), () =>
                {
                    if (_leader == OwnPnn)
                        SendElectionMessage();
                });
            }
        }
        else
        {
            _electionSendTimer.Cancel();
            _leader = em.Pnn;
        }
    }

    private bool IWinAgainst(ElectionMessage em)
    {
        if (!CanBeLeader)
            return false;
        if ((em.NodeFlags & NodeFlags.Inactive) != 0)
            return true;
        var mine = Timeval.FromDateTimeOffset(_priorityTime);
        var theirs = em.PriorityTime;
        if (mine.Sec != theirs.Sec)
            return mine.Sec < theirs.Sec;
        if (mine.Usec != theirs.Usec)
            return mine.Usec < theirs.Usec;
        return OwnPnn > em.Pnn;
    }
}
