namespace SharpCtdb.Protocol;

/// <summary>
/// ctdb_statistics (STATISTICS reply, 488 bytes; also the elements of GET_STAT_HISTORY). Mutable so that a daemon can
/// count into one instance; field order is the wire order.
/// </summary>
public sealed record CtdbStatistics : IWireType<CtdbStatistics>
{
    public const int Size = 488;
    public const int BucketCount = 16;

    public uint NumClients { get; set; }
    public uint Frozen { get; set; }
    public uint Recovering { get; set; }
    public uint ClientPacketsSent { get; set; }
    public uint ClientPacketsRecv { get; set; }
    public uint NodePacketsSent { get; set; }
    public uint NodePacketsRecv { get; set; }
    public uint KeepalivePacketsSent { get; set; }
    public uint KeepalivePacketsRecv { get; set; }

    // Packets received from other nodes, by operation.
    public uint NodeReqCall { get; set; }
    public uint NodeReplyCall { get; set; }
    public uint NodeReqDmaster { get; set; }
    public uint NodeReplyDmaster { get; set; }
    public uint NodeReplyError { get; set; }
    public uint NodeReqMessage { get; set; }
    public uint NodeReqControl { get; set; }
    public uint NodeReplyControl { get; set; }
    public uint NodeReqTunnel { get; set; }

    // Packets received from local clients, by operation.
    public uint ClientReqCall { get; set; }
    public uint ClientReqMessage { get; set; }
    public uint ClientReqControl { get; set; }
    public uint ClientReqTunnel { get; set; }

    public uint TimeoutsCall { get; set; }
    public uint TimeoutsControl { get; set; }
    public uint TimeoutsTraverse { get; set; }

    public LatencyCounter ReclockCtdbd { get; set; } = LatencyCounter.Empty;
    public LatencyCounter ReclockRecd { get; set; } = LatencyCounter.Empty;

    public uint LocksNumCalls { get; set; }
    public uint LocksNumCurrent { get; set; }
    public uint LocksNumPending { get; set; }
    public uint LocksNumFailed { get; set; }
    public LatencyCounter LocksLatency { get; set; } = LatencyCounter.Empty;
    public uint[] LocksBuckets { get; set; } = new uint[BucketCount];

    public uint TotalCalls { get; set; }
    public uint PendingCalls { get; set; }
    public uint ChildwriteCalls { get; set; }
    public uint PendingChildwriteCalls { get; set; }
    public uint MemoryUsed { get; set; }
    /// <summary>__last_counter: a marker field in the C struct, carried for byte fidelity.</summary>
    public uint LastCounter { get; set; }

    public uint MaxHopCount { get; set; }
    public uint[] HopCountBucket { get; set; } = new uint[BucketCount];

    public LatencyCounter CallLatency { get; set; } = LatencyCounter.Empty;
    public LatencyCounter ChildwriteLatency { get; set; } = LatencyCounter.Empty;

    public uint NumRecoveries { get; set; }

    public Timeval StatisticsStartTime { get; set; }
    public Timeval StatisticsCurrentTime { get; set; }

    public uint TotalRoDelegations { get; set; }
    public uint TotalRoRevokes { get; set; }

    public void Write(WireWriter w)
    {
        w.U32(NumClients).U32(Frozen).U32(Recovering).U32(ClientPacketsSent).U32(ClientPacketsRecv)
         .U32(NodePacketsSent).U32(NodePacketsRecv).U32(KeepalivePacketsSent).U32(KeepalivePacketsRecv);
        w.U32(NodeReqCall).U32(NodeReplyCall).U32(NodeReqDmaster).U32(NodeReplyDmaster).U32(NodeReplyError)
         .U32(NodeReqMessage).U32(NodeReqControl).U32(NodeReplyControl).U32(NodeReqTunnel);
        w.U32(ClientReqCall).U32(ClientReqMessage).U32(ClientReqControl).U32(ClientReqTunnel);
        w.U32(TimeoutsCall).U32(TimeoutsControl).U32(TimeoutsTraverse).U32(0);
        ReclockCtdbd.Write(w);
        ReclockRecd.Write(w);
        w.U32(LocksNumCalls).U32(LocksNumCurrent).U32(LocksNumPending).U32(LocksNumFailed);
        LocksLatency.Write(w);
        WireCodec.WriteU32s(w, LocksBuckets, BucketCount, "statistics locks buckets");
        w.U32(TotalCalls).U32(PendingCalls).U32(ChildwriteCalls).U32(PendingChildwriteCalls).U32(MemoryUsed).U32(LastCounter);
        w.U32(MaxHopCount);
        WireCodec.WriteU32s(w, HopCountBucket, BucketCount, "statistics hop count buckets");
        w.U32(0);
        CallLatency.Write(w);
        ChildwriteLatency.Write(w);
        w.U32(NumRecoveries).U32(0);
        StatisticsStartTime.Write(w);
        StatisticsCurrentTime.Write(w);
        w.U32(TotalRoDelegations).U32(TotalRoRevokes);
    }

