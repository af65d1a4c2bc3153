using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon.Databases;

/// <summary>Freeze state of one db (db-b's freeze/thaw drives it; the call path only reads it).</summary>
internal enum DatabaseFreezeState
{
    Thawed,
    Freezing,
    Frozen,
}

/// <summary>
/// One attached database and its loop-owned runtime state. Partial: each feature keeps its own fields in its own file
/// (ClusterDatabase.Calls.cs for the volatile call path; db-b's Persistent/Freeze/Recovery files).
/// </summary>
internal sealed partial class ClusterDatabase
{
    public ClusterDatabase(LocalDatabase local, uint generation)
    {
        Local = local;
        Generation = generation;
    }

    /// <summary>The tdb file and its identity.</summary>
    public LocalDatabase Local { get; }

    public uint Id => Local.Id;
    public string Name => Local.Name;
    public DatabaseKind Kind => Local.Kind;
    public string Path => Local.Path;
    public DbFlags Flags => Local.Flags;
    public bool IsVolatile => Local.IsVolatile;
    public bool IsPersistent => Local.IsPersistent;
    public bool IsReplicated => Local.IsReplicated;

    /// <summary>The db generation: the vnnmap generation at attach / at the end of the last recovery of this db.
    /// REQ_CALL/REQ_DMASTER/REPLY_DMASTER carry it; packets of another generation are dropped.</summary>
    public uint Generation { get; set; }

    /// <summary>Freeze state (placeholder owned by db-b's freeze/thaw code).</summary>
    public DatabaseFreezeState FreezeState { get; set; }

    public bool IsFrozen => FreezeState != DatabaseFreezeState.Thawed;

    /// <summary>True once the db was detached (late callbacks must not touch it).</summary>
    public bool Detached { get; set; }

    public override string ToString() => Local.ToString();
}
