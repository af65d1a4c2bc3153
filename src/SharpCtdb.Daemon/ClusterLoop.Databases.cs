using SharpCtdb.Daemon.Databases;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon;

/// <summary>Databases (behaviour §12.1–12.2, §12.10): the registry, attach/detach and the per-db controls.</summary>
internal sealed partial class ClusterLoop
{
    private DatabaseRegistry? _databases;

    /// <summary>The node's databases (loop thread only); created at start-up.</summary>
    internal DatabaseRegistry Databases => _databases ??= DatabaseRegistry.Create(_settings.Config.Database, OwnPnn, Tunables, _log);

    /// <summary>
    /// Start-up (§12.2): the three directories must exist and every persistent db of this node is attached (a corrupt
    /// one stops the daemon). False = do not start.
    /// </summary>
    private bool StartDatabases()
    {
        if (Databases.MissingDirectory() is { } missing)
        {
            _log.Error($"Database directory '{missing}' does not exist");
            return false;
        }
        try
        {
            Databases.AttachPersistentDatabases(Generation);
        }
        catch (Exception e) when (e is DatabaseAttachException or IOException or TdbException)
        {
            _log.Error($"Failed to attach persistent databases: {e.Message}");
            return false;
        }
        StartPeriodic(TimeSpan.FromSeconds(1), DatabaseHousekeepingTick);
        return true;
    }

    /// <summary>Database controls served by this file; null = not a database control of ours.</summary>
    private ValueTask<ControlResult>? TryDispatchDatabaseControl(ControlRequest req)
    {
        static ValueTask<ControlResult> Done(ControlResult r) => ValueTask.FromResult(r);
        var d = req.Data;
        return req.Opcode switch
        {
            ControlOpcode.DbAttach => AttachControlAsync(req, DatabaseKind.Volatile),
            ControlOpcode.DbAttachPersistent => AttachControlAsync(req, DatabaseKind.Persistent),
            ControlOpcode.DbAttachReplicated => AttachControlAsync(req, DatabaseKind.Replicated),
            ControlOpcode.DbDetach => Done(DetachControl(req)),
            ControlOpcode.GetDbMap => Done(ControlResult.Ok(new DbIdMap([.. Databases.All.Select(db => new DbIdEntry(db.Id, db.Flags))]).ToBytes())),
            ControlOpcode.GetDbName => Done(WithDb(d, "GET_DBNAME", db => ControlResult.Ok(CString(db.Name)))),
            ControlOpcode.GetDbPath => Done(WithDb(d, "GETDBPATH", db => ControlResult.Ok(CString(db.Path)))),
            ControlOpcode.DbOpenFlags => Done(WithDb(d, "DB_OPEN_FLAGS", db => ControlResult.Ok(U32((uint)db.Local.OpenFlags)))),
            ControlOpcode.GetDbSeqnum => Done(GetDbSeqnum(d)),
            ControlOpcode.DbGetHealth => Done(WithDb(d, "DB_GET_HEALTH", db =>
                ControlResult.Ok(db.Local.UnhealthyReason is { } why ? CString(why) : []))),
            ControlOpcode.GetDbStatistics => Done(WithDb(d, "GET_DB_STATISTICS", db => ControlResult.Ok(db.Statistics().ToBytes()))),
            ControlOpcode.SetDbReadonly => Done(WithDb(d, "SET_DB_READONLY", db => db.Local.SetReadOnly()
                ? ControlResult.Ok() : ControlResult.Fail($"cannot set READONLY on non-volatile db {db.Name}"))),
            ControlOpcode.SetDbSticky => Done(WithDb(d, "SET_DB_STICKY", db => db.Local.SetSticky()
                ? ControlResult.Ok() : ControlResult.Fail($"cannot set STICKY on non-volatile db {db.Name}"))),
            ControlOpcode.EnableSeqnum => Done(WithDb(d, "ENABLE_SEQNUM", EnableSeqnum)),
            ControlOpcode.UpdateSeqnum => Done(WithDb(d, "UPDATE_SEQNUM", UpdateSeqnum)),
            ControlOpcode.ScheduleForDeletion => Done(ScheduleForDeletion(d)),
            ControlOpcode.TraverseStart => Done(TraverseStartControl(req, TraverseStart.FromBytes(d) is var t
                ? new TraverseStartExt(t.DbId, t.ReqId, t.Srvid, false) : null!, ext: false)),
            ControlOpcode.TraverseStartExt => Done(TraverseStartControl(req, TraverseStartExt.FromBytes(d), ext: true)),
            ControlOpcode.TraverseAll => Done(TraverseAllControl(TraverseAll.FromBytes(d) is var a
                ? new TraverseAllExt(a.DbId, a.ReqId, a.Pnn, a.ClientReqId, a.Srvid, false) : null!)),
            ControlOpcode.TraverseAllExt => Done(TraverseAllControl(TraverseAllExt.FromBytes(d))),
            ControlOpcode.TraverseData => Done(TraverseDataControl(d)),
            ControlOpcode.TraverseKill => Done(TraverseKillControl(d)),
            _ => null,
        };
    }

