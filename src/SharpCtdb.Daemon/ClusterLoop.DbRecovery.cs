using System.Globalization;
using SharpCtdb.Daemon.Databases;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon;

/// <summary>
/// Database recovery (behaviour §12.7): the node-side freeze / thaw / transaction / wipe / pull / push controls and the
/// leader's per-database recovery run inside <see cref="RecoverAsync"/>.
/// Differences from 4.17: a volatile db is frozen by this daemon's own handle taking the tdb all-record lock with
/// non-blocking attempts (4.17 forks a lock helper); persistent and replicated dbs are frozen logically only (clients
/// write them solely through TRANS3_COMMIT, which a frozen db or recovery mode refuses). The recovery transaction is
/// staged in memory and applied at DB_TRANSACTION_COMMIT (persistent/replicated inside a tdb transaction).
/// </summary>
internal sealed partial class ClusterLoop
{
    private const int MaxDbRecoveryAttempts = 3;
    // Recovery push/pull srvids live in a range no client uses (clients use 0xBE.. and the well-known 0xF0..0xFF tops).
    private const ulong RecoveryPushSrvidBase = 0xF500000000000000;
    private const ulong RecoveryPullSrvidBase = 0xF600000000000000;

    private readonly Dictionary<ulong, Action<uint, byte[]>> _dbMessageHandlers = [];

    /// <summary>Controls of this file and ClusterLoop.Persistent.cs; null = not ours.</summary>
    private ValueTask<ControlResult>? TryDispatchDbRecoveryControl(ControlRequest req)
    {
        static ValueTask<ControlResult> Done(ControlResult r) => ValueTask.FromResult(r);
        var d = req.Data;
        return req.Opcode switch
        {
            ControlOpcode.DbFreeze => FreezeDbControlAsync(ReadDbId(d, "DB_FREEZE")),
            ControlOpcode.Freeze => FreezeAllAsync(),
            ControlOpcode.DbThaw => ThawDbControlAsync(ReadDbId(d, "DB_THAW")),
            ControlOpcode.DbTransactionStart => Done(DbTransactionStart(TransDb.FromBytes(d))),
            ControlOpcode.DbTransactionCommit => DbTransactionCommit(TransDb.FromBytes(d)),
            ControlOpcode.DbTransactionCancel => Done(DbTransactionCancel(ReadDbId(d, "DB_TRANSACTION_CANCEL"))),
            ControlOpcode.WipeDatabase => Done(WipeDatabase(TransDb.FromBytes(d))),
            ControlOpcode.DbPull => Done(DbPull(req.SrcNode, PullDbExt.FromBytes(d))),
            ControlOpcode.DbPushStart => Done(DbPushStart(PullDbExt.FromBytes(d))),
            ControlOpcode.DbPushConfirm => Done(DbPushConfirm(ReadDbId(d, "DB_PUSH_CONFIRM"))),
            ControlOpcode.DbSetHealthy => Done(DbSetHealthy(ReadDbId(d, "DB_SET_HEALTHY"))),
            ControlOpcode.Trans3Commit => Trans3CommitAsync(req),
            ControlOpcode.UpdateRecord => UpdateRecordAsync(req),
            _ => null,
        };
    }

    /// <summary>Messages for a started push or a leader's pull; true if consumed.</summary>
    private bool TryHandleDbRecoveryMessage(uint src, ulong srvid, byte[] data)
    {
        if (!_dbMessageHandlers.TryGetValue(srvid, out var handler))
            return false;
        handler(src, data);
        return true;
    }

    private static uint ReadDbId(byte[] d, string what)
    {
        if (d.Length < 4)
            throw new ProtocolException($"{what}: expected a db_id, got {d.Length} bytes");
        return new WireReader(d).U32();
    }

    private TimeSpan FreezeTimeout => TimeSpan.FromSeconds(Math.Clamp(Tunables.RecoverTimeout, 1u, 30u));

    // ================= node side =================

    private ValueTask<ControlResult> FreezeDbControlAsync(uint dbId) =>
        Databases.Find(dbId) is { } db ? FreezeDbAsync(db) : ValueTask.FromResult(ControlResult.Fail($"Unknown database 0x{dbId:x8}"));

