using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>backupdb / restoredb / dumpdbbackup, file-compatible with 4.17 (<see cref="DbBackupFile"/>).</summary>
public static partial class DbCmd
{
    // Records per file buffer are flushed at this size, like the daemon's RecBufferSizeLimit.
    private const int BackupBufferLimit = 1_000_000;

    public static async Task<int> BackupDbAsync(ToolContext ctx, string[] args)
    {
        var db = await FindAsync(ctx, args[0]).ConfigureAwait(false);
        var health = await ctx.Ctl(ControlOpcode.DbGetHealth, ctx.CmdPnn,
            ctx.Client.GetDbHealthAsync(ctx.CmdPnn, db.Id, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        if (health is not null)
        {
            await ctx.Err.WriteLineAsync($"WARNING: database {db.Name} is unhealthy - {health}").ConfigureAwait(false);
            await ctx.Err.WriteLineAsync("WARNING: database not backed up").ConfigureAwait(false);
            return 0;
        }
        FileStream file;
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            file = new FileStream(args[1], options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await ctx.Err.WriteLineAsync($"Failed to open file {args[1]} for writing").ConfigureAwait(false);
            return e is UnauthorizedAccessException ? 13 : 2;
        }
        await using (file.ConfigureAwait(false))
        {
            var records = await TraverseAsync(ctx, db.Id, withEmpty: false).ConfigureAwait(false);
            var backup = new DbBackupFile(db.Name, db.Flags, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ChunkRecords(db.Id, records));
            await file.WriteAsync(backup.ToBytes(), ctx.Cancelled).ConfigureAwait(false);
        }
        await ctx.Out.WriteLineAsync($"Database backed up to {args[1]}").ConfigureAwait(false);
        return 0;
    }

    private static List<RecBuffer> ChunkRecords(uint dbId, IEnumerable<RecData> records)
    {
        var buffers = new List<RecBuffer>();
        var current = new List<RecData>();
        var size = 0;
        foreach (var rec in records)
        {
            current.Add(rec with { ReqId = 0 });
            size += rec.WireLength;
            if (size >= BackupBufferLimit)
            {
                buffers.Add(new RecBuffer(dbId, current));
                current = [];
                size = 0;
            }
        }
        if (current.Count > 0)
            buffers.Add(new RecBuffer(dbId, current));
        return buffers;
    }

    private static async Task<DbBackupFile?> ReadBackupAsync(ToolContext ctx, string path, bool announceRestore, string? newName)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, ctx.Cancelled).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await ctx.Err.WriteLineAsync($"Failed to open file {path} for reading").ConfigureAwait(false);
            throw new ToolExitException(e is UnauthorizedAccessException ? 13 : 2);
        }
        try
        {
            var head = DbBackupFile.ReadHeader(bytes, out _);
            var verb = announceRestore ? "Restoring" : "Dumping";
            await ctx.Out.WriteLineAsync($"{verb} database {newName ?? head.Name} from backup @ {head.TimestampText()}").ConfigureAwait(false);
            return DbBackupFile.Parse(bytes);
        }
        catch (DbBackupFormatException e)
        {
            await ctx.Err.WriteLineAsync(e.Message).ConfigureAwait(false);
            throw new ToolExitException(e.ExitCode);
        }
    }

    public static async Task<int> DumpDbBackupAsync(ToolContext ctx, string[] args)
    {
        var backup = await ReadBackupAsync(ctx, args[0], announceRestore: false, newName: null).ConfigureAwait(false);
        var sb = new StringBuilder();
        var count = 0;
        foreach (var rec in backup!.Buffers.SelectMany(b => b.Records))
        {
            if (!rec.TrySplitHeader(out var header, out var value))
                continue;
            sb.Append(RecordText(rec.Key, header, value));
            count++;
        }
        sb.Append(Inv, $"Dumped {count} record(s)\n");
        await ctx.Out.WriteAsync(sb.ToString()).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> RestoreDbAsync(ToolContext ctx, string[] args)
    {
        var newName = args.Length > 1 ? args[1] : null;
        var backup = (await ReadBackupAsync(ctx, args[0], announceRestore: true, newName).ConfigureAwait(false))!;
        var name = newName ?? backup.Name;
        var kind = backup.Flags & (DbFlags.Persistent | DbFlags.Replicated);
        var dbId = await ctx.Ctl(ControlOpcode.DbAttach, ctx.Pnn, ctx.Client.AttachDbAsync(ctx.Pnn, name, kind, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var map = await Cmd.GetNodeMapAsync(ctx).ConfigureAwait(false);
        var active = map.Nodes.Where(n => (n.Flags & NodeFlags.Inactive) == 0).Select(n => n.Pnn).ToList();
        var vnn = await ctx.Ctl(ControlOpcode.GetVnnMap, ctx.Pnn, ctx.Client.GetVnnMapAsync(ctx.Pnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var id = BitConverter.GetBytes(dbId);
        var trans = new TransDb(dbId, vnn.Generation).ToBytes();
        var srvid = Srvid.ClientRange | (uint)Environment.ProcessId;
        var records = backup.Buffers.SelectMany(b => b.Records).ToList();

        async Task<byte[][]> All(ControlOpcode op, byte[] data)
        {
            var tasks = active.Select(pnn => ctx.Client.ControlCheckedAsync(pnn, op, data, ctx.Timeout, ct: ctx.Cancelled)).ToArray();
            var replies = await Task.WhenAll(tasks).ConfigureAwait(false);
            return [.. replies.Select(r => r.Data.ToArray())];
        }
        try
        {
            await All(ControlOpcode.DbFreeze, id).ConfigureAwait(false);
            await All(ControlOpcode.DbTransactionStart, trans).ConfigureAwait(false);
            await All(ControlOpcode.WipeDatabase, trans).ConfigureAwait(false);
            await All(ControlOpcode.DbPushStart, new PullDbExt(dbId, Protocol.Pnn.Unknown /* CTDB_LMASTER_ANY */, srvid).ToBytes()).ConfigureAwait(false);
            foreach (var buffer in ChunkRecords(dbId, records))
            {
                var data = buffer.ToBytes();
                foreach (var pnn in active)
                    await ctx.Client.SendMessageAsync(pnn, srvid, data, ctx.Cancelled).ConfigureAwait(false);
            }
            var confirmed = await All(ControlOpcode.DbPushConfirm, id).ConfigureAwait(false);
            for (var i = 0; i < confirmed.Length; i++)
            {
                var got = confirmed[i].Length >= 4 ? BitConverter.ToUInt32(confirmed[i]) : uint.MaxValue;
                if (got != records.Count)
                    throw new InvalidDataException($"node {active[i]} received {got} of {records.Count} records");
            }
            await All(ControlOpcode.DbSetHealthy, id).ConfigureAwait(false);
            await All(ControlOpcode.DbTransactionCommit, trans).ConfigureAwait(false);
            await All(ControlOpcode.DbThaw, id).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ControlErrorException or InvalidDataException or Client.ControlFailedException or Client.ControlTimeoutException)
        {
            // Leave the cluster consistent: a recovery rebuilds the database everywhere.
            await ctx.Client.ControlAsync(ctx.Pnn, ControlOpcode.SetRecMode, BitConverter.GetBytes((uint)RecoveryMode.Active), ctx.Timeout,
                ct: ctx.Cancelled).ConfigureAwait(false);
            await ctx.Err.WriteLineAsync($"Failed to restore database {name}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        await ctx.Out.WriteLineAsync($"Database {name} restored").ConfigureAwait(false);
        return 0;
    }
}
