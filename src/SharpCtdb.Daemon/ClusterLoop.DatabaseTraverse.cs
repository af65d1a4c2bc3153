using SharpCtdb.Daemon.Databases;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>A cluster-wide traverse this node started for one of its clients (§12.8).</summary>
internal sealed class TraverseState
{
    public required uint Id { get; init; }
    public required ClusterDatabase Db { get; init; }
    public required ClientConnection Client { get; init; }
    public required uint ClientReqId { get; init; }
    public required ulong Srvid { get; init; }
    public int Expected { get; set; }
    public int EndMarkers { get; set; }
    public ITimer? Timer { get; set; }
}

/// <summary>
/// Traverse (§12.8): TRAVERSE_START(_EXT) from a client fans out TRAVERSE_ALL(_EXT) to the nodes that hold
/// authoritative copies; each node reads its tdb and streams TRAVERSE_DATA back; the originator forwards every record
/// to the client's srvid and ends with an empty rec_data. Unlike 4.17 no child process is forked: a node reads its file
/// in the loop under a non-blocking all-record read lock (retried while a client holds a chain).
/// </summary>
internal sealed partial class ClusterLoop
{
    private readonly Dictionary<uint, TraverseState> _traverses = [];
    private uint _nextTraverseId;

    private ControlResult TraverseStartControl(ControlRequest req, TraverseStartExt t, bool ext)
    {
        if (req.Client is not { } client)
            return ControlResult.Fail("TRAVERSE_START needs a client");
        if (Databases.Find(t.DbId) is not { } db)
            return ControlResult.Fail($"Unknown database 0x{t.DbId:x8}");
        if (!db.Local.IsHealthy && Tunables["AllowUnhealthyDBRead"] == 0)
            return ControlResult.Fail($"database {db.Name} is unhealthy");
        do
        {
            _nextTraverseId++;
        }
        while (_nextTraverseId == 0 || _traverses.ContainsKey(_nextTraverseId));
        var state = new TraverseState { Id = _nextTraverseId, Db = db, Client = client, ClientReqId = t.ReqId, Srvid = t.Srvid };
        _traverses[state.Id] = state;

        List<uint> targets;
        if (db.IsVolatile)
        {
            targets = [.. _nodes.Where(n => !n.Deleted && (n.Flags & NodeFlags.Inactive) == 0).Select(n => n.Pnn)];
        }
        else
        {
            targets = [_vnnMap.Map.Length == 0 || _vnnMap.Map.Contains(OwnPnn) ? OwnPnn : _vnnMap.Map[0]];
        }
        state.Expected = targets.Count;
        state.Timer = After(TimeSpan.FromSeconds(Math.Max(1u, Tunables.TraverseTimeout)), () => TraverseTimedOut(state.Id));
        var all = new TraverseAllExt(db.Id, state.Id, OwnPnn, t.ReqId, t.Srvid, t.WithEmptyRecords);
        var (op, payload) = t.WithEmptyRecords && ext
            ? (ControlOpcode.TraverseAllExt, all.ToBytes())
            : (ControlOpcode.TraverseAll, new TraverseAll(db.Id, state.Id, OwnPnn, t.ReqId, t.Srvid).ToBytes());
        // The reply to the client goes first; the records follow as messages.
        _loop.Post(() =>
        {
            foreach (var pnn in targets)
                _ = SendControlAsync(pnn, op, payload, 0, ControlFlags.NoReply);
        });
        return ControlResult.Ok();
    }

    private ControlResult TraverseAllControl(TraverseAllExt t)
    {
        if (Databases.Find(t.DbId) is not { } db)
            return ControlResult.Fail($"Unknown database 0x{t.DbId:x8}");
        TraverseLocal(db, t, 0);
        return ControlResult.Ok();
    }

