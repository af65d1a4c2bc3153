using SharpCtdb.Daemon.Databases;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon;

/// <summary>A record call waiting for a remote node (REQ_CALL sent, REPLY_DMASTER / REPLY_CALL awaited).</summary>
internal sealed class PendingCall
{
    public required ClusterDatabase Db { get; init; }
    public required byte[] Key { get; init; }
    public required uint CallId { get; init; }
    public required uint Flags { get; init; }
    public byte[] CallData { get; init; } = [];

    /// <summary>The local client waiting (null for the daemon's own calls, e.g. vacuum fetches).</summary>
    public ClientConnection? Client { get; init; }
    public uint ClientReqId { get; init; }

    /// <summary>Completion for the daemon's own calls: (status, reply data).</summary>
    public Action<int, byte[]>? Completed { get; init; }

    public uint ReqId { get; set; }
    public uint Generation { get; set; }

    /// <summary>When the client's REQ_CALL arrived (TimeProvider timestamp), for call_latency; 0 once answered or dropped.</summary>
    public long Started { get; set; }

    /// <summary>Computed once: the call path looks it up several times per call.</summary>
    public string KeyId => _keyId ??= ClusterDatabase.KeyId(Key);
    private string? _keyId;
}

/// <summary>
/// Volatile record access (behaviour §12.4): client REQ_CALLs, REQ_CALL routing between nodes, the REQ_DMASTER /
/// REPLY_DMASTER migration and 4.17's store rule. The loop never blocks on a tdb lock: a busy chain is retried on a
/// short timer (4.17 uses a lock helper process for the wait).
/// </summary>
internal sealed partial class ClusterLoop
{
    private readonly Dictionary<uint, PendingCall> _calls = [];
    private uint _nextCallReqId;

    private uint NextCallReqId()
    {
        do
        {
            _nextCallReqId++;
        }
        while (_nextCallReqId == 0 || _calls.ContainsKey(_nextCallReqId));
        return _nextCallReqId;
    }

    // Replies to local clients made while a chain lock is held go out only once it is released: a client woken by its
    // reply locks that chain at once (to use the record), and finding it still held it sleeps on the mutex and needs a
    // futex wake-up from us, two extra context switches per call.
    private int _chainLocksHeld;
    private readonly List<(ClientConnection Client, byte[] Packet)> _repliesAfterUnlock = [];

    private bool TryLockChain(TdbFile file, byte[] key)
    {
        if (!file.TryChainLock(key))
            return false;
        _chainLocksHeld++;
        return true;
    }

    private void UnlockChain(TdbFile file, byte[] key)
    {
        file.ChainUnlock(key);
        if (--_chainLocksHeld > 0 || _repliesAfterUnlock.Count == 0)
            return;
        foreach (var (client, packet) in _repliesAfterUnlock)
            client.Enqueue(packet);
        _repliesAfterUnlock.Clear();
    }

    private uint LmasterOf(ReadOnlySpan<byte> key) => _vnnMap.Map.Length == 0 ? OwnPnn : DatabaseId.Lmaster(key, _vnnMap.Map);

    /// <summary>
    /// Re-runs <paramref name="work"/> when a chain lock is busy (a client holds it): 50 µs, doubling to 20 ms. Clients
    /// hold a chain lock for microseconds (fetch, store, unlock), so the first retries are short; they run on the loop's
    /// own timer (4.17 waits in a lock helper child instead, which cannot share our robust-mutex locks).
    /// </summary>
    private void RetryLocked(Action<int> work, int attempt)
    {
        var delay = TimeSpan.FromMicroseconds(Math.Min(20_000, 50 << Math.Min(attempt, 9)));
        _loop.RunAfter(delay, () => work(attempt + 1));
    }

    // ================= the store rule (§12.4.3) =================

    /// <summary>
    /// The daemon's store of a volatile record: keep or delete per 4.17's rule, rsn+1 when this node is dmaster, transient
    /// flags stripped, delete queue maintained. Persistent/replicated dbs store verbatim. Returns the header written
    /// (null = the entry was deleted). The caller holds the chain lock.
    /// </summary>
    private LtdbHeader? StoreRecord(ClusterDatabase db, ReadOnlySpan<byte> key, LtdbHeader header, ReadOnlySpan<byte> data)
    {
        if (!db.IsVolatile)
        {
            db.Local.Store(key, header, data);
            return header;
        }
        var decision = VolatileStoreRule.Decide(header, data.IsEmpty, OwnPnn, LmasterOf(key));
        if (!decision.Keep)
        {
            db.Local.Delete(key);
            return null;
        }
        var stored = decision.Header;
        if (!db.Local.File.TryStore(key, LtdbRecord.Build(stored, data)))
        {
            _log.Error($"Failed to store record in {db.Name}: {db.Local.File.LastErrorString}");
            return stored;
        }
        if (decision.QueueForDeletion)
            QueueForDeletion(db, key, stored);
        else if (decision.UnqueueDeletion)
            UnqueueDeletion(db, key);
        return stored;
    }

