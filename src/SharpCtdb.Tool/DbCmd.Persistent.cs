using System.Text;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Tool;

public static partial class DbCmd
{
    private static readonly byte[] SeqnumKey = Encoding.ASCII.GetBytes("__db_sequence_number__\0");

    private static async Task<AttachedDb> OpenPersistentAsync(ToolContext ctx, string text)
    {
        var db = await OpenExistingAsync(ctx, text).ConfigureAwait(false);
        if (db.Db.IsVolatile)
        {
            db.Dispose();
            await ctx.Err.WriteLineAsync($"Transactions not supported on DB {db.Db.Name}").ConfigureAwait(false);
            throw new ToolExitException(1);
        }
        return db;
    }

    private static byte[] GLockKey(uint dbId) => Encoding.ASCII.GetBytes($"transaction_db_0x{dbId:x8}\0");

    /// <summary>Takes (or with <paramref name="release"/> drops) our WRITE entry in the g_lock record for the database,
    /// waiting while a live process holds it.</summary>
    /// <summary>
    /// Takes (or releases) our write entry in the g_lock record of <paramref name="dbId"/>. The holders' liveness
    /// is asked of their nodes with the chain lock released: a node that is slow to answer (just restarted, or in
    /// recovery) must not keep the record locked, since the daemon's freeze for a recovery waits for that lock.
    /// The record is then locked again and only the entries found dead are removed; anything else still there
    /// (alive, or added meanwhile) means wait and look again.
    /// </summary>
    private static async Task GLockAsync(ToolContext ctx, AttachedDb glock, uint dbId, ServerId me, bool release)
    {
        var key = GLockKey(dbId);
        while (true)
        {
            var dead = new HashSet<GLockEntry>();
            if (!release)
            {
                var (_, seen) = await FetchLockAsync(ctx, glock, key, false).ConfigureAwait(false);
                glock.Tdb.ChainUnlock(key);
                foreach (var other in OtherEntries(seen, me))
                {
                    if (!await ctx.Client.ProcessExistsAsync(other.Sid.Vnn, (int)other.Sid.Pid, ctx.Timeout, ctx.Cancelled).ConfigureAwait(false))
                        dead.Add(other);
                }
            }
            var (header, value) = await FetchLockAsync(ctx, glock, key, false).ConfigureAwait(false);
            var entries = OtherEntries(value, me);
            entries.RemoveAll(dead.Contains);
            var blocked = !release && entries.Count > 0;
            if (!release && !blocked)
                entries.Add(new GLockEntry(GLockEntry.TypeWrite, me));
            glock.Tdb.Store(key, Record(header, new GLockList(entries).ToBytes()));
            glock.Tdb.ChainUnlock(key);
            if (!blocked)
                return;
            await Task.Delay(TimeSpan.FromMilliseconds(100), ctx.Cancelled).ConfigureAwait(false);
        }
    }

    /// <summary>The entries of a g_lock record other than ours (an unreadable record counts as empty).</summary>
    private static List<GLockEntry> OtherEntries(byte[] value, ServerId me)
    {
        List<GLockEntry> entries;
        try
        {
            entries = value.Length % GLockEntry.Size == 0 ? [.. GLockList.FromBytes(value).Locks] : [];
        }
        catch (ProtocolException)
        {
            entries = [];
        }
        entries.RemoveAll(e => e.Sid.Pid == me.Pid && e.Sid.Vnn == me.Vnn);
        return entries;
    }

    private static (LtdbHeader? Header, byte[]? Value) ReadLocal(TdbFile tdb, byte[] key)
    {
        var data = tdb.Fetch(key);
        if (data is not { Length: >= LtdbHeader.Size })
            return (null, null);
        return (LtdbHeader.FromBytes(data.AsSpan(0, LtdbHeader.Size)), data[LtdbHeader.Size..]);
    }