    /// <summary>Reads this node's records and sends them (then the end marker) to the originator.</summary>
    private void TraverseLocal(ClusterDatabase db, TraverseAllExt t, int attempt)
    {
        if (db.Detached || _shuttingDown)
            return;
        var file = db.Local.File;
        if (!file.TryLockAllRead())
        {
            if (attempt * 20 < Tunables.TraverseTimeout * 1000)
                RetryLocked(n => TraverseLocal(db, t, n), attempt);
            return;
        }
        var records = new List<RecData>();
        try
        {
            db.Local.Traverse((key, header, data) =>
            {
                if (db.IsVolatile && (header.Dmaster != OwnPnn || (data.IsEmpty && !t.WithEmptyRecords)))
                    return true;
                records.Add(RecData.WithHeader(t.ReqId, key.ToArray(), header, data));
                return true;
            });
        }
        finally
        {
            file.UnlockAllRead();
        }
        records.Add(new RecData(t.ReqId, [], []));
        foreach (var r in records)
        {
            if (t.Pnn == OwnPnn)
                TraverseDataControl(r.ToBytes());
            else
                _ = SendControlAsync(t.Pnn, ControlOpcode.TraverseData, r.ToBytes(), 0, ControlFlags.NoReply);
        }
    }

    private ControlResult TraverseDataControl(byte[] d)
    {
        var rec = RecData.FromBytes(d);
        if (!_traverses.TryGetValue(rec.ReqId, out var state))
            return ControlResult.Fail($"Unknown traverse id {rec.ReqId}");
        if (state.Client.Closed)
        {
            EndTraverse(state, notifyClient: false);
            return ControlResult.Ok();
        }
        if (rec.IsEndMarker)
        {
            state.EndMarkers++;
            var activeNow = state.Db.IsVolatile
                ? _nodes.Count(n => !n.Deleted && (n.Flags & NodeFlags.Inactive) == 0)
                : 1;
            if (state.EndMarkers >= Math.Min(state.Expected, Math.Max(1, activeNow)))
                EndTraverse(state, notifyClient: true);
            return ControlResult.Ok();
        }
        SendToTraverseClient(state, new RecData(state.ClientReqId, rec.Key, rec.Data));
        return ControlResult.Ok();
    }

    private void SendToTraverseClient(TraverseState state, RecData rec)
    {
        var m = new ReqMessage(PacketHeader.Create(Operation.ReqMessage, OwnPnn, OwnPnn, 0), state.Srvid, rec.ToBytes());
        state.Client.Enqueue(m.Encode());
    }

    private void EndTraverse(TraverseState state, bool notifyClient)
    {
        if (!_traverses.Remove(state.Id))
            return;
        state.Timer?.Dispose();
        if (notifyClient && !state.Client.Closed)
            SendToTraverseClient(state, new RecData(state.ClientReqId, [], []));
    }

    private void TraverseTimedOut(uint id)
    {
        if (!_traverses.TryGetValue(id, out var state))
            return;
        _log.Error($"Traverse of {state.Db.Name} timed out after {Tunables.TraverseTimeout} s; output truncated");
        EndTraverse(state, notifyClient: true);
        var kill = new TraverseStart(state.Db.Id, state.ClientReqId, state.Srvid).ToBytes();
        foreach (var n in ConnectedNodes)
        {
            if (n.Pnn != OwnPnn)
                _ = SendControlAsync(n.Pnn, ControlOpcode.TraverseKill, kill, 0, ControlFlags.NoReply);
        }
    }

    /// <summary>TRAVERSE_KILL: our node-side traverses run to completion at once, so there is nothing to stop.</summary>
    private static ControlResult TraverseKillControl(byte[] d)
    {
        _ = TraverseStart.FromBytes(d);
        return ControlResult.Ok();
    }

    // ---- SCHEDULE_FOR_DELETION (§12.5.1) ----

    private ControlResult ScheduleForDeletion(byte[] d)
    {
        var kd = KeyData.FromBytes(d);
        if (Databases.Find(kd.DbId) is not { } db)
            return ControlResult.Fail($"Unknown database 0x{kd.DbId:x8}");
        if (db.IsVolatile)
            QueueForDeletion(db, kd.Key, kd.Header);
        return ControlResult.Ok();
    }

    /// <summary>Lifecycle hooks of a db (vacuum scheduling etc.).</summary>
    private void OnDatabaseAttached(ClusterDatabase db) =>
        db.NextVacuum = _time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(1u, Tunables.VacuumInterval));

    private void OnDatabaseDetaching(ClusterDatabase db)
    {
        foreach (var c in _calls.Values.Where(c => c.Db == db).ToList())
            _calls.Remove(c.ReqId);
        foreach (var t in _traverses.Values.Where(t => t.Db == db).ToList())
            EndTraverse(t, notifyClient: true);
        db.FrozenQueue.Clear();
        db.InFlightFetches.Clear();
        db.DeleteQueue.Clear();
    }
}
