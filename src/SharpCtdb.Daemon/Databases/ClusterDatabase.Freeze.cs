
namespace SharpCtdb.Daemon.Databases;

/// <summary>Freeze, recovery-transaction and push state of one db (db-b; behaviour §12.7.3–12.7.4).</summary>
internal sealed partial class ClusterDatabase
{
    /// <summary>True while this daemon's handle holds the tdb all-record lock (volatile dbs while frozen), which makes
    /// clients' chain locks wait in the kernel until thaw.</summary>
    public bool HoldsFreezeLock { get; set; }

    /// <summary>Bumped by every freeze request and thaw, so a stale freeze poll stops.</summary>
    public int FreezeEpoch { get; set; }

    /// <summary>The open recovery transaction (DB_TRANSACTION_START .. COMMIT/CANCEL), or null.</summary>
    public RecoveryTransaction? Transaction { get; set; }

    /// <summary>The srvid of a started DB_PUSH (null when none).</summary>
    public ulong? PushSrvid { get; set; }

    /// <summary>Records received since DB_PUSH_START.</summary>
    public uint PushCount { get; set; }

    /// <summary>The last DB_TRANSACTION_COMMIT that had to wait for its tdb transaction (DB_THAW waits for it).</summary>
    public Task? RecoveryCommit { get; set; }

    /// <summary>A TRANS3_COMMIT of this db is in flight (one per db at a time).</summary>
    public bool CommitActive { get; set; }
}

/// <summary>
/// A recovery (or wipedb / restoredb) transaction: WIPE_DATABASE and pushed records are staged here and applied
/// atomically at DB_TRANSACTION_COMMIT.
/// </summary>
internal sealed class RecoveryTransaction(uint tid)
{
    public uint Tid { get; } = tid;

    public bool Wipe { get; set; }

    /// <summary>Pushed rec_buffer messages as they arrived (validated), applied at commit without per-record objects.</summary>
    public List<byte[]> Buffers { get; } = [];
}
