using SharpCtdb.Daemon.Databases;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon;

/// <summary>
/// Simple vacuuming (behaviour §12.5): every VacuumInterval, a volatile db's delete queue is walked in the loop (no
/// child process) and every queued record that is still empty, ours, unchanged (same rsn) and was never migrated with
/// data while this node is its lmaster is deleted from the tdb: no stale copy with data can exist elsewhere. Records
/// that did migrate with data (or that another node is lmaster of) stay until a recovery drops them; the cluster-wide
/// VACUUM_FETCH / TRY_DELETE_RECORDS protocol is not implemented.
/// </summary>
internal sealed partial class ClusterLoop
{
    private void VacuumDueDatabases(DateTimeOffset now)
    {
        if (_recMode != RecoveryMode.Normal)
            return;
        foreach (var db in Databases.All)
        {
            if (!db.IsVolatile || db.Detached || db.IsFrozen || now < db.NextVacuum)
                continue;
            db.NextVacuum = now + TimeSpan.FromSeconds(Math.Max(1u, Tunables.VacuumInterval));
            VacuumDeleteQueue(db);
        }
    }

    /// <summary>A shorter VacuumInterval takes effect now, not only after the run scheduled under the old one.</summary>
    private void VacuumIntervalChanged()
    {
        var next = _time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(1u, Tunables.VacuumInterval));
        foreach (var db in Databases.All)
        {
            if (db.NextVacuum > next)
                db.NextVacuum = next;
        }
    }

    /// <summary>Deletes what can be deleted locally; returns the number of records removed.</summary>
    private int VacuumDeleteQueue(ClusterDatabase db)
    {
        var deleted = 0;
        foreach (var (hash, entry) in db.DeleteQueue.ToList())
        {
            if (LmasterOf(entry.Key) != OwnPnn || (entry.Header.Flags & LtdbHeader.FlagMigratedWithData) != 0)
            {
                db.DeleteQueue.Remove(hash); // needs the cluster-wide protocol; recovery will drop it
                continue;
            }
            var file = db.Local.File;
            if (!file.TryChainLock(entry.Key))
                continue; // busy: next run
            try
            {
                db.DeleteQueue.Remove(hash);
                var value = file.Fetch(entry.Key);
                if (value is null || !LtdbRecord.TryReadHeader(value, out var h))
                    continue;
                if (value.Length != LtdbRecord.HeaderSize || h.Dmaster != OwnPnn || h.Rsn != entry.Header.Rsn
                    || (h.Flags & ((uint)RecordFlags.RoFlags | LtdbHeader.FlagMigratedWithData)) != 0)
                    continue;
                if (file.Delete(entry.Key))
                    deleted++;
            }
            finally
            {
                file.ChainUnlock(entry.Key);
            }
        }
        if (deleted > 0)
            _log.Info($"Vacuuming of {db.Name}: deleted {deleted} empty record(s)");
        return deleted;
    }
}
