using System.Buffers.Binary;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon.Databases;

/// <summary>
/// Applying replicated writes and recovery results to the local tdb (behaviour §12.6.3, §12.7.3). Pure tdb work; the
/// caller owns the handle (loop thread) and the transaction or lock around it.
/// </summary>
internal static class PersistentStore
{
    /// <summary>
    /// UPDATE_RECORD: checks and stores a TRANS3 batch inside the caller's open tdb transaction. Volatile dbs only replace
    /// keys that exist locally. A record whose local rsn is ≥ the new one while the data differs fails the whole batch
    /// (the caller cancels the transaction). Returns null on success, else the reason.
    /// </summary>
    public static string? ApplyUpdate(LocalDatabase db, RecBuffer batch)
    {
        foreach (var rec in batch.Records)
        {
            if (!rec.TrySplitHeader(out var header, out var value))
                return $"record of {rec.Data.Length} bytes has no ltdb header";
            var local = db.File.Fetch(rec.Key);
            if (db.IsVolatile && local is null)
                continue;
            if (local is not null && LtdbRecord.TryReadHeader(local, out var old) && old.Rsn >= header.Rsn &&
                !local.AsSpan(LtdbRecord.HeaderSize).SequenceEqual(value))
                return $"record rsn {header.Rsn} is not newer than the local rsn {old.Rsn} and the data differs";
            db.File.Store(rec.Key, rec.Data);
        }
        return null;
    }

    /// <summary>
    /// DB_TRANSACTION_COMMIT of a recovery: wipe (if asked) then store the pushed records. The sequence number record is
    /// stored last so that a crash half-way leaves a file that loses the next recovery's highest-seqnum vote.
    /// </summary>
    public static void ApplyRecovery(LocalDatabase db, bool wipe, IReadOnlyList<RecData> records)
    {
        var w = new RecBufferWriter(db.Id, int.MaxValue);
        foreach (var rec in records)
            w.Add(rec.Key, rec.Data);
        ApplyRecoveryBuffers(db, wipe, [w.Take()]);
    }

    /// <summary><see cref="ApplyRecovery"/> for the pushed rec_buffer messages as they arrived (already validated).</summary>
    public static void ApplyRecoveryBuffers(LocalDatabase db, bool wipe, IReadOnlyList<byte[]> buffers)
    {
        if (wipe)
            db.Wipe();
        byte[]? seqnum = null;
        foreach (var buffer in buffers)
        {
            var r = new RecBufferReader(buffer);
            while (r.Next(out var key, out var data))
            {
                if (key.SequenceEqual(LtdbRecord.SequenceNumberKey))
                {
                    seqnum = data.ToArray();
                    continue;
                }
                Store(db, key, data);
            }
        }
        if (seqnum is not null)
            Store(db, LtdbRecord.SequenceNumberKey, seqnum);
    }

    /// <summary>
    /// True when applying a wipe plus <paramref name="buffers"/> would leave the db exactly as it is: every pushed record
    /// is stored locally with the same bytes (after the read-only flags are dropped, as <see cref="Store"/> does) and the
    /// db holds no other record. A surviving node's persistent copy usually is the pushed one; skipping the write then
    /// saves a tdb transaction and its fsyncs.
    /// </summary>
    public static bool RecoveryChangesNothing(LocalDatabase db, IReadOnlyList<byte[]> buffers)
    {
        // Distinct pushed keys that match, against the db's record count: a key pushed twice must not hide a missing one.
        var keys = new HashSet<byte[]>(ByteArrayComparer.Instance);
        var lookup = keys.GetAlternateLookup<ReadOnlySpan<byte>>();
        foreach (var buffer in buffers)
        {
            var r = new RecBufferReader(buffer);
            while (r.Next(out var key, out var data))
            {
                if (!lookup.Add(key))
                    return false;
                if (db.File.Fetch(key) is not { } local || local.Length != data.Length)
                    return false;
                var flags = data.Length >= LtdbRecord.HeaderSize ? BinaryPrimitives.ReadUInt32LittleEndian(data[16..]) : 0;
                if ((flags & (uint)RecordFlags.RoFlags) == 0)
                {
                    if (!local.AsSpan().SequenceEqual(data))
                        return false;
                    continue;
                }
                var copy = data.ToArray();
                BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(16), flags & ~(uint)RecordFlags.RoFlags);
                if (!local.AsSpan().SequenceEqual(copy))
                    return false;
            }
        }
        return db.File.Count() == keys.Count;
    }

    /// <summary>Stores a pushed record; it loses its read-only delegation flags (a fresh start for delegations).</summary>
    private static void Store(LocalDatabase db, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        // Header fields read in place: no object per record on this path.
        var flags = data.Length >= LtdbRecord.HeaderSize ? BinaryPrimitives.ReadUInt32LittleEndian(data[16..]) : 0;
        if ((flags & (uint)RecordFlags.RoFlags) == 0)
        {
            db.File.Store(key, data);
            return;
        }
        var copy = data.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(16), flags & ~(uint)RecordFlags.RoFlags);
        db.File.Store(key, copy);
    }
}