    private static void QueueForDeletion(ClusterDatabase db, ReadOnlySpan<byte> key, LtdbHeader header)
    {
        var hash = DatabaseId.KeyHash(key);
        if (db.DeleteQueue.TryGetValue(hash, out var e) && !e.Key.AsSpan().SequenceEqual(key))
            return; // another key with the same hash: 4.17 skips it too
        db.DeleteQueue[hash] = new DeleteQueueEntry(key.ToArray(), header);
    }

    private static void UnqueueDeletion(ClusterDatabase db, ReadOnlySpan<byte> key)
    {
        var hash = DatabaseId.KeyHash(key);
        if (db.DeleteQueue.TryGetValue(hash, out var e) && e.Key.AsSpan().SequenceEqual(key))
            db.DeleteQueue.Remove(hash);
    }

    /// <summary>
    /// The stored value (header + data) of <paramref name="key"/>; a missing or short record gets 4.17's synthetic header
    /// {rsn 0, dmaster = lmaster, AUTOMATIC}, stored at once when this node is its dmaster or the db is persistent.
    /// The caller holds the chain lock (or accepts a racy read).
    /// </summary>
    private byte[] FetchOrSynthesise(ClusterDatabase db, ReadOnlySpan<byte> key, out LtdbHeader header)
    {
        var value = db.Local.File.Fetch(key);
        if (value is not null && LtdbRecord.TryReadHeader(value, out var h))
        {
            header = h;
            return value;
        }
        header = new LtdbHeader(0, LmasterOf(key), LtdbHeader.FlagAutomatic);
        if (db.IsPersistent || header.Dmaster == OwnPnn)
            header = StoreRecord(db, key, header, []) ?? header;
        return LtdbRecord.Build(header, []);
    }

    // ================= REQ_CALL from a local client (§12.4.4) =================

    private void OnClientCall(ClientConnection client, byte[] packet)
    {
        var call = ReqCall.Decode(packet);
        if (Databases.Find(call.DbId) is not { } db)
        {
            _log.Error($"Client {client.Id}: REQ_CALL for unknown database 0x{call.DbId:x8}; dropped");
            return;
        }
        var pending = new PendingCall
        {
            Db = db,
            Key = call.Key,
            CallId = call.CallId,
            Flags = call.Flags,
            CallData = call.CallData,
            Client = client,
            ClientReqId = call.Header.ReqId,
        };
        StartClientCall(pending);
        ProcessLocalCall(pending);
    }

    private void ProcessLocalCall(PendingCall c, int attempt = 0)
    {
        if (c.Db.Detached || c.Client is { Closed: true } || _shuttingDown)
        {
            EndClientCall(c);
            return;
        }
        if (c.Db.IsFrozen)
        {
            c.Db.FrozenQueue.Add(() => ProcessLocalCall(c));
            return;
        }
        var file = c.Db.Local.File;
        if (!TryLockChain(file, c.Key))
        {
            RetryLocked(n => ProcessLocalCall(c, n), attempt);
            return;
        }
        try
        {
            if (Tunables["FetchCollapse"] != 0 && c.Db.InFlightFetches.TryGetValue(c.KeyId, out var waiters))
            {
                waiters.Add(() => ProcessLocalCall(c));
                return;
            }
            var value = FetchOrSynthesise(c.Db, c.Key, out var header);
            if (header.Dmaster == OwnPnn)
            {
                RunCallLocally(c, header, value.AsSpan(LtdbRecord.HeaderSize));
                return;
            }
            c.ReqId = NextCallReqId();
            c.Generation = Generation;
            _calls[c.ReqId] = c;
            c.Db.InFlightFetches[c.KeyId] = [];
            SendCall(c, header.Dmaster);
        }
        finally
        {
            UnlockChain(file, c.Key);
        }
    }