    private ControlResult WithDb(byte[] d, string what, Func<ClusterDatabase, ControlResult> action)
    {
        if (d.Length < 4)
            throw new ProtocolException($"{what}: expected a db_id, got {d.Length} bytes");
        var id = new WireReader(d).U32();
        return Databases.Find(id) is { } db ? action(db) : ControlResult.Fail($"Unknown database 0x{id:x8}");
    }

    // ---- attach / detach ----

    private static string ReadDbName(byte[] d, string what)
    {
        var name = WireReader.DecodeCString(d);
        if (name.Length == 0)
            throw new ProtocolException($"{what}: empty database name");
        return name;
    }

    private async ValueTask<ControlResult> AttachControlAsync(ControlRequest req, DatabaseKind kind)
    {
        var name = ReadDbName(req.Data, ControlNames.Of(req.Opcode));
        if (Tunables.AllowClientDBAttach == 0)
            return ControlResult.Fail("database attach is disabled (AllowClientDBAttach=0)");
        if (req.Client is not null)
        {
            if ((Own.Flags & NodeFlags.Inactive) != 0)
                return ControlResult.Fail($"node is inactive, attach of {name} refused");
            if ((req.Flags & ControlFlags.AttachRecovery) != 0)
            {
                if (_recMode != RecoveryMode.Active)
                    return ControlResult.Fail("attach with ATTACH_RECOVERY outside recovery");
            }
            else if (Databases.FindByName(name) is null && (_recMode == RecoveryMode.Active || _runState < RunState.Startup))
            {
                // 4.17 defers a client's attach until recovery is over (re-run 1 s after NORMAL), up to DeferredAttachTO.
                _log.Info($"Deferring attach of {name} until recovery has finished");
                var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(Tunables.DeferredAttachTO);
                while (_recMode == RecoveryMode.Active || _runState < RunState.Startup)
                {
                    if (_time.GetUtcNow() >= deadline || _shuttingDown)
                        return ControlResult.Fail($"deferred attach of {name} timed out");
                    await Delay(TimeSpan.FromSeconds(1));
                }
            }
        }
        ClusterDatabase db;
        bool isNew;
        try
        {
            db = Databases.Attach(name, kind, Generation, out isNew);
        }
        catch (DatabaseAttachException e)
        {
            _log.Error($"Failed to attach database {name}: {e.Message}");
            return ControlResult.Fail(e.Message);
        }
        catch (DatabaseNotEmptyException e)
        {
            // 4.17 aborts the daemon: a stale process still holds the old file open.
            _log.Error($"{e.Message}; ctdb exiting with error");
            Shutdown(1);
            return ControlResult.Fail(e.Message);
        }
        if (isNew)
        {
            OnDatabaseAttached(db);
            foreach (var n in ConnectedNodes)
            {
                if (n.Pnn != OwnPnn)
                    _ = SendControlAsync(n.Pnn, req.Opcode, req.Data, 0, ControlFlags.NoReply);
            }
        }
        return ControlResult.Ok(U32(db.Id));
    }

