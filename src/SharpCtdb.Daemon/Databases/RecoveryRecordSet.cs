using System.Buffers.Binary;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Databases;

/// <summary>
/// The leader's collection of one database's records during recovery (behaviour §12.7.2 steps 6 and 8): the merge of
/// the nodes' DB_PULL results and the record list pushed back. Pure; keyed by the raw key bytes.
/// </summary>
internal sealed class RecoveryRecordSet
{
    // Key → the record's data as pulled (ltdb header + value), one array per record; lookups by span allocate nothing.
    private readonly Dictionary<byte[], byte[]> _records = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], byte[]>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;
    private readonly bool _isVolatile;
    private readonly uint _leaderPnn;

    public RecoveryRecordSet(uint dbId, bool isVolatile, uint leaderPnn)
    {
        DbId = dbId;
        _isVolatile = isVolatile;
        _leaderPnn = leaderPnn;
        _bySpan = _records.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public uint DbId { get; }

    public int Count => _records.Count;

    /// <summary>Adds one pulled record (data = ltdb header + value); see <see cref="Add(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>.</summary>
    public bool Add(RecData rec) => Add(rec.Key, rec.Data);

    /// <summary>
    /// Adds one pulled record. Volatile: the incoming copy wins unless the stored one has a higher rsn, or an equal rsn
    /// and the leader as dmaster. Persistent/replicated dbs are pulled from one node only, so the incoming copy simply
    /// replaces. Records shorter than a header are ignored (false).
    /// </summary>
    public bool Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        if (data.Length < LtdbHeader.Size)
            return false;
        if (_isVolatile && _bySpan.TryGetValue(key, out var stored))
        {
            // Header fields read in place: rsn at 0, dmaster at 8.
            var storedRsn = BinaryPrimitives.ReadUInt64LittleEndian(stored);
            var rsn = BinaryPrimitives.ReadUInt64LittleEndian(data);
            if (storedRsn > rsn)
                return true;
            if (storedRsn == rsn && BinaryPrimitives.ReadUInt32LittleEndian(stored.AsSpan(8)) == _leaderPnn)
                return true;
        }
        _bySpan[key] = data.ToArray();
        return true;
    }

    /// <summary>Adds every record of a pulled rec_buffer; returns how many it carried.</summary>
    public int AddBuffer(RecBuffer buffer)
    {
        foreach (var rec in buffer.Records)
            Add(rec);
        return buffer.Records.Count;
    }

    /// <summary>Adds every record of a pulled rec_buffer message; returns how many it carried.</summary>
    public int AddBuffer(ReadOnlySpan<byte> buffer)
    {
        var r = new RecBufferReader(buffer);
        while (r.Next(out var key, out var data))
            Add(key, data);
        return (int)r.Count;
    }

    /// <summary>
    /// What the leader pushes, as serialised rec_buffers of at most about <paramref name="bufferLimit"/> bytes: empty
    /// (header-only) records vanish for every kind; volatile records get the leader as dmaster and MIGRATED_WITH_DATA,
    /// persistent/replicated headers stay as they are.
    /// </summary>
    public List<byte[]> ToPushBuffers(int bufferLimit)
    {
        var buffers = new List<byte[]>();
        var w = new RecBufferWriter(DbId, bufferLimit);
        foreach (var (key, data) in _records)
        {
            if (data.Length == LtdbHeader.Size)
                continue;
            if (_isVolatile)
                w.AddWithHeader(key, data, _leaderPnn, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(16)) | LtdbHeader.FlagMigratedWithData);
            else
                w.Add(key, data);
            if (w.IsFull)
                buffers.Add(w.Take());
        }
        if (w.Count > 0)
            buffers.Add(w.Take());
        return buffers;
    }

    /// <summary>Number of records <see cref="ToPushBuffers"/> sends (the DB_PUSH_CONFIRM count).</summary>
    public int PushCount => _records.Values.Count(d => d.Length > LtdbHeader.Size);

    public bool TryGet(ReadOnlySpan<byte> key, out LtdbHeader header, out byte[] value)
    {
        if (_bySpan.TryGetValue(key, out var data))
        {
            header = LtdbHeader.FromBytes(data.AsSpan(0, LtdbHeader.Size));
            value = data[LtdbHeader.Size..];
            return true;
        }
        header = new LtdbHeader(0, 0);
        value = [];
        return false;
    }
}

/// <summary>Byte-wise key equality for dictionaries keyed by tdb keys.</summary>
internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var h = new HashCode();
        h.AddBytes(alternate);
        return h.ToHashCode();
    }

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
