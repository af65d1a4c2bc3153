using SharpCtdb.Daemon.Databases;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon;

/// <summary>
/// Replicated writes to persistent and replicated dbs (behaviour §12.6): TRANS3_COMMIT from a local client fans out as
/// UPDATE_RECORD to every active vnnmap node (this one included). A failed UPDATE_RECORD puts this node into recovery
/// mode, so the leader's recovery makes every copy equal to the highest sequence number; the waiting client is then
/// answered 2 at END_RECOVERY and decides by re-reading the sequence number.
/// Difference from 4.17: UPDATE_RECORD is applied on the loop in a tdb transaction started with non-blocking attempts
/// (4.17 forks a child that may block); only the commit itself can wait briefly for a reader's chain lock.
/// </summary>
internal sealed partial class ClusterLoop
{
    private sealed class PendingCommit(ClusterDatabase db, ClientConnection client)
    {
        public ClusterDatabase Db { get; } = db;
        public ClientConnection Client { get; } = client;
        public TaskCompletionSource<ControlResult> Tcs { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Remaining { get; set; }
        public bool Failed { get; set; }

        /// <summary>START_RECOVERYs seen by this node when the commit began.</summary>
        public int RecoveriesAtStart { get; init; }
        public ITimer? Timer { get; set; }
    }

    private readonly Dictionary<ClientConnection, PendingCommit> _commits = [];

    /// <summary>How long a TRANS3_COMMIT waits for a recovery, a freeze or another commit of the db to end before it is
    /// refused: below the ctdb tool's default 10-s control timeout, far above our recoveries (well under a second).</summary>
    private static readonly TimeSpan CommitWaitLimit = TimeSpan.FromSeconds(8);

    private readonly List<TaskCompletionSource> _commitWaiters = [];

    private async ValueTask<ControlResult> Trans3CommitAsync(ControlRequest req)
    {
        if (req.Client is not { } client)
            return ControlResult.Fail("TRANS3_COMMIT is only accepted from a local client");
        if (_commits.ContainsKey(client))
            return ControlResult.Fail("TRANS3_COMMIT refused: this client already has a commit in progress");
        var batch = RecBuffer.FromBytes(req.Data);
        if (Databases.Find(batch.DbId) is not { } db)
            return ControlResult.Fail($"TRANS3_COMMIT: unknown database 0x{batch.DbId:x8}");

        // 4.17 refuses at once and the client resends in a tight loop until its timeout; waiting here for the thaw
        // turns a commit that arrives during a recovery into one that succeeds right after it.
        var started = _time.GetTimestamp();
        while (CommitBlockedBy(db) is { } why)
        {
            var left = CommitWaitLimit - _time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
                return ControlResult.Fail($"TRANS3_COMMIT refused: {why}");
            await WaitForCommitChanceAsync(left);
            if (client.Closed)
                return ControlResult.Fail("TRANS3_COMMIT: client disconnected while waiting");
            if (_commits.ContainsKey(client))
                return ControlResult.Fail("TRANS3_COMMIT refused: this client already has a commit in progress");
            if (Databases.Find(batch.DbId) != db)
                return ControlResult.Fail($"TRANS3_COMMIT: database 0x{batch.DbId:x8} went away");
        }

        var targets = _vnnMap.Map.Distinct().Where(p => NodeOrNull(p) is { } n && (n.Flags & NodeFlags.Inactive) == 0).ToList();
        if (targets.Count == 0)
            return ControlResult.Ok();
        var pc = new PendingCommit(db, client) { Remaining = targets.Count, RecoveriesAtStart = _recoveriesStarted };
        db.CommitActive = true;
        _commits[client] = pc;
        pc.Timer = After(TimeSpan.FromSeconds(Math.Max(1u, Tunables.ControlTimeout)), () =>
        {
            // While recovery runs the commit is answered at END_RECOVERY instead.
            if (_recMode == RecoveryMode.Normal)
                FinishCommit(pc, ControlResult.Fail("timeout in ctdb_persistent_state", 1));
        });
        foreach (var pnn in targets)
            _ = SendUpdateRecordAsync(pc, pnn, req.Data);
        return await pc.Tcs.Task;
    }

    private string? CommitBlockedBy(ClusterDatabase db) =>
        _recMode != RecoveryMode.Normal ? "recovery is active"
        : db.IsFrozen ? $"{db.Name} is frozen"
        : db.CommitActive ? $"a commit of {db.Name} is already in progress"
        : null;

    /// <summary>Completes when recovery mode, a db's freeze or a commit changes (or after <paramref name="limit"/>).</summary>
    private async Task WaitForCommitChanceAsync(TimeSpan limit)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _commitWaiters.Add(tcs);
        using var timer = After(limit, () => tcs.TrySetResult());
        await tcs.Task;
        _commitWaiters.Remove(tcs);
    }