    private ControlResult DetachControl(ControlRequest req)
    {
        var id = ReadU32(req.Data, "DB_DETACH");
        if (Tunables.AllowClientDBAttach != 0)
            return ControlResult.Fail("DB_DETACH refused: AllowClientDBAttach is set");
        if (Databases.Find(id) is not { } db)
            return ControlResult.Fail($"Unknown database 0x{id:x8}");
        if (!db.IsVolatile)
            return ControlResult.Fail($"Cannot detach non-volatile database {db.Name}");
        if (_recMode == RecoveryMode.Active)
            return ControlResult.Fail("Cannot detach a database while in recovery");
        if (req.Client is not null)
        {
            // The real detach happens when the broadcast comes back from a daemon (including ourselves).
            foreach (var n in ConnectedNodes)
                _ = SendControlAsync(n.Pnn, ControlOpcode.DbDetach, req.Data, 0, ControlFlags.NoReply);
            if (!ConnectedNodes.Any(n => n.Pnn == OwnPnn))
                _ = SendControlAsync(OwnPnn, ControlOpcode.DbDetach, req.Data, 0, ControlFlags.NoReply);
            return ControlResult.Ok();
        }
        OnDatabaseDetaching(db);
        Databases.Detach(id);
        _log.Notice($"Detached database {db.Name} (0x{id:x8})");
        return ControlResult.Ok();
    }

    // ---- sequence numbers ----

    private ControlResult GetDbSeqnum(byte[] d)
    {
        if (d.Length < 4)
            throw new ProtocolException($"GET_DB_SEQNUM: expected 8 bytes, got {d.Length}");
        var id = new WireReader(d).U32();
        if (Databases.Find(id) is not { } db)
            return ControlResult.Fail($"Unknown database 0x{id:x8}");
        // 4.17 reads the record like any other (a missing one gets a header stored on persistent dbs) and takes the
        // value only if it is exactly 8 bytes.
        // Observed: on a volatile db nothing is stored.
        var value = db.IsPersistent ? FetchOrSynthesise(db, LtdbRecord.SequenceNumberKey, out _)
            : db.Local.File.Fetch(LtdbRecord.SequenceNumberKey) ?? [];
        var seq = value.Length == LtdbRecord.HeaderSize + 8 ? LtdbRecord.ReadSequenceNumber(value) : 0UL;
        return ControlResult.Ok(new WireWriter(8).U64(seq).ToArray());
    }

    private ControlResult EnableSeqnum(ClusterDatabase db)
    {
        if (!db.SeqnumEnabled)
        {
            db.Local.EnableSequenceNumber();
            db.SeqnumEnabled = true;
            db.LastSeqnum = db.Local.TdbSequenceNumber;
        }
        return ControlResult.Ok();
    }

    private static ControlResult UpdateSeqnum(ClusterDatabase db)
    {
        if (!db.Local.IsHealthy)
            return ControlResult.Fail($"database {db.Name} is unhealthy");
        db.Local.File.IncrementSequenceNumberNonblock();
        db.LastSeqnum = db.Local.TdbSequenceNumber;
        return ControlResult.Ok();
    }

    /// <summary>Every second: seqnum propagation (SeqnumInterval is checked per db) and stale-call resends.</summary>
    private void DatabaseHousekeepingTick()
    {
        if (_shuttingDown || _databases is null)
            return;
        var now = _time.GetUtcNow();
        foreach (var db in Databases.All)
        {
            if (!db.SeqnumEnabled || db.Detached || now - db.LastSeqnumCheck < TimeSpan.FromMilliseconds(Tunables.SeqnumInterval))
                continue;
            db.LastSeqnumCheck = now;
            var seq = db.Local.TdbSequenceNumber;
            if (seq == db.LastSeqnum)
                continue;
            db.LastSeqnum = seq;
            foreach (var n in ConnectedNodes)
            {
                if (n.Pnn != OwnPnn && _vnnMap.Map.Contains(n.Pnn))
                    _ = SendControlAsync(n.Pnn, ControlOpcode.UpdateSeqnum, U32(db.Id), 0, ControlFlags.NoReply);
            }
        }
        ResendStaleCalls();
        VacuumDueDatabases(now);
    }

    /// <summary>Called by the freeze/thaw code after <paramref name="db"/> went back to Thawed: parked calls run again and
    /// pending remote calls are resent (§12.4.5 11).</summary>
    internal void OnDatabaseThawed(ClusterDatabase db)
    {
        db.RunFrozenQueue();
        ResendPendingCalls(db);
    }
}