    /// <summary>A persistent transaction as the 4.17 client does it: g_lock, read the local file, TRANS3_COMMIT the
    /// changed records plus the bumped sequence number, release the g_lock.</summary>
    private static async Task<int> PersistentUpdateAsync(ToolContext ctx, string dbText, List<(byte[] Key, byte[] Value)> changes)
    {
        using var db = await OpenPersistentAsync(ctx, dbText).ConfigureAwait(false);
        if (changes.Count == 0)
            return 0;
        using var glock = await AttachAsync(ctx, "g_lock.tdb", DbFlags.None).ConfigureAwait(false);
        var me = new ServerId((ulong)Environment.ProcessId, 0, ctx.Pnn, (ulong)Random.Shared.NextInt64());
        await GLockAsync(ctx, glock, db.Db.Id, me, release: false).ConfigureAwait(false);
        try
        {
            var records = new List<RecData>();
            foreach (var (key, value) in changes)
            {
                var (old, oldValue) = ReadLocal(db.Tdb, key);
                if (oldValue is not null && oldValue.AsSpan().SequenceEqual(value))
                    continue;
                records.Add(RecData.WithHeader(0, key, new LtdbHeader((old?.Rsn ?? 0) + 1, ctx.Pnn), value));
            }
            if (records.Count == 0)
                return 0;
            var (seqHeader, seqValue) = ReadLocal(db.Tdb, SeqnumKey);
            var seqnum = seqValue is { Length: 8 } ? BitConverter.ToUInt64(seqValue) : 0;
            records.Add(RecData.WithHeader(0, SeqnumKey, new LtdbHeader((seqHeader?.Rsn ?? 0) + 1, ctx.Pnn), BitConverter.GetBytes(seqnum + 1)));
            await CommitWithRetryAsync(ctx, db, new RecBuffer(db.Db.Id, records).ToBytes(), seqnum).ConfigureAwait(false);
            return 0;
        }
        finally
        {
            await GLockAsync(ctx, glock, db.Db.Id, me, release: true).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// TRANS3_COMMIT as the 4.17 client does it: a non-zero reply (refused during recovery, ended by recovery, timeout)
    /// is resolved by re-reading the local sequence number: unchanged → send the same commit again; old + 1 → a recovery
    /// completed it; anything else → someone else's commit won, an error.
    /// </summary>
    private static async Task CommitWithRetryAsync(ToolContext ctx, AttachedDb db, byte[] batch, ulong oldSeqnum)
    {
        var deadline = DateTime.UtcNow + ctx.Timeout;
        while (true)
        {
            var reply = await ctx.Client.ControlAsync(ctx.Pnn, ControlOpcode.Trans3Commit, batch, ctx.Timeout, ct: ctx.Cancelled)
                .ConfigureAwait(false);
            if (reply.Status == 0)
                return;
            var (_, now) = ReadLocal(db.Tdb, SeqnumKey);
            var current = now is { Length: 8 } ? BitConverter.ToUInt64(now) : 0;
            if (current == oldSeqnum + 1)
                return;
            if (current != oldSeqnum || DateTime.UtcNow >= deadline)
            {
                await ctx.Err.WriteLineAsync($"Control TRANS3_COMMIT failed, ret={reply.Status}").ConfigureAwait(false);
                throw new ControlErrorException(reply.Status);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), ctx.Cancelled).ConfigureAwait(false);
        }
    }

    public static async Task<int> PFetchAsync(ToolContext ctx, string[] args)
    {
        using var db = await OpenPersistentAsync(ctx, args[0]).ConfigureAwait(false);
        var (_, value) = ReadLocal(db.Tdb, ParseData(args[1]));
        if (value is null || value.Length == 0)
            return 0;
        if (args.Length == 3)
        {
            await File.WriteAllBytesAsync(args[2], value, ctx.Cancelled).ConfigureAwait(false);
            return 0;
        }
        await ctx.Out.WriteLineAsync(Encoding.UTF8.GetString(value)).ConfigureAwait(false);
        return 0;
    }

    public static Task<int> PStoreAsync(ToolContext ctx, string[] args) =>
        PersistentUpdateAsync(ctx, args[0], [(ParseData(args[1]), ParseData(args[2]))]);

    public static Task<int> PDeleteAsync(ToolContext ctx, string[] args) => PersistentUpdateAsync(ctx, args[0], [(ParseData(args[1]), [])]);

    public static async Task<int> PTransAsync(ToolContext ctx, string[] args)
    {
        var text = args.Length == 2
            ? await File.ReadAllTextAsync(args[1], ctx.Cancelled).ConfigureAwait(false)
            : await ctx.In.ReadToEndAsync(ctx.Cancelled).ConfigureAwait(false);
        var changes = new List<(byte[], byte[])>();
        foreach (var line in text.Split('\n'))
        {
            var fields = QuotedFields(line);
            if (fields.Count == 0)
                continue;
            changes.Add((ParseData(fields[0]), fields.Count > 1 ? ParseData(fields[1]) : []));
        }
        return await PersistentUpdateAsync(ctx, args[0], changes).ConfigureAwait(false);
    }

    /// <summary>The "key" "value" fields of a ptrans input line.</summary>
    private static List<string> QuotedFields(string line)
    {
        var fields = new List<string>();
        var i = 0;
        while (true)
        {
            var start = line.IndexOf('"', i);
            if (start < 0)
                break;
            var end = line.IndexOf('"', start + 1);
            if (end < 0)
                break;
            fields.Add(line[(start + 1)..end]);
            i = end + 1;
        }
        return fields;
    }

    public static async Task<int> WipeDbAsync(ToolContext ctx, string[] args)
    {
        var db = await FindAsync(ctx, args[0]).ConfigureAwait(false);
        var map = await Cmd.GetNodeMapAsync(ctx).ConfigureAwait(false);
        var active = map.Nodes.Where(n => (n.Flags & NodeFlags.Inactive) == 0).Select(n => n.Pnn).ToList();
        var vnn = await ctx.Ctl(ControlOpcode.GetVnnMap, ctx.Pnn, ctx.Client.GetVnnMapAsync(ctx.Pnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var id = BitConverter.GetBytes(db.Id);
        var trans = new TransDb(db.Id, vnn.Generation).ToBytes();
        async Task All(ControlOpcode op, byte[] data)
        {
            foreach (var pnn in active)
                await ctx.Ctl(op, pnn, ctx.Client.RawDataAsync(pnn, op, data, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        }
        try
        {
            await All(ControlOpcode.DbFreeze, id).ConfigureAwait(false);
            await All(ControlOpcode.DbTransactionStart, trans).ConfigureAwait(false);
            await All(ControlOpcode.WipeDatabase, trans).ConfigureAwait(false);
            await All(ControlOpcode.DbSetHealthy, id).ConfigureAwait(false);
            await All(ControlOpcode.DbTransactionCommit, trans).ConfigureAwait(false);
            await All(ControlOpcode.DbThaw, id).ConfigureAwait(false);
        }
        catch (ControlErrorException)
        {
            // Leave the cluster consistent: a recovery rebuilds the database everywhere.
            await ctx.Client.ControlAsync(ctx.Pnn, ControlOpcode.SetRecMode, BitConverter.GetBytes((uint)RecoveryMode.Active), ctx.Timeout,
                ct: ctx.Cancelled).ConfigureAwait(false);
            await ctx.Err.WriteLineAsync($"Failed to wipe database {db.Name}").ConfigureAwait(false);
            return 1;
        }
        await ctx.Out.WriteLineAsync($"Database {db.Name} wiped").ConfigureAwait(false);
        return 0;
    }
}
