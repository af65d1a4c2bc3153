using System.Text;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Tool;

/// <summary>An attached database: its local tdb file opened with the daemon's flags.</summary>
public sealed class AttachedDb(DbRef db, string path, TdbFile tdb) : IDisposable
{
    public DbRef Db { get; } = db;
    public string Path { get; } = path;
    public TdbFile Tdb { get; } = tdb;

    public void Dispose() => Tdb.Dispose();
}

public static partial class DbCmd
{
    /// <summary>Keys and values given as 0x... are hex bytes, anything else the literal text.</summary>
    public static byte[] ParseData(string text)
    {
        if (text.StartsWith("0x", StringComparison.Ordinal) && text.Length % 2 == 0)
        {
            try
            {
                return Convert.FromHexString(text.AsSpan(2));
            }
            catch (FormatException)
            {
            }
        }
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>ctdb_attach(): DB_ATTACH*, GETDBPATH, DB_GET_HEALTH, DB_OPEN_FLAGS, then open the tdb file ourselves.</summary>
    public static async Task<AttachedDb> AttachAsync(ToolContext ctx, string name, DbFlags flags)
    {
        var id = await ctx.Ctl(ControlOpcode.DbAttach, ctx.Pnn, ctx.Client.AttachDbAsync(ctx.Pnn, name, flags, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var path = await ctx.Ctl(ControlOpcode.GetDbPath, ctx.Pnn, ctx.Client.GetDbPathAsync(ctx.Pnn, id, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        await ctx.Ctl(ControlOpcode.DbGetHealth, ctx.Pnn, ctx.Client.GetDbHealthAsync(ctx.Pnn, id, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var tdbFlags = await ctx.Ctl(ControlOpcode.DbOpenFlags, ctx.Pnn, ctx.Client.GetDbOpenFlagsAsync(ctx.Pnn, id, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        TdbFile tdb;
        try
        {
            tdb = TdbFile.Open(path, 0, tdbFlags, OpenFlags.ReadWrite);
        }
        catch (TdbException e)
        {
            await ctx.Err.WriteLineAsync($"Failed to open tdb file {path}: {e.Message}").ConfigureAwait(false);
            throw new ToolExitException(1);
        }
        return new AttachedDb(new DbRef(id, name, flags), path, tdb);
    }

    /// <summary>Finds an attached database by name/id and opens it.</summary>
    private static async Task<AttachedDb> OpenExistingAsync(ToolContext ctx, string text)
    {
        var db = await FindAsync(ctx, text).ConfigureAwait(false);
        var attached = await AttachAsync(ctx, db.Name, db.Flags & (DbFlags.Persistent | DbFlags.Replicated)).ConfigureAwait(false);
        return new AttachedDb(db, attached.Path, attached.Tdb);
    }

    public static async Task<int> AttachAsync(ToolContext ctx, string[] args)
    {
        var flags = DbFlags.None;
        var extra = DbFlags.None;
        if (args.Length == 2)
        {
            switch (args[1])
            {
                case "persistent": flags = DbFlags.Persistent; break;
                case "replicated": flags = DbFlags.Replicated; break;
                case "readonly": extra = DbFlags.ReadOnly; break;
                case "sticky": extra = DbFlags.Sticky; break;
                default:
                    await ctx.Out.WriteAsync(Usage.ForCommand(Commands.Find("attach")!)).ConfigureAwait(false);
                    return 1;
            }
        }
        using (await AttachAsync(ctx, args[0], flags).ConfigureAwait(false))
        {
        }
        if (extra != DbFlags.None)
        {
            var db = await FindAsync(ctx, args[0]).ConfigureAwait(false);
            await SetDbFlagOnAllAsync(ctx, db.Id, extra == DbFlags.ReadOnly ? ControlOpcode.SetDbReadonly : ControlOpcode.SetDbSticky)
                .ConfigureAwait(false);
        }
        return 0;
    }

    public static async Task<int> DetachAsync(ToolContext ctx, string[] args)
    {
        var mode = await ctx.Ctl(ControlOpcode.GetRecMode, ctx.Pnn, ctx.Client.GetRecModeAsync(ctx.Pnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        if (mode != RecoveryMode.Normal)
        {
            await ctx.Err.WriteLineAsync("Database cannot be detached when recovery is active").ConfigureAwait(false);
            return 1;
        }
        var map = await Cmd.GetNodeMapAsync(ctx).ConfigureAwait(false);
        var active = map.Nodes.Where(n => (n.Flags & NodeFlags.Inactive) == 0).ToList();
        foreach (var n in active)
        {
            var v = await ctx.Ctl(ControlOpcode.GetTunable, n.Pnn,
                ctx.Client.GetTunableAsync(n.Pnn, "AllowClientDBAttach", ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
            if (v != 0)
            {
                await ctx.Err.WriteLineAsync($"Database access is still active on node {n.Pnn}. Set AllowclientDBAttach=0 on all nodes.")
                    .ConfigureAwait(false);
                return 1;
            }
        }
        var rc = 0;
        foreach (var a in args)
        {
            var db = await FindAsync(ctx, a).ConfigureAwait(false);
            if (!db.IsVolatile)
            {
                await ctx.Err.WriteLineAsync($"Only volatile databases can be detached").ConfigureAwait(false);
                rc = 1;
                continue;
            }
            foreach (var n in active)
            {
                try
                {
                    await ctx.Ctl(ControlOpcode.DbDetach, n.Pnn, ctx.Client.RawDataAsync(n.Pnn, ControlOpcode.DbDetach,
                        BitConverter.GetBytes(db.Id), ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
                }
                catch (ControlErrorException)
                {
                    await ctx.Err.WriteLineAsync($"Database {db.Name} detach failed").ConfigureAwait(false);
                    rc = 1;
                    break;
                }
            }
        }
        return rc;
    }

    /// <summary>Volatile fetch-lock: chain-lock the key and own the record (dmaster = us), migrating it with REQ_CALL
    /// when another node is dmaster. Returns with the chain locked; the caller unlocks.</summary>
    private static async Task<(LtdbHeader Header, byte[] Value)> FetchLockAsync(ToolContext ctx, AttachedDb db, byte[] key, bool readOnly)
    {
        while (true)
        {
            db.Tdb.ChainLock(key);
            var data = db.Tdb.Fetch(key);
            if (data is { Length: >= LtdbHeader.Size })
            {
                var header = LtdbHeader.FromBytes(data.AsSpan(0, LtdbHeader.Size));
                if (header.Dmaster == ctx.Pnn)
                    return (header, data[LtdbHeader.Size..]);
            }
            db.Tdb.ChainUnlock(key);
            var flags = ReqCall.ImmediateMigration | (readOnly ? ReqCall.WantReadonly : 0);
            var reply = await ctx.Client.CallAsync(flags, db.Db.Id, CallId.NullFunc, key, [], ctx.Timeout, ctx.Cancelled).ConfigureAwait(false);
            if (reply.Status != 0)
            {
                await ctx.Err.WriteLineAsync($"Failed to migrate record (status {reply.Status})").ConfigureAwait(false);
                throw new ToolExitException(1);
            }
        }
    }

    private static async Task<AttachedDb> OpenVolatileAsync(ToolContext ctx, string text)
    {
        var db = await OpenExistingAsync(ctx, text).ConfigureAwait(false);
        if (!db.Db.IsVolatile)
        {
            db.Dispose();
            await ctx.Err.WriteLineAsync($"DB {db.Db.Name} is not a volatile database").ConfigureAwait(false);
            throw new ToolExitException(1);
        }
        return db;
    }

    public static async Task<int> ReadKeyAsync(ToolContext ctx, string[] args)
    {
        var readOnly = args.Length == 3 && args[2] == "readonly";
        using var db = await OpenVolatileAsync(ctx, args[0]).ConfigureAwait(false);
        var key = ParseData(args[1]);
        var (_, value) = await FetchLockAsync(ctx, db, key, readOnly).ConfigureAwait(false);
        db.Tdb.ChainUnlock(key);
        await ctx.Out.WriteLineAsync($"Data: size:{value.Length} ptr:[{Encoding.UTF8.GetString(value)}]").ConfigureAwait(false);
        return 0;
    }

    private static byte[] Record(LtdbHeader header, ReadOnlySpan<byte> value)
    {
        var w = new WireWriter(LtdbHeader.Size + value.Length);
        header.Write(w);
        w.Bytes(value);
        return w.ToArray();
    }

    public static async Task<int> WriteKeyAsync(ToolContext ctx, string[] args)
    {
        using var db = await OpenVolatileAsync(ctx, args[0]).ConfigureAwait(false);
        var key = ParseData(args[1]);
        var (header, _) = await FetchLockAsync(ctx, db, key, false).ConfigureAwait(false);
        try
        {
            db.Tdb.Store(key, Record(header, ParseData(args[2])));
        }
        finally
        {
            db.Tdb.ChainUnlock(key);
        }
        return 0;
    }

    public static async Task<int> DeleteKeyAsync(ToolContext ctx, string[] args)
    {
        using var db = await OpenVolatileAsync(ctx, args[0]).ConfigureAwait(false);
        var key = ParseData(args[1]);
        var (header, _) = await FetchLockAsync(ctx, db, key, false).ConfigureAwait(false);
        try
        {
            db.Tdb.Store(key, Record(header, []));
        }
        finally
        {
            db.Tdb.ChainUnlock(key);
        }
        await ctx.Ctl(ControlOpcode.ScheduleForDeletion, ctx.Pnn, ctx.Client.RawDataAsync(ctx.Pnn, ControlOpcode.ScheduleForDeletion,
            new KeyData(db.Db.Id, header, key).ToBytes(), ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        return 0;
    }

    private static string Printable(ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder(data.Length);
        foreach (var b in data)
        {
            if (b >= 0x20 && b < 0x7F)
                sb.Append((char)b);
            else
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\{b:X2}");
        }
        return sb.ToString();
    }

    private static string RecordText(ReadOnlySpan<byte> key, LtdbHeader header, ReadOnlySpan<byte> value) =>
        $"key({key.Length}) = \"{Printable(key)}\"\ndmaster: {header.Dmaster}\nrsn: {header.Rsn}\nflags: 0x{header.Flags:x8}\n" +
        $"data({value.Length}) = \"{Printable(value)}\"\n\n";

    public static async Task<int> CatDbAsync(ToolContext ctx, string[] args)
    {
        var db = await FindAsync(ctx, args[0]).ConfigureAwait(false);
        var records = await TraverseAsync(ctx, db.Id, withEmpty: false).ConfigureAwait(false);
        var sb = new StringBuilder();
        foreach (var rec in records)
        {
            if (rec.TrySplitHeader(out var header, out var value))
                sb.Append(RecordText(rec.Key, header, value));
        }
        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"Dumped {records.Count} records\n");
        await ctx.Out.WriteAsync(sb.ToString()).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Cluster-wide traverse: records arrive as messages on our srvid, an empty record ends it.</summary>
    public static async Task<List<RecData>> TraverseAsync(ToolContext ctx, uint dbId, bool withEmpty)
    {
        var srvid = Srvid.ClientRange | (uint)Environment.ProcessId;
        var records = new List<RecData>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ctx.Client.SetMessageHandler(srvid, (_, data) =>
        {
            try
            {
                var rec = RecData.FromBytes(data);
                if (rec.IsEndMarker)
                    done.TrySetResult();
                else
                    lock (records)
                        records.Add(rec);
            }
            catch (ProtocolException e)
            {
                done.TrySetException(e);
            }
        });
        await ctx.Ctl(ControlOpcode.RegisterSrvid, ctx.Pnn, ctx.Client.RegisterSrvidAsync(srvid, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        await ctx.Ctl(ControlOpcode.TraverseStartExt, ctx.Pnn, ctx.Client.RawDataAsync(ctx.Pnn, ControlOpcode.TraverseStartExt,
            new TraverseStartExt(dbId, 0, srvid, withEmpty).ToBytes(), ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        await done.Task.WaitAsync(ctx.Cancelled).ConfigureAwait(false);
        ctx.Client.SetMessageHandler(srvid, null);
        lock (records)
            return [.. records];
    }

    public static async Task<int> CatTdbAsync(ToolContext ctx, string[] args)
    {
        using var db = await OpenExistingAsync(ctx, args[0]).ConfigureAwait(false);
        var sb = new StringBuilder();
        var count = 0;
        db.Tdb.TraverseRead((k, v) =>
        {
            if (v.Length < LtdbHeader.Size)
                return true;
            var header = LtdbHeader.FromBytes(v[..LtdbHeader.Size]);
            sb.Append(RecordText(k, header, v[LtdbHeader.Size..]));
            count++;
            return true;
        });
        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"Dumped {count} record(s)\n");
        await ctx.Out.WriteAsync(sb.ToString()).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> TFetchAsync(ToolContext ctx, string[] args)
    {
        using var tdb = OpenTdbFile(ctx, args[0], false);
        var data = tdb.Fetch(ParseData(args[1]));
        if (data is null)
        {
            await ctx.Err.WriteLineAsync($"No record for key {args[1]}").ConfigureAwait(false);
            return 1;
        }
        if (args.Length == 3)
        {
            await File.WriteAllBytesAsync(args[2], data, ctx.Cancelled).ConfigureAwait(false);
            return 0;
        }
        if (data.Length >= LtdbHeader.Size)
        {
            var h = LtdbHeader.FromBytes(data.AsSpan(0, LtdbHeader.Size));
            await ctx.Out.WriteAsync(RecordText(ParseData(args[1]), h, data.AsSpan(LtdbHeader.Size))).ConfigureAwait(false);
        }
        return 0;
    }

    public static async Task<int> TStoreAsync(ToolContext ctx, string[] args)
    {
        ulong rsn = 0, dmaster = 0, flags = 0;
        if (args.Length > 3 && !Cmd.TryParseULong(args[3], out rsn))
            return 22;
        if (args.Length > 4 && !Cmd.TryParseULong(args[4], out dmaster))
            return 22;
        if (args.Length > 5 && !Cmd.TryParseULong(args[5], out flags))
            return 22;
        using var tdb = OpenTdbFile(ctx, args[0], true);
        tdb.Store(ParseData(args[1]), Record(new LtdbHeader(rsn, (uint)dmaster, (uint)flags), ParseData(args[2])));
        await Task.CompletedTask.ConfigureAwait(false);
        return 0;
    }

    private static TdbFile OpenTdbFile(ToolContext ctx, string path, bool write)
    {
        try
        {
            return TdbFile.Open(path, 0, 0, write ? OpenFlags.ReadWrite : OpenFlags.ReadOnly);
        }
        catch (TdbException e)
        {
            ctx.Err.WriteLine($"Failed to open TDB file {path}: {e.Message}");
            throw new ToolExitException(1);
        }
    }
}
