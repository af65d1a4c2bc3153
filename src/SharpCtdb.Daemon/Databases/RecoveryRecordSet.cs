using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Databases;

/// <summary>
/// The leader's collection of one database's records during recovery (behaviour §12.7.2 steps 6 and 8): the merge of
/// the nodes' DB_PULL results and the record list pushed back. Pure; keyed by the raw key bytes.
/// </summary>
internal sealed class RecoveryRecordSet(uint dbId, bool isVolatile, uint leaderPnn)
{
    private readonly Dictionary<byte[], (LtdbHeader Header, byte[] Value)> _records = new(ByteArrayComparer.Instance);

    public uint DbId { get; } = dbId;

    public int Count => _records.Count;

    /// <summary>
    /// Adds one pulled record (data = ltdb header + value). Volatile: the incoming copy wins unless the stored one has a
    /// higher rsn, or an equal rsn and the leader as dmaster. Persistent/replicated dbs are pulled from one node only,
    /// so the incoming copy simply replaces. Records shorter than a header are ignored (false).
    /// </summary>
    public bool Add(RecData rec)
    {
        if (!rec.TrySplitHeader(out var header, out var value))
            return false;
        if (isVolatile && _records.TryGetValue(rec.Key, out var stored))
        {
            if (stored.Header.Rsn > header.Rsn)
                return true;
            if (stored.Header.Rsn == header.Rsn && stored.Header.Dmaster == leaderPnn)
                return true;
        }
        _records[rec.Key] = (header, value);
        return true;
    }

    /// <summary>Adds every record of a pulled rec_buffer; returns how many it carried.</summary>
    public int AddBuffer(RecBuffer buffer)
    {
        foreach (var rec in buffer.Records)
            Add(rec);
        return buffer.Records.Count;
    }

    /// <summary>
    /// What the leader pushes: empty (header-only) records vanish for every kind; volatile records get the leader as
    /// dmaster and MIGRATED_WITH_DATA, persistent/replicated headers stay as they are. Split into rec_buffers of at most
    /// about <paramref name="bufferLimit"/> bytes.
    /// </summary>
    public List<RecBuffer> ToPushBuffers(int bufferLimit)
    {
        var buffers = new List<RecBuffer>();
        var current = new List<RecData>();
        var size = 0;
        foreach (var (key, (header, value)) in _records)
        {
            if (value.Length == 0)
                continue;
            var h = isVolatile ? new LtdbHeader(header.Rsn, leaderPnn, header.Flags | LtdbHeader.FlagMigratedWithData) : header;
            var rec = RecData.WithHeader(0, key, h, value);
            current.Add(rec);
            size += rec.WireLength;
            if (size >= bufferLimit)
            {
                buffers.Add(new RecBuffer(DbId, current));
                current = [];
                size = 0;
            }
        }
        if (current.Count > 0)
            buffers.Add(new RecBuffer(DbId, current));
        return buffers;
    }

    /// <summary>Number of records <see cref="ToPushBuffers"/> sends (the DB_PUSH_CONFIRM count).</summary>
    public int PushCount => _records.Values.Count(r => r.Value.Length > 0);

    public bool TryGet(ReadOnlySpan<byte> key, out LtdbHeader header, out byte[] value)
    {
        if (_records.TryGetValue(key.ToArray(), out var r))
        {
            (header, value) = r;
            return true;
        }
        header = new LtdbHeader(0, 0);
        value = [];
        return false;
    }
}

/// <summary>Byte-wise key equality for dictionaries keyed by tdb keys.</summary>
internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        var h = new HashCode();
        h.AddBytes(obj);
        return h.ToHashCode();
    }
}