    /// <summary>Lets waiting TRANS3_COMMITs look again (recovery mode NORMAL, a thaw, a finished commit).</summary>
    private void WakeCommitWaiters()
    {
        if (_commitWaiters.Count == 0)
            return;
        foreach (var w in _commitWaiters.ToList())
            w.TrySetResult();
        _commitWaiters.Clear();
    }

    private async Task SendUpdateRecordAsync(PendingCommit pc, uint pnn, byte[] batch)
    {
        var r = await SendControlAsync(pnn, ControlOpcode.UpdateRecord, batch, timeout: TimeSpan.FromSeconds(Math.Max(1u, Tunables.ControlTimeout)));
        if (pc.Tcs.Task.IsCompleted)
            return;
        if (!r.Success)
        {
            // The copies are in doubt: recovery settles them and END_RECOVERY answers the client 2.
            pc.Failed = true;
            if (_recMode == RecoveryMode.Normal)
            {
                _log.Error($"UPDATE_RECORD of {pc.Db.Name} failed on node {pnn} ({r.Status} {r.Error}); forcing recovery");
                ForceRecoveryMode();
            }
            return;
        }
        // Counted even while a recovery runs (4.17 ignores these replies): a node applies UPDATE_RECORD only while the
        // db is not frozen, so every copy that acknowledged it holds the batch before the recovery pulls.
        if (--pc.Remaining == 0 && !pc.Failed)
            FinishCommit(pc, ControlResult.Ok());
    }

    private void FinishCommit(PendingCommit pc, ControlResult result)
    {
        pc.Timer?.Dispose();
        pc.Db.CommitActive = false;
        if (_commits.TryGetValue(pc.Client, out var current) && current == pc)
            _commits.Remove(pc.Client);
        pc.Tcs.TrySetResult(result);
        WakeCommitWaiters();
    }

    private int _recoveriesStarted;

    /// <summary>END_RECOVERY: every commit still waiting that began before this recovery started is answered 2; the
    /// client checks the sequence number. One that began after SET_RECMODE(NORMAL) (a commit that waited for the
    /// recovery) is not affected by it and goes on.</summary>
    private void EndPendingCommitsAfterRecovery()
    {
        foreach (var pc in _commits.Values.Where(pc => pc.RecoveriesAtStart != _recoveriesStarted).ToList())
            FinishCommit(pc, ControlResult.Fail("trans3 commit ended by recovery", 2));
    }

    /// <summary>A client that disconnects mid-commit leaves the copies in doubt: recovery settles them.</summary>
    private void OnClientDisconnectedPersistent(ClientConnection client)
    {
        if (!_commits.TryGetValue(client, out var pc))
            return;
        _log.Error($"Client {client.Id} disconnected during a commit of {pc.Db.Name}; forcing recovery");
        FinishCommit(pc, ControlResult.Fail("client disconnected"));
        ForceRecoveryMode();
    }

    private void ForceRecoveryMode()
    {
        if (_recMode == RecoveryMode.Active)
            return;
        _recMode = RecoveryMode.Active;
        _log.Notice("Recovery mode set to ACTIVE");
    }

    /// <summary>UPDATE_RECORD: apply the batch atomically in a tdb transaction, or fail it whole.</summary>
    private async ValueTask<ControlResult> UpdateRecordAsync(ControlRequest req)
    {
        if (_recMode != RecoveryMode.Normal)
            return ControlResult.Fail("UPDATE_RECORD refused: recovery is active");
        var batch = RecBuffer.FromBytes(req.Data);
        if (Databases.Find(batch.DbId) is not { } db)
            return ControlResult.Fail($"UPDATE_RECORD: unknown database 0x{batch.DbId:x8}");
        if (!db.Local.IsHealthy)
            return ControlResult.Fail($"UPDATE_RECORD: database {db.Name} is unhealthy");
        if (db.IsFrozen)
            return ControlResult.Fail($"UPDATE_RECORD: database {db.Name} is frozen");
        if (!await StartTdbTransactionAsync(db))
            return ControlResult.Fail("timeout in ctdb_persistent_lock");
        // Synchronous from here to commit/cancel: nothing else touches the handle meanwhile.
        try
        {
            if (db.IsFrozen || _recMode != RecoveryMode.Normal)
            {
                CancelTdbTransaction(db);
                return ControlResult.Fail("UPDATE_RECORD: recovery started");
            }
            if (PersistentStore.ApplyUpdate(db.Local, batch) is { } why)
            {
                CancelTdbTransaction(db);
                _log.Error($"UPDATE_RECORD of {db.Name} refused: {why}");
                return ControlResult.Fail(why);
            }
            db.Local.File.TransactionCommit();
        }
        catch (TdbException e)
        {
            CancelTdbTransaction(db);
            return ControlResult.Fail($"UPDATE_RECORD of {db.Name} failed: {e.Message}");
        }
        return ControlResult.Ok();
    }
}
