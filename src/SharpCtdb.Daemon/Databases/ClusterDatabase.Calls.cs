using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Databases;

/// <summary>One entry of a db's delete queue (§12.5.1): a header-only record some client or the daemon wants gone.</summary>
internal sealed record DeleteQueueEntry(byte[] Key, LtdbHeader Header);

/// <summary>Per-db state of the volatile call path, seqnum propagation and vacuuming (loop thread only).</summary>
internal sealed partial class ClusterDatabase
{
    /// <summary>Work parked while the db is frozen; run in order when it thaws.</summary>
    public List<Action> FrozenQueue { get; } = [];

    /// <summary>FetchCollapse: keys with a remote fetch in flight from this node → requests waiting for it.</summary>
    public Dictionary<string, List<Action>> InFlightFetches { get; } = new(StringComparer.Ordinal);

    /// <summary>Keys a REQ_DMASTER/REPLY_DMASTER is being processed for → REQ_CALLs from peers waiting for it.</summary>
    public Dictionary<string, List<Action>> DmasterInFlight { get; } = new(StringComparer.Ordinal);

    /// <summary>Delete queue by key hash (a different key with the same hash is not queued, as in 4.17).</summary>
    public Dictionary<uint, DeleteQueueEntry> DeleteQueue { get; } = [];

    /// <summary>Keys other nodes asked this lmaster to pull in and delete (VACUUM_FETCH).</summary>
    public Dictionary<string, byte[]> FetchQueue { get; } = new(StringComparer.Ordinal);

    public bool SeqnumEnabled { get; set; }
    public int LastSeqnum { get; set; }
    public DateTimeOffset LastSeqnumCheck { get; set; }
    public DateTimeOffset NextVacuum { get; set; }
    public bool Vacuuming { get; set; }

    /// <summary>hop_count_bucket of GET_DB_STATISTICS.</summary>
    public uint[] HopCountBuckets { get; } = new uint[DbStatistics.BucketCount];

    /// <summary>Identity of a key for the in-memory queues.</summary>
    public static string KeyId(ReadOnlySpan<byte> key) => Convert.ToBase64String(key);

    /// <summary>GET_DB_STATISTICS: what we count (hop counts); zeros elsewhere.</summary>
    public DbStatistics Statistics() => new() { HopCountBucket = (uint[])HopCountBuckets.Clone() };

    /// <summary>Runs and clears the work parked while frozen.</summary>
    public void RunFrozenQueue()
    {
        var work = FrozenQueue.ToArray();
        FrozenQueue.Clear();
        foreach (var w in work)
            w();
    }
}