    /// <summary>DB_FREEZE: replies once the db is frozen. Volatile dbs take the all-record lock, retried without ever
    /// blocking the loop on a client's chain lock.</summary>
    private async ValueTask<ControlResult> FreezeDbAsync(ClusterDatabase db)
    {
        if (db.FreezeState == DatabaseFreezeState.Frozen)
            return ControlResult.Ok();
        if (db.FreezeState == DatabaseFreezeState.Thawed)
        {
            db.FreezeState = DatabaseFreezeState.Freezing;
            db.FreezeEpoch++;
            if (!db.IsVolatile)
            {
                db.FreezeState = DatabaseFreezeState.Frozen;
                _log.Info($"Frozen database {db.Name}");
                return ControlResult.Ok();
            }
        }
        var epoch = db.FreezeEpoch;
        var deadline = _time.GetUtcNow() + FreezeTimeout;
        var wait = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            if (db.Detached || db.FreezeEpoch != epoch || db.FreezeState == DatabaseFreezeState.Thawed)
                return ControlResult.Fail($"freeze of {db.Name} was cancelled");
            if (db.FreezeState == DatabaseFreezeState.Frozen)
                return ControlResult.Ok();
            try
            {
                if (db.Local.File.TryLockAll())
                {
                    db.HoldsFreezeLock = true;
                    db.FreezeState = DatabaseFreezeState.Frozen;
                    _log.Info($"Frozen database {db.Name}");
                    return ControlResult.Ok();
                }
            }
            catch (TdbException e)
            {
                db.FreezeState = DatabaseFreezeState.Thawed;
                return ControlResult.Fail($"freeze of {db.Name} failed: {e.Message}");
            }
            if (_time.GetUtcNow() >= deadline)
            {
                _log.Error($"Unable to get DB lock on database {db.Name} for {FreezeTimeout.TotalSeconds:F0} seconds");
                db.FreezeState = DatabaseFreezeState.Thawed;
                return ControlResult.Fail($"timed out freezing {db.Name}");
            }
            await Delay(wait);
            wait = TimeSpan.FromMilliseconds(Math.Min(wait.TotalMilliseconds * 2, 20));
        }
    }

    /// <summary>FREEZE: every db (4.17 also invalidates volatile records when a node goes inactive; not done here).</summary>
    private async ValueTask<ControlResult> FreezeAllAsync()
    {
        foreach (var db in Databases.All)
        {
            var r = await FreezeDbAsync(db);
            if (!r.Success)
                return r;
        }
        return ControlResult.Ok();
    }

    private async ValueTask<ControlResult> ThawDbControlAsync(uint dbId)
    {
        if (Databases.Find(dbId) is not { } db)
            return ControlResult.Fail($"Unknown database 0x{dbId:x8}");
        // The leader sends DB_THAW right behind DB_TRANSACTION_COMMIT: a commit still waiting for its tdb transaction
        // finishes first instead of being cancelled by the thaw.
        if (db.RecoveryCommit is { IsCompleted: false } commit)
            await commit;
        ThawDatabase(db);
        return ControlResult.Ok();
    }

    /// <summary>DB_THAW: drop an open recovery transaction and push, release the lock, let queued calls run.</summary>
    private void ThawDatabase(ClusterDatabase db)
    {
        db.Transaction = null;
        EndPush(db);
        if (db.HoldsFreezeLock)
        {
            db.HoldsFreezeLock = false;
            try
            {
                db.Local.File.UnlockAll();
            }
            catch (TdbException e)
            {
                _log.Error($"Failed to unlock database {db.Name}: {e.Message}");
            }
        }
        var was = db.FreezeState;
        db.FreezeState = DatabaseFreezeState.Thawed;
        db.FreezeEpoch++;
        if (was != DatabaseFreezeState.Thawed)
        {
            _log.Info($"Thawed database {db.Name}");
            OnDatabaseThawed(db);
            WakeCommitWaiters();
        }
    }

    /// <summary>SET_RECMODE(NORMAL) thaws whatever is still frozen; commits waiting for it go ahead.</summary>
    private void ThawAllDatabases()
    {
        if (_databases is not null)
        {
            foreach (var db in Databases.All)
            {
                if (db.FreezeState != DatabaseFreezeState.Thawed)
                    ThawDatabase(db);
            }
        }
        WakeCommitWaiters();
    }

    private ClusterDatabase? FrozenDb(uint dbId, string what, out ControlResult error)
    {
        error = default;
        if (Databases.Find(dbId) is not { } db)
        {
            error = ControlResult.Fail($"{what}: unknown database 0x{dbId:x8}");
            return null;
        }
        if (db.FreezeState != DatabaseFreezeState.Frozen)
        {
            error = ControlResult.Fail($"{what}: database {db.Name} is not frozen");
            return null;
        }
        return db;
    }

    private ControlResult DbTransactionStart(TransDb t)
    {
        if (FrozenDb(t.DbId, "DB_TRANSACTION_START", out var error) is not { } db)
            return error;
        if (db.Transaction is not null)
            _log.Info($"Cancelling the old recovery transaction of {db.Name}");
        db.Transaction = new RecoveryTransaction(t.Tid);
        return ControlResult.Ok();
    }

    private ClusterDatabase? InTransaction(TransDb t, string what, out ControlResult error)
    {
        if (FrozenDb(t.DbId, what, out error) is not { } db)
            return null;
        if (db.Transaction is null || db.Transaction.Tid != t.Tid)
        {
            error = ControlResult.Fail($"{what}: no transaction {t.Tid} on {db.Name}");
            return null;
        }
        return db;
    }

    private ControlResult WipeDatabase(TransDb t)
    {
        if (InTransaction(t, "WIPE_DATABASE", out var error) is not { } db)
            return error;
        db.Transaction!.Wipe = true;
        db.Transaction.Buffers.Clear();
        return ControlResult.Ok();
    }

    private ControlResult DbTransactionCancel(uint dbId)
    {
        if (Databases.Find(dbId) is not { } db)
            return ControlResult.Fail($"Unknown database 0x{dbId:x8}");
        db.Transaction = null;
        return ControlResult.Ok();
    }

    private ValueTask<ControlResult> DbTransactionCommit(TransDb t)
    {
        var commit = DbTransactionCommitAsync(t);
        if (!commit.IsCompleted && Databases.Find(t.DbId) is { } db)
            db.RecoveryCommit = commit;
        return new ValueTask<ControlResult>(commit);
    }

    /// <summary>DB_TRANSACTION_COMMIT: apply the staged wipe and records; the db's generation becomes the tid.</summary>
    private async Task<ControlResult> DbTransactionCommitAsync(TransDb t)
    {
        if (InTransaction(t, "DB_TRANSACTION_COMMIT", out var error) is not { } db)
            return error;
        var tx = db.Transaction!;
        if (db.IsVolatile)
        {
            // Volatile files are wiped at every start anyway; the freeze lock keeps clients out while we write.
            try
            {
                PersistentStore.ApplyRecoveryBuffers(db.Local, tx.Wipe, tx.Buffers);
            }
            catch (TdbException e)
            {
                return ControlResult.Fail($"recovery commit of {db.Name} failed: {e.Message}");
            }
        }
        else if (tx.Wipe && PersistentStore.RecoveryChangesNothing(db.Local, tx.Buffers))
        {
            _log.Debug($"Recovery of {db.Name} leaves it unchanged; nothing written");
        }
        else
        {
            if (!await StartTdbTransactionAsync(db))
                return ControlResult.Fail($"could not start a transaction on {db.Name}");
            if (db.Transaction != tx)
            {
                CancelTdbTransaction(db);
                return ControlResult.Fail($"recovery transaction of {db.Name} was cancelled");
            }
            try
            {
                PersistentStore.ApplyRecoveryBuffers(db.Local, tx.Wipe, tx.Buffers);
                db.Local.File.TransactionCommit();
            }
            catch (TdbException e)
            {
                CancelTdbTransaction(db);
                return ControlResult.Fail($"recovery commit of {db.Name} failed: {e.Message}");
            }
        }
        db.Transaction = null;
        db.Generation = t.Tid;
        db.Local.MarkHealthy();
        return ControlResult.Ok();
    }

    /// <summary>tdb_transaction_start without ever blocking the loop: non-blocking attempts until the freeze timeout.
    /// Only synchronous code may run between a successful start and the commit/cancel.</summary>
    private async Task<bool> StartTdbTransactionAsync(ClusterDatabase db)
    {
        var deadline = _time.GetUtcNow() + FreezeTimeout;
        var wait = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            if (db.Detached)
                return false;
            try
            {
                if (db.Local.File.TryTransactionStart())
                    return true;
            }
            catch (TdbException e)
            {
                _log.Error($"tdb_transaction_start on {db.Name} failed: {e.Message}");
                return false;
            }
            if (_time.GetUtcNow() >= deadline)
                return false;
            await Delay(wait);
            wait = TimeSpan.FromMilliseconds(Math.Min(wait.TotalMilliseconds * 2, 20));
        }
    }

    private void CancelTdbTransaction(ClusterDatabase db)
    {
        try
        {
            if (db.Local.File.TransactionActive)
                db.Local.File.TransactionCancel();
        }
        catch (TdbException e)
        {
            _log.Error($"tdb_transaction_cancel on {db.Name} failed: {e.Message}");
        }
    }

    /// <summary>DB_PULL: every record (empty ones included, header in the data) as rec_buffers to the puller's srvid;
    /// replies the count. The messages travel ahead of the reply on the same connection. Records go from the tdb
    /// traverse straight into the message buffer (no per-record objects).</summary>
    private ControlResult DbPull(uint requester, PullDbExt p)
    {
        if (FrozenDb(p.DbId, "DB_PULL", out var error) is not { } db)
            return error;
        var w = new RecBufferWriter(db.Id, RecBufferLimit);
        var count = 0u;
        try
        {
            db.Local.File.TraverseRead((key, value) =>
            {
                if (value.Length < LtdbRecord.HeaderSize)
                    return true;
                w.Add(key, value);
                count++;
                if (w.IsFull)
                    SendMessage(requester, p.Srvid, w.Take());
                return true;
            });
        }
        catch (TdbException e)
        {
            return ControlResult.Fail($"DB_PULL of {db.Name} failed: {e.Message}");
        }
        if (w.Count > 0)
            SendMessage(requester, p.Srvid, w.Take());
        return ControlResult.Ok(U32(count));
    }

    private int RecBufferLimit => (int)Math.Clamp(Tunables.RecBufferSizeLimit, 1000u, 64u * 1024 * 1024);

    private ControlResult DbPushStart(PullDbExt p)
    {
        if (FrozenDb(p.DbId, "DB_PUSH_START", out var error) is not { } db)
            return error;
        EndPush(db);
        db.PushSrvid = p.Srvid;
        db.PushCount = 0;
        _dbMessageHandlers[p.Srvid] = (src, data) => ReceivePush(db, src, data);
        return ControlResult.Ok();
    }

    private void ReceivePush(ClusterDatabase db, uint src, byte[] data)
    {
        if (db.Transaction is null || db.FreezeState != DatabaseFreezeState.Frozen)
        {
            _log.Error($"DB_PUSH data for {db.Name} outside a recovery transaction; dropped");
            return;
        }
        // Validate the whole buffer before keeping it: a malformed one is dropped entire (the confirm count then
        // differs and the leader retries).
        uint count = 0;
        try
        {
            var r = new RecBufferReader(data);
            while (r.Next(out _, out var rec))
            {
                if (rec.Length < LtdbHeader.Size)
                    throw new ProtocolException("record without an ltdb header");
                count++;
            }
        }
        catch (ProtocolException e)
        {
            _log.Error($"Bad DB_PUSH data for {db.Name} from node {src}: {e.Message}");
            return;
        }
        db.Transaction.Buffers.Add(data);
        db.PushCount += count;
    }

    private ControlResult DbPushConfirm(uint dbId)
    {
        if (FrozenDb(dbId, "DB_PUSH_CONFIRM", out var error) is not { } db)
            return error;
        if (db.PushSrvid is null)
            return ControlResult.Fail($"DB_PUSH_CONFIRM: no push started on {db.Name}");
        var count = db.PushCount;
        EndPush(db);
        return ControlResult.Ok(U32(count));
    }

    private void EndPush(ClusterDatabase db)
    {
        if (db.PushSrvid is { } srvid)
            _dbMessageHandlers.Remove(srvid);
        db.PushSrvid = null;
    }

    private ControlResult DbSetHealthy(uint dbId)
    {
        if (Databases.Find(dbId) is not { } db)
            return ControlResult.Fail($"Unknown database 0x{dbId:x8}");
        db.Local.MarkHealthy();
        return ControlResult.Ok();
    }

    // ================= leader side =================

    /// <summary>
    /// §12.7.1 step 4: recover every database of the active nodes, in parallel, each up to 3 attempts. False = the
    /// recovery failed (the caller leaves need-recovery set, so the next leader check tries again).
    /// </summary>
    private async Task<bool> RecoverDatabasesAsync(List<uint> active, uint generation)
    {
        var maps = await GatherDataAsync(active, ControlOpcode.GetDbMap, [], static d => DbIdMap.FromBytes(d));
        if (maps is null)
            return false;
        var dbs = new SortedDictionary<uint, (DbFlags Flags, List<uint> Nodes)>();
        foreach (var pnn in active)
        {
            foreach (var e in maps[pnn].Dbs)
            {
                var kind = e.Flags & (DbFlags.Persistent | DbFlags.Replicated);
                if (dbs.TryGetValue(e.DbId, out var known))
                {
                    if (known.Flags != kind)
                    {
                        _log.Error($"Recovery: database 0x{e.DbId:x8} has flags 0x{(uint)known.Flags:x} on one node and 0x{(uint)kind:x} on node {pnn}");
                        return false;
                    }
                    known.Nodes.Add(pnn);
                }
                else
                {
                    dbs[e.DbId] = (kind, [pnn]);
                }
            }
        }
        if (dbs.Count == 0)
            return true;
        var t0 = _time.GetTimestamp();
        var credits = new Dictionary<uint, int>();
        void Blame(uint pnn) => credits[pnn] = credits.GetValueOrDefault(pnn) + 1;
        var results = await Task.WhenAll(dbs.Select(kv => RecoverDatabaseAsync(kv.Key, kv.Value.Flags, kv.Value.Nodes, active, generation, Blame)));
        var ok = results.All(r => r);
        _log.Notice($"Recovery of {dbs.Count} database(s) {(ok ? "done" : "FAILED")} in {_time.GetElapsedTime(t0).TotalMilliseconds:F0} ms");
        if (!ok)
            BanWorstRecoveryCulprit(credits);
        return ok;
    }

    /// <summary>§5.3 step 8: the node with the most helper credits (attach, name, freeze or pull failures) is banned for
    /// RecoveryBanPeriod when it has at least 3 and is still connected.</summary>
    private void BanWorstRecoveryCulprit(Dictionary<uint, int> credits)
    {
        if (Tunables.EnableBans == 0 || credits.Count == 0)
            return;
        var (pnn, count) = credits.MaxBy(kv => kv.Value);
        if (count < 3 || NodeOrNull(pnn) is not { Connected: true } node || (node.Flags & NodeFlags.Inactive) != 0)
            return;
        var period = Tunables.RecoveryBanPeriod;
        _log.Notice($"Banning node {pnn} for {period} seconds: {count} database recovery failures");
        _ = SendControlAsync(pnn, ControlOpcode.SetBanState, new BanState(pnn, period).ToBytes(), timeout: RecoverTimeout);
    }

    private async Task<bool> RecoverDatabaseAsync(uint dbId, DbFlags flags, List<uint> haveIt, List<uint> active, uint generation,
        Action<uint> blame)
    {
        for (var attempt = 1; attempt <= MaxDbRecoveryAttempts; attempt++)
        {
            if (_leader != OwnPnn || _shuttingDown)
                return false;
            var error = await RecoverDatabaseOnceAsync(dbId, flags, haveIt, active, generation, blame);
            if (error is null)
                return true;
            _log.Error($"Recovery of database 0x{dbId:x8} failed (attempt {attempt}): {error}");
            // A node that went away fails every further attempt; stop early and let the next recovery drop it.
            if (active.Any(p => NodeOrNull(p) is not { Connected: true }))
                return false;
        }
        return false;
    }

    /// <summary>
    /// One attempt of §12.7.2; null = success, else what failed. The steps are 4.17's, but each node goes through
    /// them as a pipeline instead of every step being a barrier across all nodes: controls to one node are sent
    /// back to back where the node answers them in order (4.17 and this daemon both handle a node's controls in
    /// arrival order, and the ones pipelined here complete synchronously once the db is frozen). Barriers remain
    /// where the protocol needs them: every pull before the push (the merged set), every push confirmed before any
    /// commit. Three round trips per volatile db instead of nine; the push is skipped when nothing is left to push.
    /// </summary>
    private async Task<string?> RecoverDatabaseOnceAsync(uint dbId, DbFlags flags, List<uint> haveIt, List<uint> active, uint generation,
        Action<uint> blame)
    {
        var t0 = _time.GetTimestamp();
        if (await AttachMissingAsync(dbId, flags, haveIt, active, blame) is { } fa)
            return fa;

        var idBytes = U32(dbId);
        var trans = new TransDb(dbId, generation).ToBytes();
        var isVolatile = (flags & (DbFlags.Persistent | DbFlags.Replicated)) == 0;
        var set = new RecoveryRecordSet(dbId, isVolatile, OwnPnn);
        var prepared = await Task.WhenAll(active.Select(pnn => FreezeAndPullAsync(pnn, idBytes, trans, isVolatile ? set : null)));
        for (var i = 0; i < prepared.Length; i++)
        {
            if (prepared[i].Error is { } pe)
            {
                if (prepared[i].Blame)
                    blame(active[i]);
                return pe;
            }
        }
        var tFrozen = _time.GetTimestamp();
        if (!isVolatile)
        {
            // Whole-db copy from the node with the highest seqnum (lowest pnn on ties).
            var max = prepared.Max(p => p.Seqnum);
            var source = active.Select((pnn, i) => (pnn, i)).Where(x => prepared[x.i].Seqnum == max).Min(x => x.pnn);
            if (await PullAsync(source, dbId, set) is { } pf)
            {
                blame(source);
                return pf;
            }
            _log.Info($"Recovery: database 0x{dbId:x8} from node {source} (seqnum {max})");
        }
        var tPulled = _time.GetTimestamp();

        var buffers = set.ToPushBuffers(RecBufferLimit);
        var pushCount = (uint)set.PushCount;
        var srvid = RecoveryPushSrvidBase | ((ulong)(generation & 0xFFFFFF) << 32) | dbId;
        var pushed = await Task.WhenAll(active.Select(pnn => WipeAndPushAsync(pnn, dbId, trans, srvid, buffers, pushCount)));
        if (pushed.FirstOrDefault(e => e is not null) is { } pushError)
            return pushError;
        var tPushed = _time.GetTimestamp();

        var committed = await Task.WhenAll(active.Select(pnn => CommitAndThawAsync(pnn, idBytes, trans)));
        if (committed.FirstOrDefault(e => e is not null) is { } commitError)
            return commitError;
        double Ms(long a, long b) => _time.GetElapsedTime(a, b).TotalMilliseconds;
        _log.Info(string.Create(CultureInfo.InvariantCulture,
            $"Recovered database 0x{dbId:x8} ({pushCount} records) in {Ms(t0, _time.GetTimestamp()):F0} ms: frozen {Ms(t0, tFrozen):F0}, "
            + $"pulled {Ms(tFrozen, tPulled):F0}, pushed {Ms(tPulled, tPushed):F0}, committed and thawed {Ms(tPushed, _time.GetTimestamp()):F0}"));
        return null;
    }

    /// <summary>§12.7.2 steps 1–2 for the nodes that lack the db. The name is only needed for them: it comes from the
    /// leader's own attachment when it has one (the bytes GET_DBNAME would return), else from a node that has it.</summary>
    private async Task<string?> AttachMissingAsync(uint dbId, DbFlags flags, List<uint> haveIt, List<uint> active, Action<uint> blame)
    {
        var missing = active.Except(haveIt).ToList();
        if (missing.Count == 0)
            return null;
        byte[] nameBytes;
        if (haveIt.Contains(OwnPnn) && Databases.Find(dbId) is { } own)
        {
            nameBytes = CString(own.Name);
        }
        else
        {
            var name = await SendControlAsync(haveIt[0], ControlOpcode.GetDbName, U32(dbId), timeout: RecoverTimeout);
            if (!name.Success)
            {
                blame(haveIt[0]);
                return $"GET_DBNAME on node {haveIt[0]}: {name.Error}";
            }
            nameBytes = name.Data;
        }
        var attachOp = (flags & DbFlags.Persistent) != 0 ? ControlOpcode.DbAttachPersistent
            : (flags & DbFlags.Replicated) != 0 ? ControlOpcode.DbAttachReplicated : ControlOpcode.DbAttach;
        var results = await Task.WhenAll(missing.Select(pnn =>
            SendControlAsync(pnn, attachOp, nameBytes, flags: ControlFlags.AttachRecovery, timeout: RecoverTimeout)));
        for (var i = 0; i < results.Length; i++)
        {
            if (!results[i].Success)
            {
                blame(missing[i]);
                return $"attach on node {missing[i]}: {results[i].Error}";
            }
            haveIt.Add(missing[i]);
        }
        return null;
    }

    /// <summary>
    /// §12.7.2 steps 4–6 on one node: DB_FREEZE, DB_TRANSACTION_START and (volatile) DB_PULL into <paramref name="pullInto"/>
    /// or (persistent/replicated) GET_DB_SEQNUM, sent in one go. A node that freezes at once (this daemon, unless a
    /// client holds a chain lock) answers all of them in one round trip; one whose freeze reply is deferred (4.17's
    /// lock helper) refuses the transaction as "not frozen", and the rest is sent again once the freeze reply is in.
    /// Re-pulling is harmless: the merge keeps one copy per key.
    /// </summary>
    private async Task<(string? Error, bool Blame, ulong Seqnum)> FreezeAndPullAsync(uint pnn, byte[] idBytes, byte[] trans,
        RecoveryRecordSet? pullInto)
    {
        var dbId = new WireReader(idBytes).U32();
        var freeze = SendControlAsync(pnn, ControlOpcode.DbFreeze, idBytes, timeout: RecoverTimeout);
        var start = SendControlAsync(pnn, ControlOpcode.DbTransactionStart, trans, timeout: RecoverTimeout);
        var read = ReadAfterStart(pnn, dbId, pullInto);
        var frozen = await freeze;
        var started = await start;
        var (error, seqnum) = await read;
        if (!frozen.Success)
            return ($"DB_FREEZE on node {pnn}: {frozen.Status} {frozen.Error}", true, 0);
        if (!started.Success)
        {
            started = await SendControlAsync(pnn, ControlOpcode.DbTransactionStart, trans, timeout: RecoverTimeout);
            if (!started.Success)
                return ($"DB_TRANSACTION_START on node {pnn}: {started.Status} {started.Error}", false, 0);
            (error, seqnum) = await ReadAfterStart(pnn, dbId, pullInto);
        }
        return (error, error is not null && pullInto is not null, seqnum);
    }

    private async Task<(string? Error, ulong Seqnum)> ReadAfterStart(uint pnn, uint dbId, RecoveryRecordSet? pullInto)
    {
        if (pullInto is not null)
            return (await PullAsync(pnn, dbId, pullInto), 0);
        var r = await SendControlAsync(pnn, ControlOpcode.GetDbSeqnum, new WireWriter(8).U32(dbId).U32(0).ToArray(), timeout: RecoverTimeout);
        if (!r.Success || r.Data.Length < 8)
            return ($"GET_DB_SEQNUM on node {pnn}: {r.Status} {r.Error}", 0);
        return (null, new WireReader(r.Data).U64());
    }

    /// <summary>§12.7.2 steps 7–8 on one node, pipelined: WIPE_DATABASE, DB_PUSH_START, the rec_buffers, DB_PUSH_CONFIRM
    /// (which must count every pushed record). With nothing to push only the wipe is sent.</summary>
    private async Task<string?> WipeAndPushAsync(uint pnn, uint dbId, byte[] trans, ulong srvid, List<byte[]> buffers, uint pushCount)
    {
        var wipe = SendControlAsync(pnn, ControlOpcode.WipeDatabase, trans, timeout: RecoverTimeout);
        if (pushCount == 0)
            return Failure(pnn, ControlOpcode.WipeDatabase, await wipe);
        var start = SendControlAsync(pnn, ControlOpcode.DbPushStart, new PullDbExt(dbId, OwnPnn, srvid).ToBytes(), timeout: RecoverTimeout);
        foreach (var bytes in buffers)
            SendMessage(pnn, srvid, bytes);
        var confirm = SendControlAsync(pnn, ControlOpcode.DbPushConfirm, U32(dbId), timeout: RecoverTimeout);
        if (Failure(pnn, ControlOpcode.WipeDatabase, await wipe) is { } f1)
            return f1;
        if (Failure(pnn, ControlOpcode.DbPushStart, await start) is { } f2)
            return f2;
        var c = await confirm;
        if (Failure(pnn, ControlOpcode.DbPushConfirm, c) is { } f3)
            return f3;
        var count = c.Data.Length >= 4 ? new WireReader(c.Data).U32() : uint.MaxValue;
        return count == pushCount ? null : $"node {pnn} received {count} of {pushCount} pushed records";
    }

    /// <summary>§12.7.2 steps 9–10 on one node, pipelined: DB_TRANSACTION_COMMIT then DB_THAW (this daemon's thaw waits for
    /// a commit still in progress; 4.17 commits synchronously). A failed commit fails the attempt, which freezes again.</summary>
    private async Task<string?> CommitAndThawAsync(uint pnn, byte[] idBytes, byte[] trans)
    {
        var commit = SendControlAsync(pnn, ControlOpcode.DbTransactionCommit, trans, timeout: RecoverTimeout);
        var thaw = SendControlAsync(pnn, ControlOpcode.DbThaw, idBytes, timeout: RecoverTimeout);
        return Failure(pnn, ControlOpcode.DbTransactionCommit, await commit) ?? Failure(pnn, ControlOpcode.DbThaw, await thaw);
    }

    private static string? Failure(uint pnn, ControlOpcode op, ControlResult r) =>
        r.Success ? null : $"{ControlNames.Of(op)} on node {pnn}: {r.Status} {r.Error}";

    /// <summary>DB_PULL from one node into the set; null = ok. The node's count must match what arrived.</summary>
    private async Task<string?> PullAsync(uint pnn, uint dbId, RecoveryRecordSet set)
    {
        var srvid = RecoveryPullSrvidBase | ((ulong)pnn << 32) | dbId;
        uint received = 0;
        string? bad = null;
        _dbMessageHandlers[srvid] = (src, data) =>
        {
            try
            {
                received += (uint)set.AddBuffer(data);
            }
            catch (ProtocolException e)
            {
                bad = e.Message;
            }
        };
        try
        {
            var r = await SendControlAsync(pnn, ControlOpcode.DbPull, new PullDbExt(dbId, OwnPnn, srvid).ToBytes(), timeout: RecoverTimeout);
            if (!r.Success)
                return $"DB_PULL on node {pnn}: {r.Error}";
            if (bad is not null)
                return $"DB_PULL from node {pnn}: {bad}";
            var count = r.Data.Length >= 4 ? new WireReader(r.Data).U32() : uint.MaxValue;
            return count == received ? null : $"DB_PULL from node {pnn}: {received} of {count} records arrived";
        }
        finally
        {
            _dbMessageHandlers.Remove(srvid);
        }
    }

    private async Task<Dictionary<uint, T>?> GatherDataAsync<T>(List<uint> nodes, ControlOpcode op, byte[] data, Func<byte[], T> parse)
    {
        var results = await Task.WhenAll(nodes.Select(p => SendControlAsync(p, op, data, timeout: RecoverTimeout)));
        var d = new Dictionary<uint, T>();
        for (var i = 0; i < results.Length; i++)
        {
            if (!results[i].Success)
            {
                _log.Warning($"{ControlNames.Of(op)} failed on node {nodes[i]} ({results[i].Status} {results[i].Error})");
                return null;
            }
            try
            {
                d[nodes[i]] = parse(results[i].Data);
            }
            catch (ProtocolException e)
            {
                _log.Warning($"{ControlNames.Of(op)} from node {nodes[i]}: {e.Message}");
                return null;
            }
        }
        return d;
    }
}