    public static CtdbStatistics Read(ref WireReader r)
    {
        if (r.Remaining < Size)
            throw new ProtocolException($"statistics: need {Size} bytes, have {r.Remaining}");
        var s = new CtdbStatistics
        {
            NumClients = r.U32(),
            Frozen = r.U32(),
            Recovering = r.U32(),
            ClientPacketsSent = r.U32(),
            ClientPacketsRecv = r.U32(),
            NodePacketsSent = r.U32(),
            NodePacketsRecv = r.U32(),
            KeepalivePacketsSent = r.U32(),
            KeepalivePacketsRecv = r.U32(),
            NodeReqCall = r.U32(),
            NodeReplyCall = r.U32(),
            NodeReqDmaster = r.U32(),
            NodeReplyDmaster = r.U32(),
            NodeReplyError = r.U32(),
            NodeReqMessage = r.U32(),
            NodeReqControl = r.U32(),
            NodeReplyControl = r.U32(),
            NodeReqTunnel = r.U32(),
            ClientReqCall = r.U32(),
            ClientReqMessage = r.U32(),
            ClientReqControl = r.U32(),
            ClientReqTunnel = r.U32(),
            TimeoutsCall = r.U32(),
            TimeoutsControl = r.U32(),
            TimeoutsTraverse = r.U32(),
        };
        r.Skip(4);
        s.ReclockCtdbd = LatencyCounter.Read(ref r);
        s.ReclockRecd = LatencyCounter.Read(ref r);
        s.LocksNumCalls = r.U32();
        s.LocksNumCurrent = r.U32();
        s.LocksNumPending = r.U32();
        s.LocksNumFailed = r.U32();
        s.LocksLatency = LatencyCounter.Read(ref r);
        s.LocksBuckets = WireCodec.ReadU32s(ref r, BucketCount);
        s.TotalCalls = r.U32();
        s.PendingCalls = r.U32();
        s.ChildwriteCalls = r.U32();
        s.PendingChildwriteCalls = r.U32();
        s.MemoryUsed = r.U32();
        s.LastCounter = r.U32();
        s.MaxHopCount = r.U32();
        s.HopCountBucket = WireCodec.ReadU32s(ref r, BucketCount);
        r.Skip(4);
        s.CallLatency = LatencyCounter.Read(ref r);
        s.ChildwriteLatency = LatencyCounter.Read(ref r);
        s.NumRecoveries = r.U32();
        r.Skip(4);
        s.StatisticsStartTime = Timeval.Read(ref r);
        s.StatisticsCurrentTime = Timeval.Read(ref r);
        s.TotalRoDelegations = r.U32();
        s.TotalRoRevokes = r.U32();
        return s;
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static CtdbStatistics FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<CtdbStatistics>(data);
}

/// <summary>statistics_list (GET_STAT_HISTORY reply): i32 num, pad 4, statistics[num].</summary>
public sealed record StatisticsList(IReadOnlyList<CtdbStatistics> Stats) : IWireType<StatisticsList>
{
    public void Write(WireWriter w)
    {
        w.I32(Stats.Count).U32(0);
        foreach (var s in Stats)
            s.Write(w);
    }

    public static StatisticsList Read(ref WireReader r)
    {
        var n = r.I32();
        r.Skip(4);
        if (n < 0 || n > r.Remaining / CtdbStatistics.Size)
            throw new ProtocolException($"statistics_list count {n} does not fit in {r.Remaining} bytes");
        return new StatisticsList(WireCodec.ReadElements<CtdbStatistics>(ref r, n));
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static StatisticsList FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<StatisticsList>(data);
}

/// <summary>One hot key of <see cref="DbStatistics"/>: how often it was fetched, and the key bytes.</summary>
public sealed record HotKey(uint Count, byte[] Key);

/// <summary>
/// GET_DB_STATISTICS reply: fixed 464 bytes (with 10 hot-key slots of {u32 count, pad 4, 8 ignored bytes, u64 keylen}),
/// then the keys' bytes back to back.
/// </summary>
public sealed record DbStatistics : IWireType<DbStatistics>
{
    public const int FixedSize = 464;
    public const int MaxHotKeys = 10;
    public const int BucketCount = 16;