    /// <summary>Sends the pending call's REQ_CALL to <paramref name="dest"/> (the lmaster if that node is unreachable).</summary>
    private void SendCall(PendingCall c, uint dest)
    {
        var req = new ReqCall(PacketHeader.Create(Operation.ReqCall, dest, OwnPnn, c.ReqId, c.Generation),
            c.Flags & ~ReqCall.WantReadonly, c.Db.Id, c.CallId, 0, c.Key, c.CallData);
        if (dest == OwnPnn || _network?.Send(dest, req.Encode()) != true)
        {
            var lmaster = LmasterOf(c.Key);
            if (lmaster != dest && lmaster != OwnPnn)
                _network?.Send(lmaster, (req with { Header = req.Header with { DestNode = lmaster } }).Encode());
            // Otherwise the call waits: ResendStaleCalls routes it afresh after the next recovery.
        }
    }

    /// <summary>This node is dmaster: run the call function, store the record again (rsn+1) and answer.</summary>
    private void RunCallLocally(PendingCall c, LtdbHeader header, ReadOnlySpan<byte> data)
    {
        int status = 0;
        byte[] reply;
        var stored = StoreRecord(c.Db, c.Key, header, data) ?? header;
        switch (c.CallId)
        {
            case CallId.NullFunc:
                reply = [];
                break;
            case CallId.FetchFunc:
                reply = data.ToArray();
                break;
            case CallId.FetchWithHeaderFunc:
                reply = LtdbRecord.Build(stored, data);
                break;
            default:
                _log.Error($"Unknown call id 0x{c.CallId:x8} on database {c.Db.Name}");
                status = -1;
                reply = [];
                break;
        }
        ReplyToCaller(c, status, reply);
    }

    private void ReplyToCaller(PendingCall c, int status, byte[] data)
    {
        if (c.Completed is { } done)
        {
            done(status, data);
            return;
        }
        EndClientCall(c);
        if (c.Client is not { Closed: false } client)
            return;
        var reply = new ReplyCall(PacketHeader.Create(Operation.ReplyCall, OwnPnn, OwnPnn, c.ClientReqId, Generation), status, data).Encode();
        if (_chainLocksHeld > 0)
            _repliesAfterUnlock.Add((client, reply));
        else
            client.Enqueue(reply);
    }

    /// <summary>A remote call ended (or was abandoned): release requests that collapsed onto it.</summary>
    private void FinishInFlight(PendingCall c)
    {
        if (c.Db.InFlightFetches.Remove(c.KeyId, out var waiters))
        {
            foreach (var w in waiters)
                w();
        }
    }

    /// <summary>Resends calls whose generation is no longer current (a recovery happened), routed afresh (§12.4.5 11).</summary>
    private void ResendStaleCalls()
    {
        if (_recMode != RecoveryMode.Normal || _calls.Count == 0)
            return;
        foreach (var c in _calls.Values.Where(c => c.Generation != Generation).ToList())
            ResendCall(c);
    }

    /// <summary>Resend every pending call of <paramref name="db"/> (end of its recovery / thaw).</summary>
    internal void ResendPendingCalls(ClusterDatabase db)
    {
        foreach (var c in _calls.Values.Where(c => c.Db == db).ToList())
            ResendCall(c);
    }

    private void ResendCall(PendingCall c)
    {
        _calls.Remove(c.ReqId);
        if (c.Db.Detached)
            return;
        // Routed afresh: let the local copy (or a synthesised header) decide where it goes.
        c.Db.InFlightFetches.Remove(c.KeyId, out var waiters);
        ProcessLocalCall(c);
        if (waiters is not null)
        {
            foreach (var w in waiters)
                w();
        }
    }

    // ================= packets between nodes (§12.4.5) =================

    /// <summary>REQ_CALL / REPLY_CALL / REQ_DMASTER / REPLY_DMASTER / REPLY_ERROR from a peer.</summary>
    private void OnPeerCallPacket(uint fromPnn, PacketHeader h, byte[] packet)
    {
        if (IsBanned || h.Generation != Generation)
        {
            _log.Debug($"Dropping {h.Operation} from node {fromPnn} (generation {h.Generation}, ours {Generation})");
            return;
        }
        switch (h.Operation)
        {
            case Operation.ReqCall:
                OnPeerReqCall(ReqCall.Decode(packet));
                break;
            case Operation.ReplyCall:
                OnPeerReplyCall(ReplyCall.Decode(packet));
                break;
            case Operation.ReqDmaster:
                var rd = ReqDmaster.Decode(packet);
                OnReqDmaster(rd, DmasterPackets.ReqDmasterFlags(packet, rd));
                break;
            case Operation.ReplyDmaster:
                var rp = ReplyDmaster.Decode(packet);
                OnReplyDmaster(rp, DmasterPackets.ReplyDmasterFlags(packet, rp));
                break;
            case Operation.ReplyError:
                var err = ReplyError.Decode(packet);
                if (_calls.Remove(h.ReqId, out var failed))
                {
                    _log.Error($"ctdbd_call_recv() returned error: {err.Message} (status {err.Status}, db {failed.Db.Name})");
                    FinishInFlight(failed);
                }
                break;
        }
    }

