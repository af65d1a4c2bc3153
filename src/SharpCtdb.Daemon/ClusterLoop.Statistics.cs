using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>
/// STATISTICS, STATISTICS_RESET and GET_STAT_HISTORY (4.17's ctdb_statistics). Two sets are kept as 4.17 does:
/// the cumulative one (reset only by STATISTICS_RESET) and the current interval's, which is pushed into the history
/// every StatHistoryInterval seconds (at most <see cref="MaxStatHistory"/> entries, newest first) and restarted.
/// Counters are bumped on the loop thread only (all packets and transport events pass through the loop).
/// Counted: client and node packets (by operation), keepalives sent and received, control timeouts, recoveries, the
/// cluster-lock take latency, client calls (total, pending, latency), hop counts. Not counted: locks (no lock helper:
/// a busy chain is retried on a timer), childwrite and read-only delegations (not implemented).
/// </summary>
internal sealed partial class ClusterLoop
{
    private const int MaxStatHistory = 100;

    private CtdbStatistics _stats = new();
    private CtdbStatistics _statsCurrent = new();
    private readonly List<CtdbStatistics> _statHistory = [];
    private ITimer? _statHistoryTimer;

    /// <summary>Bumps a counter in both the cumulative and the current-interval statistics (loop thread).</summary>
    internal void Stat(Action<CtdbStatistics> bump)
    {
        bump(_stats);
        bump(_statsCurrent);
    }

    private void InitStatistics()
    {
        var now = Timeval.FromDateTimeOffset(_time.GetUtcNow());
        _stats.StatisticsStartTime = now;
        _statsCurrent.StatisticsStartTime = now;
        ScheduleStatHistory();
    }

    private void ScheduleStatHistory()
    {
        var seconds = Math.Max(1u, Tunables["StatHistoryInterval"]);
        _statHistoryTimer?.Dispose();
        _statHistoryTimer = After(TimeSpan.FromSeconds(seconds), () =>
        {
            if (_shuttingDown)
                return;
            var done = _statsCurrent;
            done.StatisticsCurrentTime = Timeval.FromDateTimeOffset(_time.GetUtcNow());
            FillInstantaneous(done);
            _statHistory.Insert(0, done);
            if (_statHistory.Count > MaxStatHistory)
                _statHistory.RemoveAt(_statHistory.Count - 1);
            _statsCurrent = new CtdbStatistics { StatisticsStartTime = done.StatisticsCurrentTime };
            ScheduleStatHistory(); // re-read the tunable each interval
        });
    }

    /// <summary>Values that are sampled at request time rather than counted.</summary>
    private void FillInstantaneous(CtdbStatistics s)
    {
        s.NumClients = (uint)(_clients?.Count ?? 0);
        s.Recovering = _recoveryRunning || _recMode == RecoveryMode.Active ? 1u : 0u;
        s.Frozen = 0; // no databases to freeze yet
        s.MemoryUsed = (uint)Math.Min(uint.MaxValue, GC.GetTotalMemory(false));
        s.PendingCalls = _pendingClientCalls;
    }

    private ControlResult GetStatistics()
    {
        FillInstantaneous(_stats);
        _stats.StatisticsCurrentTime = Timeval.FromDateTimeOffset(_time.GetUtcNow());
        return ControlResult.Ok(_stats.ToBytes());
    }

    private ControlResult ResetStatistics()
    {
        _stats = new CtdbStatistics { StatisticsStartTime = Timeval.FromDateTimeOffset(_time.GetUtcNow()) };
        _log.Info("Statistics reset");
        return ControlResult.Ok();
    }

    private ControlResult GetStatHistory() => ControlResult.Ok(new StatisticsList([.. _statHistory]).ToBytes());

    // ---- counting hooks (one-line calls from Routing / PeerNetwork / ClientServer) ----

