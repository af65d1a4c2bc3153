using SharpCtdb.Protocol;

namespace SharpCtdb.Tdb;

/// <summary>The three kinds of CTDB database (behaviour §12.1).</summary>
public enum DatabaseKind
{
    Volatile,
    Persistent,
    Replicated,
}

/// <summary>Visits one CTDB record (header parsed, data after the header). Spans are valid only during the call.
/// Return true to continue.</summary>
public delegate bool LocalRecordVisitor(ReadOnlySpan<byte> key, LtdbHeader header, ReadOnlySpan<byte> data);

/// <summary>
/// One attached database on this node: its identity, kind, CTDB db flags and the open tdb file whose values carry the
/// 24-byte ltdb header. Same ownership rule as <see cref="TdbFile"/>: one owner, callers serialise access.
/// </summary>
public sealed class LocalDatabase : IDisposable
{
    internal LocalDatabase(string name, DatabaseKind kind, string path, TdbFile file)
    {
        Name = name;
        Id = DatabaseId.FromName(name);
        Kind = kind;
        Path = path;
        File = file;
        Flags = kind switch
        {
            DatabaseKind.Persistent => DbFlags.Persistent,
            DatabaseKind.Replicated => DbFlags.Replicated,
            _ => DbFlags.None,
        };
    }

    public string Name { get; }

    /// <summary>db_id (<see cref="DatabaseId.FromName"/>).</summary>
    public uint Id { get; }

    public DatabaseKind Kind { get; }

    /// <summary>The file path (what GETDBPATH returns).</summary>
    public string Path { get; }

    /// <summary>The open tdb handle.</summary>
    public TdbFile File { get; }

    /// <summary>GET_DBMAP flags: PERSISTENT / REPLICATED from the kind, READONLY / STICKY once set.</summary>
    public DbFlags Flags { get; private set; }

    /// <summary>DB_OPEN_FLAGS: tdb_get_flags of this handle (includes TDB_SEQNUM after <see cref="EnableSequenceNumber"/>).</summary>
    public int OpenFlags => File.Flags;

    public bool IsPersistent => Kind == DatabaseKind.Persistent;
    public bool IsReplicated => Kind == DatabaseKind.Replicated;
    public bool IsVolatile => Kind == DatabaseKind.Volatile;

    /// <summary>DB_GET_HEALTH: null when healthy, else the reason. Kept in memory only (ctdbd also records it in
    /// persistent_health.tdb.&lt;pnn&gt;, which nothing outside the daemon reads).</summary>
    public string? UnhealthyReason { get; private set; }

    public bool IsHealthy => UnhealthyReason is null;

    /// <summary>Marks the db unhealthy (e.g. a failed recovery or integrity check).</summary>
    public void MarkUnhealthy(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        UnhealthyReason = reason;
    }

    /// <summary>DB_SET_HEALTHY. Returns true if the db was unhealthy before (the daemon then may force recovery).</summary>
    public bool MarkHealthy()
    {
        var was = UnhealthyReason is not null;
        UnhealthyReason = null;
        return was;
    }

    /// <summary>SET_DB_READONLY: only for volatile dbs (false otherwise); idempotent.</summary>
    public bool SetReadOnly() => SetVolatileOnlyFlag(DbFlags.ReadOnly);

    /// <summary>SET_DB_STICKY: only for volatile dbs (false otherwise); idempotent.</summary>
    public bool SetSticky() => SetVolatileOnlyFlag(DbFlags.Sticky);

    /// <summary>The record for <paramref name="key"/>, or null if missing or shorter than the header
    /// (CTDB treats both as "no record").</summary>
    public LocalRecord? Fetch(ReadOnlySpan<byte> key)
    {
        var value = File.Fetch(key);
        if (value is null || value.Length < LtdbRecord.HeaderSize)
            return null;
        return LtdbRecord.Parse(key, value);
    }

    /// <summary>Just the header of <paramref name="key"/>'s record (null if missing/short).</summary>
    public LtdbHeader? FetchHeader(ReadOnlySpan<byte> key)
    {
        var value = File.Fetch(key);
        return value is not null && LtdbRecord.TryReadHeader(value, out var header) ? header : null;
    }

    /// <summary>Stores header + data verbatim (the daemon's store policy for volatile dbs lives in the daemon).</summary>
    public void Store(ReadOnlySpan<byte> key, LtdbHeader header, ReadOnlySpan<byte> data) =>
        File.Store(key, LtdbRecord.Build(header, data));

    /// <summary>Removes the tdb entry; false if it did not exist.</summary>
    public bool Delete(ReadOnlySpan<byte> key) => File.Delete(key);

    /// <summary>GET_DB_SEQNUM: the u64 stored under __db_sequence_number__ (0 if absent). Meaningful for
    /// persistent and replicated dbs.</summary>
    public ulong GetSequenceNumber()
    {
        var value = File.Fetch(LtdbRecord.SequenceNumberKey);
        return value is null ? 0 : LtdbRecord.ReadSequenceNumber(value);
    }

    /// <summary>ENABLE_SEQNUM: turn on the tdb-level sequence number on the daemon's handle.</summary>
    public void EnableSequenceNumber() => File.EnableSequenceNumber();

    /// <summary>The tdb-level sequence number (not the persistent-db counter).</summary>
    public int TdbSequenceNumber => File.SequenceNumber;

    /// <summary>Visits every record with a valid header; values shorter than the header are skipped, and so are
    /// header-only records unless <paramref name="includeEmpty"/>. Returns the number visited.</summary>
    public int Traverse(LocalRecordVisitor visitor, bool includeEmpty = true, bool readOnly = true)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        var visited = 0;
        bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            if (!LtdbRecord.TryReadHeader(value, out var header))
                return true;
            if (!includeEmpty && value.Length == LtdbRecord.HeaderSize)
                return true;
            visited++;
            return visitor(key, header, value[LtdbRecord.HeaderSize..]);
        }
        if (readOnly)
            File.TraverseRead(Visit);
        else
            File.Traverse(Visit);
        return visited;
    }

    /// <summary>All records (copied), e.g. for PULL_DB or a traverse reply.</summary>
    public List<LocalRecord> ReadRecords(bool includeEmpty = true)
    {
        var records = new List<LocalRecord>();
        Traverse((key, header, data) =>
        {
            records.Add(new LocalRecord(key.ToArray(), header, data.ToArray()));
            return true;
        }, includeEmpty);
        return records;
    }

    /// <summary>Number of tdb entries (any length).</summary>
    public int CountRecords() => File.Count();

    /// <summary>WIPE_DATABASE: delete every record.</summary>
    public void Wipe() => File.WipeAll();

    public void Dispose() => File.Dispose();

    public override string ToString() => $"{Name} (0x{Id:x8}, {Kind}, {Path})";

    private bool SetVolatileOnlyFlag(DbFlags flag)
    {
        if (Kind != DatabaseKind.Volatile)
            return false;
        Flags |= flag;
        return true;
    }
}