    private void SendReplyError(PacketHeader h, int status, string message)
    {
        var e = new ReplyError(PacketHeader.Create(Operation.ReplyError, h.SrcNode, OwnPnn, h.ReqId, Generation), status, message);
        _network?.Send(h.SrcNode, e.Encode());
    }

    private void OnPeerReqCall(ReqCall call, int attempt = 0)
    {
        if (Databases.Find(call.DbId) is not { } db)
        {
            SendReplyError(call.Header, -1, $"Unknown database in request. db_id==0x{call.DbId:08x}");
            return;
        }
        if (_shuttingDown || db.Detached)
            return;
        if (db.IsFrozen)
        {
            db.FrozenQueue.Add(() => OnPeerReqCall(call));
            return;
        }
        if (db.DmasterInFlight.Count > 0 && db.DmasterInFlight.TryGetValue(ClusterDatabase.KeyId(call.Key), out var queue))
        {
            queue.Add(() => OnPeerReqCall(call));
            return;
        }
        var file = db.Local.File;
        if (!TryLockChain(file, call.Key))
        {
            RetryLocked(n => OnPeerReqCall(call, n), attempt);
            return;
        }
        try
        {
            var value = FetchOrSynthesise(db, call.Key, out var header);
            if (header.Dmaster != OwnPnn)
            {
                // Not dmaster: the lmaster knows who is; if we are the lmaster, our header points at the dmaster.
                var lmaster = LmasterOf(call.Key);
                var dest = lmaster == OwnPnn ? header.Dmaster : lmaster;
                var hops = call.HopCount + 1;
                if (hops % 100 > 95)
                    _log.Warning($"High hopcount {hops} dbid:{db.Name} key {Convert.ToHexString(call.Key)} to node {dest}");
                var fwd = call with { Header = call.Header with { DestNode = dest }, HopCount = hops };
                _network?.Send(dest, fwd.Encode());
                return;
            }
            var bucket = call.HopCount == 0 ? 0 : Math.Min(15, 32 - System.Numerics.BitOperations.LeadingZeroCount(call.HopCount));
            db.HopCountBuckets[bucket]++;
            CountHops(call.HopCount, bucket);
            var data = value.AsSpan(LtdbRecord.HeaderSize);
            if (call.Header.SrcNode == OwnPnn)
            {
                // One of our own calls came back to us (re-routed): answer it here.
                if (_calls.Remove(call.Header.ReqId, out var mine))
                {
                    RunCallLocally(mine, header, data);
                    FinishInFlight(mine);
                }
                return;
            }
            // Migrate the record to the requester.
            var flags = header.Flags;
            if (!data.IsEmpty)
                flags |= LtdbHeader.FlagMigratedWithData;
            var newDmaster = call.Header.SrcNode;
            var lm = LmasterOf(call.Key);
            if (lm == OwnPnn)
            {
                HandOverAsLmaster(db, call.Key, header.Rsn, newDmaster, data, flags, call.Header.ReqId);
                return;
            }
            var rd = new ReqDmaster(PacketHeader.Create(Operation.ReqDmaster, lm, OwnPnn, call.Header.ReqId, Generation),
                db.Id, header.Rsn, newDmaster, call.Key, data.ToArray());
            _network?.Send(lm, DmasterPackets.EncodeReqDmaster(rd, flags));
            StoreRecord(db, call.Key, new LtdbHeader(header.Rsn, newDmaster, flags), data);
        }
        finally
        {
            UnlockChain(file, call.Key);
        }
    }

    /// <summary>
    /// Lmaster step 7: send the record to <paramref name="newDmaster"/> (REPLY_DMASTER) and record it as owned there.
    /// The packet goes first (4.17 stores first) so the store is off the migration's critical path; nothing can see the
    /// difference: the caller holds the chain lock and the loop handles nothing else before the store.
    /// </summary>
    private void HandOverAsLmaster(ClusterDatabase db, byte[] key, ulong rsn, uint newDmaster, ReadOnlySpan<byte> data, uint flags, uint reqid)
    {
        var rp = new ReplyDmaster(PacketHeader.Create(Operation.ReplyDmaster, newDmaster, OwnPnn, reqid, Generation),
            db.Id, rsn, key, data.ToArray());
        _network?.Send(newDmaster, DmasterPackets.EncodeReplyDmaster(rp, flags));
        StoreRecord(db, key, new LtdbHeader(rsn, newDmaster, flags), data);
    }