    private static readonly Action<CtdbStatistics> NodeRecv = static s => s.NodePacketsRecv++;
    private static readonly Action<CtdbStatistics> NodeSent = static s => s.NodePacketsSent++;
    private static readonly Action<CtdbStatistics> ClientRecv = static s => s.ClientPacketsRecv++;
    private static readonly Action<CtdbStatistics> ClientSent = static s => s.ClientPacketsSent++;
    private static readonly Action<CtdbStatistics> KeepaliveRecv = static s => s.KeepalivePacketsRecv++;
    private static readonly Action<CtdbStatistics> ControlTimeout = static s => s.TimeoutsControl++;
    private static readonly Action<CtdbStatistics> Recovery = static s => s.NumRecoveries++;

    /// <summary>A packet arrived from a peer daemon (keepalives are counted separately by the transport event).</summary>
    internal void CountNodePacketIn(Operation op)
    {
        Stat(NodeRecv);
        switch (op)
        {
            case Operation.ReqCall: Stat(static s => s.NodeReqCall++); break;
            case Operation.ReplyCall: Stat(static s => s.NodeReplyCall++); break;
            case Operation.ReqDmaster: Stat(static s => s.NodeReqDmaster++); break;
            case Operation.ReplyDmaster: Stat(static s => s.NodeReplyDmaster++); break;
            case Operation.ReplyError: Stat(static s => s.NodeReplyError++); break;
            case Operation.ReqMessage: Stat(static s => s.NodeReqMessage++); break;
            case Operation.ReqControl: Stat(static s => s.NodeReqControl++); break;
            case Operation.ReplyControl: Stat(static s => s.NodeReplyControl++); break;
            case Operation.ReqTunnel: Stat(static s => s.NodeReqTunnel++); break;
        }
    }

    internal void CountNodePacketOut() => Stat(NodeSent);

    internal void CountKeepaliveIn() => Stat(KeepaliveRecv);

    internal void CountKeepalivesOut(int n) => Stat(s => s.KeepalivePacketsSent += (uint)n);

    internal void CountClientPacketIn(Operation op)
    {
        Stat(ClientRecv);
        switch (op)
        {
            case Operation.ReqCall: Stat(static s => s.ClientReqCall++); break;
            case Operation.ReqMessage: Stat(static s => s.ClientReqMessage++); break;
            case Operation.ReqControl: Stat(static s => s.ClientReqControl++); break;
            case Operation.ReqTunnel: Stat(static s => s.ClientReqTunnel++); break;
        }
    }

    internal void CountClientPacketOut() => Stat(ClientSent);

    private void CountControlTimeout() => Stat(ControlTimeout);

    private void CountRecovery() => Stat(Recovery);

    private uint _pendingClientCalls;

    /// <summary>A client's REQ_CALL arrived: total_calls, and pending until answered (4.17 counts client calls only).</summary>
    private void StartClientCall(PendingCall c)
    {
        Stat(static s => s.TotalCalls++);
        _pendingClientCalls++;
        c.Started = Math.Max(1, _time.GetTimestamp());
    }

    /// <summary>A client's call was answered or dropped: no longer pending; its duration goes into call_latency.</summary>
    private void EndClientCall(PendingCall c)
    {
        if (c.Started == 0)
            return;
        var seconds = _time.GetElapsedTime(c.Started).TotalSeconds;
        c.Started = 0;
        _pendingClientCalls--;
        Stat(s => s.CallLatency = s.CallLatency.Add(seconds));
    }

    /// <summary>A REQ_CALL reached its dmaster after <paramref name="hops"/> hops: max_hop_count and the global buckets.</summary>
    private void CountHops(uint hops, int bucket) => Stat(s =>
    {
        s.MaxHopCount = Math.Max(s.MaxHopCount, hops);
        s.HopCountBucket[bucket]++;
    });

    private void CountReclockLatency(TimeSpan took)
    {
        var seconds = took.TotalSeconds;
        Stat(s => s.ReclockRecd = s.ReclockRecd.Add(seconds));
    }
}