    public uint LocksNumCalls { get; set; }
    public uint LocksNumCurrent { get; set; }
    public uint LocksNumPending { get; set; }
    public uint LocksNumFailed { get; set; }
    public LatencyCounter LocksLatency { get; set; } = LatencyCounter.Empty;
    public uint[] LocksBuckets { get; set; } = new uint[BucketCount];
    public LatencyCounter VacuumLatency { get; set; } = LatencyCounter.Empty;
    public uint DbRoDelegations { get; set; }
    public uint DbRoRevokes { get; set; }
    public uint[] HopCountBucket { get; set; } = new uint[BucketCount];

    /// <summary>num_hot_keys as sent (the real writer always sends 10).</summary>
    public uint NumHotKeys { get; set; } = MaxHotKeys;

    /// <summary>The 10 hot-key slots (unused slots have count 0 and an empty key).</summary>
    public IReadOnlyList<HotKey> HotKeys { get; set; } = Enumerable.Range(0, MaxHotKeys).Select(_ => new HotKey(0, [])).ToArray();

    /// <summary>
    /// The 8 bytes per slot that hold a C pointer in the daemon's memory. Meaningless to a reader; carried only so that
    /// a decoded reply re-encodes byte for byte. Null = zeros.
    /// </summary>
    public ulong[]? HotKeyPointerBytes { get; set; }

    public void Write(WireWriter w)
    {
        if (HotKeys.Count > MaxHotKeys)
            throw new ProtocolException($"db_statistics: {HotKeys.Count} hot keys, at most {MaxHotKeys}");
        w.U32(LocksNumCalls).U32(LocksNumCurrent).U32(LocksNumPending).U32(LocksNumFailed);
        LocksLatency.Write(w);
        WireCodec.WriteU32s(w, LocksBuckets, BucketCount, "db_statistics locks buckets");
        VacuumLatency.Write(w);
        w.U32(DbRoDelegations).U32(DbRoRevokes);
        WireCodec.WriteU32s(w, HopCountBucket, BucketCount, "db_statistics hop count buckets");
        w.U32(NumHotKeys).U32(0);
        for (var i = 0; i < MaxHotKeys; i++)
        {
            var k = i < HotKeys.Count ? HotKeys[i] : new HotKey(0, []);
            var ptr = HotKeyPointerBytes is { } p && i < p.Length ? p[i] : 0;
            w.U32(k.Count).U32(0).U64(ptr).U64((ulong)k.Key.Length);
        }
        for (var i = 0; i < HotKeys.Count; i++)
            w.Bytes(HotKeys[i].Key);
    }

    public static DbStatistics Read(ref WireReader r)
    {
        if (r.Remaining < FixedSize)
            throw new ProtocolException($"db_statistics: need {FixedSize} bytes, have {r.Remaining}");
        var s = new DbStatistics
        {
            LocksNumCalls = r.U32(),
            LocksNumCurrent = r.U32(),
            LocksNumPending = r.U32(),
            LocksNumFailed = r.U32(),
        };
        s.LocksLatency = LatencyCounter.Read(ref r);
        s.LocksBuckets = WireCodec.ReadU32s(ref r, BucketCount);
        s.VacuumLatency = LatencyCounter.Read(ref r);
        s.DbRoDelegations = r.U32();
        s.DbRoRevokes = r.U32();
        s.HopCountBucket = WireCodec.ReadU32s(ref r, BucketCount);
        s.NumHotKeys = r.U32();
        r.Skip(4);
        var counts = new uint[MaxHotKeys];
        var lengths = new ulong[MaxHotKeys];
        var pointers = new ulong[MaxHotKeys];
        for (var i = 0; i < MaxHotKeys; i++)
        {
            counts[i] = r.U32();
            r.Skip(4);
            pointers[i] = r.U64();
            lengths[i] = r.U64();
        }
        var keys = new HotKey[MaxHotKeys];
        for (var i = 0; i < MaxHotKeys; i++)
        {
            if (lengths[i] > (ulong)r.Remaining)
                throw new ProtocolException($"db_statistics hot key {i} length {lengths[i]} exceeds remaining {r.Remaining} bytes");
            keys[i] = new HotKey(counts[i], r.Bytes((int)lengths[i]).ToArray());
        }
        s.HotKeys = keys;
        s.HotKeyPointerBytes = pointers.Any(p => p != 0) ? pointers : null;
        return s;
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static DbStatistics FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<DbStatistics>(data);
}