    private void OnReqDmaster(ReqDmaster p, uint flags, int attempt = 0)
    {
        if (Databases.Find(p.DbId) is not { } db)
        {
            SendReplyError(p.Header, -1, $"Unknown database in request. db_id==0x{p.DbId:08x}");
            return;
        }
        if (_shuttingDown || db.Detached)
            return;
        if (db.IsFrozen)
        {
            db.FrozenQueue.Add(() => OnReqDmaster(p, flags));
            return;
        }
        var file = db.Local.File;
        if (!TryLockChain(file, p.Key))
        {
            RetryLocked(n => OnReqDmaster(p, flags, n), attempt);
            return;
        }
        try
        {
            if (LmasterOf(p.Key) != OwnPnn)
            {
                _log.Error($"REQ_DMASTER for {db.Name} key {Convert.ToHexString(p.Key)} arrived at node {OwnPnn}, which is not its lmaster");
                return;
            }
            FetchOrSynthesise(db, p.Key, out var header);
            if (p.Header.SrcNode != header.Dmaster && (header.Rsn != 0 || header.Dmaster != OwnPnn))
            {
                _log.Error($"REQ_DMASTER from node {p.Header.SrcNode} for {db.Name}, but dmaster is node {header.Dmaster} (rsn {header.Rsn}): forcing recovery");
                ForceRecoveryForDatabases();
                return;
            }
            if (p.Rsn < header.Rsn)
                _log.Warning($"REQ_DMASTER for {db.Name} with rsn {p.Rsn} lower than ours ({header.Rsn})");
            if (p.Dmaster == OwnPnn)
            {
                BecomeDmaster(db, p.Header.ReqId, p.Key, p.Rsn, flags, p.Data);
                return;
            }
            HandOverAsLmaster(db, p.Key, p.Rsn, p.Dmaster, p.Data, flags, p.Header.ReqId);
        }
        finally
        {
            UnlockChain(file, p.Key);
        }
    }

    private void OnReplyDmaster(ReplyDmaster p, uint flags, int attempt = 0)
    {
        if (Databases.Find(p.DbId) is not { } db)
        {
            _log.Error($"REPLY_DMASTER for unknown database 0x{p.DbId:x8}");
            return;
        }
        if (_shuttingDown || db.Detached)
            return;
        if (db.IsFrozen)
        {
            db.FrozenQueue.Add(() => OnReplyDmaster(p, flags));
            return;
        }
        var file = db.Local.File;
        if (!TryLockChain(file, p.Key))
        {
            RetryLocked(n => OnReplyDmaster(p, flags, n), attempt);
            return;
        }
        try
        {
            BecomeDmaster(db, p.Header.ReqId, p.Key, p.Rsn, flags, p.Data);
        }
        finally
        {
            UnlockChain(file, p.Key);
        }
    }

    /// <summary>Step 8: store the record as ours (rsn+1), then run the waiting call (rsn+1 again) and answer it.</summary>
    private void BecomeDmaster(ClusterDatabase db, uint reqid, byte[] key, ulong rsn, uint flags, ReadOnlySpan<byte> data)
    {
        _calls.TryGetValue(reqid, out var c);
        if (c is not null && (c.Db != db || !c.Key.AsSpan().SequenceEqual(key)))
            c = null;
        var incoming = flags;
        if (c is not null && (c.Flags & ReqCall.VacuumMigration) != 0)
            incoming |= LtdbHeader.FlagVacuumMigrated;
        var stored = StoreRecord(db, key, new LtdbHeader(rsn, OwnPnn, incoming), data) ?? new LtdbHeader(rsn, OwnPnn, flags);
        if (c is null)
        {
            _log.Error($"Record migrated in for {db.Name} with unknown reqid {reqid}; kept");
            return;
        }
        _calls.Remove(reqid);
        RunCallLocally(c, stored, data);
        FinishInFlight(c);
    }

    private void OnPeerReplyCall(ReplyCall reply)
    {
        if (!_calls.Remove(reply.Header.ReqId, out var c))
            return;
        ReplyToCaller(c, reply.Status, reply.Data);
        FinishInFlight(c);
    }

    /// <summary>An inconsistency only a recovery can fix (4.17 sets recovery mode ACTIVE; the leader then recovers).</summary>
    private void ForceRecoveryForDatabases()
    {
        if (_recMode != RecoveryMode.Active)
        {
            _log.Notice("Recovery mode set to ACTIVE");
            _recMode = RecoveryMode.Active;
        }
    }
}
