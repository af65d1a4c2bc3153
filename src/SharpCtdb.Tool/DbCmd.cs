using System.Globalization;
using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>A database as the commands find it: by name or by 0x id.</summary>
public sealed record DbRef(uint Id, string Name, DbFlags Flags)
{
    public bool IsVolatile => (Flags & (DbFlags.Persistent | DbFlags.Replicated)) == 0;
}

/// <summary>Database commands: map/status, attach/detach, flags, record access through the local tdb file.</summary>
public static partial class DbCmd
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>db_find(): "0x..." matches an id, anything else a name; prints the 4.17 error when nothing matches.</summary>
    public static async Task<DbRef> FindAsync(ToolContext ctx, string text, uint? node = null)
    {
        var pnn = node ?? ctx.CmdPnn;
        var map = await ctx.Ctl(ControlOpcode.GetDbMap, pnn, ctx.Client.GetDbMapAsync(pnn, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        uint? id = null;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
            uint.TryParse(text.AsSpan(2), NumberStyles.HexNumber, Inv, out var parsed))
            id = parsed;
        foreach (var db in map.Dbs)
        {
            if (id is { } want)
            {
                if (db.DbId != want)
                    continue;
                var n = await ctx.Ctl(ControlOpcode.GetDbName, pnn, ctx.Client.GetDbNameAsync(pnn, db.DbId, ctx.Timeout, ctx.Cancelled))
                    .ConfigureAwait(false);
                return new DbRef(db.DbId, n, db.Flags);
            }
            var name = await ctx.Ctl(ControlOpcode.GetDbName, pnn, ctx.Client.GetDbNameAsync(pnn, db.DbId, ctx.Timeout, ctx.Cancelled))
                .ConfigureAwait(false);
            if (name == text)
                return new DbRef(db.DbId, name, db.Flags);
        }
        await ctx.Err.WriteLineAsync($"No database matching '{text}' found").ConfigureAwait(false);
        throw new ToolExitException(1);
    }

    public static async Task<int> GetDbMapAsync(ToolContext ctx, string[] args)
    {
        var map = await ctx.Ctl(ControlOpcode.GetDbMap, ctx.CmdPnn, ctx.Client.GetDbMapAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var rows = new List<(DbIdEntry Db, string Name, string Path, bool Unhealthy)>();
        foreach (var db in map.Dbs)
        {
            var name = await ctx.Ctl(ControlOpcode.GetDbName, ctx.CmdPnn,
                ctx.Client.GetDbNameAsync(ctx.CmdPnn, db.DbId, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
            var path = await ctx.Ctl(ControlOpcode.GetDbPath, ctx.CmdPnn,
                ctx.Client.GetDbPathAsync(ctx.CmdPnn, db.DbId, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
            var health = await ctx.Ctl(ControlOpcode.DbGetHealth, ctx.CmdPnn,
                ctx.Client.GetDbHealthAsync(ctx.CmdPnn, db.DbId, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
            rows.Add((db, name, path, health is not null));
        }
        if (ctx.Machine)
        {
            await ctx.Out.WriteLineAsync(NodeStatus.Row(ctx.Sep, "ID", "Name", "Path", "Persistent", "Sticky", "Unhealthy", "Readonly",
                "Replicated")).ConfigureAwait(false);
            foreach (var (db, name, path, unhealthy) in rows)
            {
                static string B(bool b) => b ? "1" : "0";
                await ctx.Out.WriteLineAsync(NodeStatus.Row(ctx.Sep, $"0x{db.DbId:X8}", name, path, B((db.Flags & DbFlags.Persistent) != 0),
                    B((db.Flags & DbFlags.Sticky) != 0), B(unhealthy), B((db.Flags & DbFlags.ReadOnly) != 0),
                    B((db.Flags & DbFlags.Replicated) != 0))).ConfigureAwait(false);
            }
            return 0;
        }
        await ctx.Out.WriteLineAsync($"Number of databases:{rows.Count}").ConfigureAwait(false);
        foreach (var (db, name, path, unhealthy) in rows)
        {
            var sb = new StringBuilder();
            sb.Append(Inv, $"dbid:0x{db.DbId:x8} name:{name} path:{path}");
            if ((db.Flags & DbFlags.Persistent) != 0)
                sb.Append(" PERSISTENT");
            if ((db.Flags & DbFlags.Sticky) != 0)
                sb.Append(" STICKY");
            if ((db.Flags & DbFlags.ReadOnly) != 0)
                sb.Append(" READONLY");
            if ((db.Flags & DbFlags.Replicated) != 0)
                sb.Append(" REPLICATED");
            if (unhealthy)
                sb.Append(" UNHEALTHY");
            await ctx.Out.WriteLineAsync(sb.ToString()).ConfigureAwait(false);
        }
        return 0;
    }

    public static async Task<int> GetDbStatusAsync(ToolContext ctx, string[] args)
    {
        var db = await FindAsync(ctx, args[0]).ConfigureAwait(false);
        var path = await ctx.Ctl(ControlOpcode.GetDbPath, ctx.CmdPnn, ctx.Client.GetDbPathAsync(ctx.CmdPnn, db.Id, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var health = await ctx.Ctl(ControlOpcode.DbGetHealth, ctx.CmdPnn,
            ctx.Client.GetDbHealthAsync(ctx.CmdPnn, db.Id, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        static string YesNo(bool b) => b ? "yes" : "no";
        var o = ctx.Out;
        await o.WriteLineAsync($"dbid: 0x{db.Id:x8}").ConfigureAwait(false);
        await o.WriteLineAsync($"name: {db.Name}").ConfigureAwait(false);
        await o.WriteLineAsync($"path: {path}").ConfigureAwait(false);
        await o.WriteLineAsync($"PERSISTENT: {YesNo((db.Flags & DbFlags.Persistent) != 0)}").ConfigureAwait(false);
        await o.WriteLineAsync($"REPLICATED: {YesNo((db.Flags & DbFlags.Replicated) != 0)}").ConfigureAwait(false);
        await o.WriteLineAsync($"STICKY: {YesNo((db.Flags & DbFlags.Sticky) != 0)}").ConfigureAwait(false);
        await o.WriteLineAsync($"READONLY: {YesNo((db.Flags & DbFlags.ReadOnly) != 0)}").ConfigureAwait(false);
        await o.WriteLineAsync($"HEALTH: {health ?? "OK"}").ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> GetDbSeqnumAsync(ToolContext ctx, string[] args)
    {
        var db = await FindAsync(ctx, args[0]).ConfigureAwait(false);
        var seq = await ctx.Ctl(ControlOpcode.GetDbSeqnum, ctx.CmdPnn,
            ctx.Client.GetDbSeqnumAsync(ctx.CmdPnn, db.Id, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        await ctx.Out.WriteLineAsync($"0x{seq:x}").ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> SetDbFlagAsync(ToolContext ctx, string text, ControlOpcode op, string what)
    {
        var db = await FindAsync(ctx, text).ConfigureAwait(false);
        if (!db.IsVolatile)
        {
            await ctx.Err.WriteLineAsync($"{what} can be set only on volatile DB").ConfigureAwait(false);
            return 1;
        }
        await SetDbFlagOnAllAsync(ctx, db.Id, op).ConfigureAwait(false);
        return 0;
    }

    private static async Task SetDbFlagOnAllAsync(ToolContext ctx, uint dbId, ControlOpcode op)
    {
        var map = await Cmd.GetNodeMapAsync(ctx).ConfigureAwait(false);
        foreach (var n in map.Nodes.Where(n => (n.Flags & (NodeFlags.Disconnected | NodeFlags.Deleted)) == 0))
        {
            await ctx.Ctl(op, n.Pnn, ctx.Client.RawDataAsync(n.Pnn, op, BitConverter.GetBytes(dbId), ctx.Timeout, ctx.Cancelled))
                .ConfigureAwait(false);
        }
    }

    public static Task<int> SetDbReadonlyAsync(ToolContext ctx, string[] args) =>
        SetDbFlagAsync(ctx, args[0], ControlOpcode.SetDbReadonly, "READONLY");

    public static Task<int> SetDbStickyAsync(ToolContext ctx, string[] args) => SetDbFlagAsync(ctx, args[0], ControlOpcode.SetDbSticky, "STICKY");

    public static async Task<int> DbStatisticsAsync(ToolContext ctx, string[] args)
    {
        var db = await FindAsync(ctx, args[0]).ConfigureAwait(false);
        var data = await ctx.Ctl(ControlOpcode.GetDbStatistics, ctx.CmdPnn, ctx.Client.RawDataAsync(ctx.CmdPnn, ControlOpcode.GetDbStatistics,
            BitConverter.GetBytes(db.Id), ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        var s = DbStatistics.FromBytes(data);
        var sb = new StringBuilder();
        sb.Append("DB Statistics ").Append(db.Name).Append('\n');
        sb.Append(Inv, $" {"db_ro_delegations",-22}    {s.DbRoDelegations,10}\n");
        sb.Append(Inv, $" {"db_ro_revokes",-22}    {s.DbRoRevokes,10}\n");
        sb.Append(" locks\n");
        sb.Append(Inv, $"     {"num_calls",-22}{s.LocksNumCalls,10}\n");
        sb.Append(Inv, $"     {"num_current",-22}{s.LocksNumCurrent,10}\n");
        sb.Append(Inv, $"     {"num_pending",-22}{s.LocksNumPending,10}\n");
        sb.Append(Inv, $"     {"num_failed",-22}{s.LocksNumFailed,10}\n");
        sb.Append(" hop_count_buckets:");
        foreach (var b in s.HopCountBucket)
            sb.Append(Inv, $" {b}");
        sb.Append("\n lock_buckets:");
        foreach (var b in s.LocksBuckets)
            sb.Append(Inv, $" {b}");
        sb.Append('\n');
        static double Avg(LatencyCounter l) => l.Num == 0 ? 0 : l.Total / l.Num;
        sb.Append(Inv, $" {"locks_latency",-18} MIN/AVG/MAX     {s.LocksLatency.Min:F6}/{Avg(s.LocksLatency):F6}/{s.LocksLatency.Max:F6} sec out of {s.LocksLatency.Num}\n");
        sb.Append(Inv, $" {"vacuum_latency",-18} MIN/AVG/MAX     {s.VacuumLatency.Min:F6}/{Avg(s.VacuumLatency):F6}/{s.VacuumLatency.Max:F6} sec out of {s.VacuumLatency.Num}\n");
        sb.Append(Inv, $" Num Hot Keys:     {s.NumHotKeys}\n");
        foreach (var k in s.HotKeys)
            sb.Append(Inv, $"     Count:{k.Count} Key:{HexOrText(k.Key)}\n");
        await ctx.Out.WriteAsync(sb.ToString()).ConfigureAwait(false);
        return 0;
    }

    private static string HexOrText(byte[] key)
    {
        var sb = new StringBuilder();
        foreach (var b in key)
        {
            if (b >= 0x20 && b < 0x7F)
                sb.Append((char)b);
            else
                sb.Append(Inv, $"\\{b:X2}");
        }
        return sb.ToString();
    }
}
