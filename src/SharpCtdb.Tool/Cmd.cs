using System.Diagnostics;
using System.Globalization;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>Status, node information, tunables and helper commands.</summary>
public static partial class Cmd
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> VersionAsync(ToolContext ctx, string[] args)
    {
        await ctx.Out.WriteLineAsync(ToolProgram.Version).ConfigureAwait(false);
        return 0;
    }

    /// <summary>get_nodemap(): from our own node, or from another connected node when ours is banned.</summary>
    public static async Task<NodeMap> GetNodeMapAsync(ToolContext ctx)
    {
        var map = await ctx.Ctl(ControlOpcode.GetNodeMap, ctx.Pnn, ctx.Client.GetNodeMapAsync(ctx.Pnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var self = map.Find(ctx.Pnn);
        if (self is null || (self.Flags & NodeFlags.Banned) == 0)
            return map;
        foreach (var n in map.Nodes)
        {
            if (n.Pnn == ctx.Pnn || (n.Flags & (NodeFlags.Deleted | NodeFlags.Disconnected)) != 0)
                continue;
            return await ctx.Ctl(ControlOpcode.GetNodeMap, n.Pnn, ctx.Client.GetNodeMapAsync(n.Pnn, ctx.Timeout, ctx.Cancelled))
                .ConfigureAwait(false);
        }
        return map;
    }

    /// <summary>The node list with the UNKNOWN masking and partially-online detection of 4.17's status output.</summary>
    public static async Task<List<NodeView>> NodeViewsAsync(ToolContext ctx, NodeMap map)
    {
        var runstate = await ctx.Ctl(ControlOpcode.GetRunState, ctx.CmdPnn, ctx.Client.GetRunStateAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var views = new List<NodeView>();
        foreach (var n in map.Nodes)
        {
            var flags = n.Flags;
            if (runstate <= RunState.FirstRecovery && n.Pnn != ctx.CmdPnn && (flags & (NodeFlags.Disconnected | NodeFlags.Deleted)) == 0)
                flags = NodeFlags.Unknown;
            var partially = false;
            if (flags == 0)
            {
                var ifaces = await ctx.Ctl(ControlOpcode.GetIfaces, n.Pnn, ctx.Client.GetIfacesAsync(n.Pnn, ctx.Timeout, ctx.Cancelled))
                    .ConfigureAwait(false);
                partially = ifaces.Ifaces.Any(i => i.LinkState == 0);
            }
            views.Add(new NodeView(n.Pnn, n.Addr.ToString(), flags, partially));
        }
        return views;
    }

    private static async Task PrintNodesAsync(ToolContext ctx, List<NodeView> views, bool header)
    {
        if (ctx.Machine)
        {
            await ctx.Out.WriteLineAsync(NodeStatus.MachineHeader(ctx.Sep)).ConfigureAwait(false);
            foreach (var v in views.Where(v => (v.Flags & NodeFlags.Deleted) == 0))
                await ctx.Out.WriteLineAsync(NodeStatus.MachineLine(v, ctx.CmdPnn, ctx.Sep)).ConfigureAwait(false);
            return;
        }
        if (header)
        {
            var deleted = views.Count(v => (v.Flags & NodeFlags.Deleted) != 0);
            await ctx.Out.WriteLineAsync(deleted == 0
                ? $"Number of nodes:{views.Count}"
                : $"Number of nodes:{views.Count} (including {deleted} deleted nodes)").ConfigureAwait(false);
        }
        foreach (var v in views.Where(v => (v.Flags & NodeFlags.Deleted) == 0))
            await ctx.Out.WriteLineAsync(NodeStatus.HumanLine(v, ctx.CmdPnn)).ConfigureAwait(false);
    }

    public static async Task<int> StatusAsync(ToolContext ctx, string[] args)
    {
        var map = await GetNodeMapAsync(ctx).ConfigureAwait(false);
        var views = await NodeViewsAsync(ctx, map).ConfigureAwait(false);
        if (ctx.Options.Json)
        {
            var vnn = await ctx.Ctl(ControlOpcode.GetVnnMap, ctx.CmdPnn, ctx.Client.GetVnnMapAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
                .ConfigureAwait(false);
            var mode = await ctx.Ctl(ControlOpcode.GetRecMode, ctx.CmdPnn, ctx.Client.GetRecModeAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
                .ConfigureAwait(false);
            var leaderPnn = await ctx.GetLeaderAsync().ConfigureAwait(false);
            await ctx.Out.WriteLineAsync(JsonOutput.Status(views, ctx.CmdPnn, vnn, mode, leaderPnn)).ConfigureAwait(false);
            return 0;
        }
        await PrintNodesAsync(ctx, views, header: true).ConfigureAwait(false);
        if (ctx.Machine)
            return 0;
        var vnnmap = await ctx.Ctl(ControlOpcode.GetVnnMap, ctx.CmdPnn, ctx.Client.GetVnnMapAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        await ctx.Out.WriteLineAsync(vnnmap.Generation == Wire.InvalidGeneration ? "Generation:INVALID" : $"Generation:{vnnmap.Generation}")
            .ConfigureAwait(false);
        await ctx.Out.WriteLineAsync($"Size:{vnnmap.Map.Length}").ConfigureAwait(false);
        for (var i = 0; i < vnnmap.Map.Length; i++)
            await ctx.Out.WriteLineAsync($"hash:{i} lmaster:{vnnmap.Map[i]}").ConfigureAwait(false);
        var recmode = await ctx.Ctl(ControlOpcode.GetRecMode, ctx.CmdPnn, ctx.Client.GetRecModeAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        await ctx.Out.WriteLineAsync(recmode == RecoveryMode.Normal ? "Recovery mode:NORMAL (0)" : "Recovery mode:RECOVERY (1)")
            .ConfigureAwait(false);
        var leader = await ctx.GetLeaderAsync().ConfigureAwait(false);
        await ctx.Out.WriteLineAsync(leader == Pnn.Unknown ? "Leader:UNKNOWN" : $"Leader:{leader}").ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> NodeStatusAsync(ToolContext ctx, string[] args)
    {
        var map = await GetNodeMapAsync(ctx).ConfigureAwait(false);
        var all = args.Length > 0 && args[0] == "all";
        List<uint> wanted;
        if (args.Length == 0)
            wanted = [ctx.CmdPnn];
        else if (all)
            wanted = [.. map.Nodes.Select(n => n.Pnn)];
        else
            wanted = ParseNodeList(ctx, args[0], map);
        var views = await NodeViewsAsync(ctx, map).ConfigureAwait(false);
        var selected = views.Where(v => wanted.Contains(v.Pnn)).ToList();
        await PrintNodesAsync(ctx, selected, header: all).ConfigureAwait(false);
        uint rc = 0;
        foreach (var v in selected)
            rc |= (uint)v.Flags;
        return (int)rc;
    }

    /// <summary>"0,2,3": each element read like strtoul (leading digits), each must exist.</summary>
    public static List<uint> ParseNodeList(ToolContext ctx, string text, NodeMap map)
    {
        var result = new List<uint>();
        foreach (var part in text.Split(','))
        {
            var digits = new string([.. part.TakeWhile(char.IsAsciiDigit)]);
            if (digits.Length == 0)
            {
                ctx.Err.WriteLine($"Invalid node {part}");
                throw new ToolExitException(1);
            }
            var pnn = uint.Parse(digits, Inv);
            if (map.Find(pnn) is null)
            {
                ctx.Err.WriteLine($"Node {pnn} does not exist");
                throw new ToolExitException(1);
            }
            result.Add(pnn);
        }
        return result;
    }

    public static async Task<int> PnnAsync(ToolContext ctx, string[] args)
    {
        await ctx.Out.WriteLineAsync(ctx.Pnn.ToString(Inv)).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> PingAsync(ToolContext ctx, string[] args)
    {
        var sw = Stopwatch.StartNew();
        var clients = await ctx.Ctl(ControlOpcode.Ping, ctx.CmdPnn, ctx.Client.PingAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var secs = sw.Elapsed.TotalSeconds;
        await ctx.Out.WriteLineAsync(string.Create(Inv, $"response from {ctx.CmdPnn} time={secs:F6} sec  ({clients} clients)"))
            .ConfigureAwait(false);
        return 0;
    }

    /// <summary>ctime(3) text without the newline, in local time.</summary>
    public static string CTime(Timeval t)
    {
        var local = TimeZoneInfo.ConvertTime(t.ToDateTimeOffset(), TimeZoneInfo.Local);
        return string.Create(Inv, $"{local:ddd} {local:MMM} {local.Day,2} {local:HH:mm:ss} {local.Year}");
    }

    private static string Duration(long seconds)
    {
        var days = seconds / 86400;
        var rest = seconds % 86400;
        return string.Create(Inv, $"({days:000} {rest / 3600:00}:{rest % 3600 / 60:00}:{rest % 60:00})");
    }

    public static async Task<int> UptimeAsync(ToolContext ctx, string[] args)
    {
        var u = await ctx.Ctl(ControlOpcode.Uptime, ctx.CmdPnn, ctx.Client.GetUptimeAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var o = ctx.Out;
        await o.WriteLineAsync($"Current time of node {ctx.CmdPnn,-4}     :                {CTime(u.CurrentTime)}").ConfigureAwait(false);
        await o.WriteLineAsync($"Ctdbd start time              : {Duration(u.CurrentTime.Sec - u.CtdbdStartTime.Sec)} {CTime(u.CtdbdStartTime)}")
            .ConfigureAwait(false);
        await o.WriteLineAsync(
            $"Time of last recovery/failover: {Duration(u.CurrentTime.Sec - u.LastRecoveryFinished.Sec)} {CTime(u.LastRecoveryFinished)}")
            .ConfigureAwait(false);
        var dur = u.LastRecoveryFinished.TotalSeconds - u.LastRecoveryStarted.TotalSeconds;
        await o.WriteLineAsync(string.Create(Inv, $"Duration of last recovery/failover: {dur:F6} seconds")).ConfigureAwait(false);
        return 0;
    }

    private static readonly string[] RunStateNames = ["UNKNOWN", "INIT", "SETUP", "FIRST_RECOVERY", "STARTUP", "RUNNING", "SHUTDOWN"];

    private static string RunStateName(RunState s) => (uint)s < RunStateNames.Length ? RunStateNames[(int)s] : "UNKNOWN";

    public static async Task<int> RunStateAsync(ToolContext ctx, string[] args)
    {
        var wanted = new List<RunState>();
        foreach (var a in args)
        {
            var idx = Array.FindIndex(RunStateNames, n => string.Equals(n, a, StringComparison.OrdinalIgnoreCase));
            if (idx < 0)
            {
                await ctx.Err.WriteLineAsync($"Invalid run state ({a})").ConfigureAwait(false);
                return 1;
            }
            wanted.Add((RunState)idx);
        }
        var state = await ctx.Ctl(ControlOpcode.GetRunState, ctx.CmdPnn, ctx.Client.GetRunStateAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        if (wanted.Count > 0 && !wanted.Contains(state))
        {
            await ctx.Err.WriteLineAsync($"CTDB not in required run state (got {RunStateName(state)})").ConfigureAwait(false);
            return 1;
        }
        await ctx.Out.WriteLineAsync(RunStateName(state)).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> GetPidAsync(ToolContext ctx, string[] args)
    {
        var pid = await ctx.Ctl(ControlOpcode.GetPid, ctx.CmdPnn, ctx.Client.GetPidAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        await ctx.Out.WriteLineAsync(pid.ToString(Inv)).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> GetCapabilitiesAsync(ToolContext ctx, string[] args)
    {
        var caps = await ctx.Ctl(ControlOpcode.GetCapabilities, ctx.CmdPnn,
            ctx.Client.GetCapabilitiesAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        var leader = (caps & Capabilities.Recmaster) != 0;
        var lmaster = (caps & Capabilities.Lmaster) != 0;
        if (ctx.Machine)
        {
            await ctx.Out.WriteLineAsync(NodeStatus.Row(ctx.Sep, "LEADER", "LMASTER")).ConfigureAwait(false);
            await ctx.Out.WriteLineAsync(NodeStatus.Row(ctx.Sep, leader ? "1" : "0", lmaster ? "1" : "0")).ConfigureAwait(false);
        }
        else
        {
            await ctx.Out.WriteLineAsync($"LEADER: {(leader ? "YES" : "NO")}").ConfigureAwait(false);
            await ctx.Out.WriteLineAsync($"LMASTER: {(lmaster ? "YES" : "NO")}").ConfigureAwait(false);
        }
        return 0;
    }

    private static async Task<IReadOnlyList<string>> TunableNamesAsync(ToolContext ctx) =>
        await ctx.Ctl(ControlOpcode.ListTunables, ctx.CmdPnn, ctx.Client.ListTunablesAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);

    public static async Task<int> GetVarAsync(ToolContext ctx, string[] args)
    {
        var names = await TunableNamesAsync(ctx).ConfigureAwait(false);
        if (!names.Any(n => string.Equals(n, args[0], StringComparison.OrdinalIgnoreCase)))
        {
            await ctx.Err.WriteLineAsync($"No such tunable {args[0]}").ConfigureAwait(false);
            return 1;
        }
        var value = await ctx.Ctl(ControlOpcode.GetTunable, ctx.CmdPnn,
            ctx.Client.GetTunableAsync(ctx.CmdPnn, args[0], ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        await ctx.Out.WriteLineAsync($"{args[0],-26} = {value}").ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> SetVarAsync(ToolContext ctx, string[] args)
    {
        if (!TryParseULong(args[1], out var value) || value > uint.MaxValue)
            return 22;
        var names = await TunableNamesAsync(ctx).ConfigureAwait(false);
        if (!names.Any(n => string.Equals(n, args[0], StringComparison.OrdinalIgnoreCase)))
        {
            await ctx.Err.WriteLineAsync($"No such tunable {args[0]}").ConfigureAwait(false);
            return 1;
        }
        var obsolete = await ctx.Ctl(ControlOpcode.SetTunable, ctx.CmdPnn,
            ctx.Client.SetTunableAsync(ctx.CmdPnn, args[0], (uint)value, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        if (obsolete)
            await ctx.Err.WriteLineAsync($"Setting obsolete tunable variable '{args[0]}'").ConfigureAwait(false);
        return 0;
    }

    /// <summary>strtoul-like: decimal, or hex with 0x; the whole text must be a number.</summary>
    public static bool TryParseULong(string s, out ulong value)
    {
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(s.AsSpan(2), NumberStyles.HexNumber, Inv, out value);
        return ulong.TryParse(s, NumberStyles.None, Inv, out value);
    }

    public static async Task<int> ListVarsAsync(ToolContext ctx, string[] args)
    {
        var names = await TunableNamesAsync(ctx).ConfigureAwait(false);
        foreach (var name in names)
        {
            var value = await ctx.Ctl(ControlOpcode.GetTunable, ctx.CmdPnn,
                ctx.Client.GetTunableAsync(ctx.CmdPnn, name, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
            await ctx.Out.WriteLineAsync($"{name,-26} = {value}").ConfigureAwait(false);
        }
        return 0;
    }

    public static async Task<int> GetDebugAsync(ToolContext ctx, string[] args)
    {
        var level = await ctx.Ctl(ControlOpcode.GetDebug, ctx.CmdPnn, ctx.Client.GetDebugAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        await ctx.Out.WriteLineAsync(DebugLevels.NameOf(level)).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Level names as 4.17 accepts them: the five names, their old short forms, or a number.</summary>
    public static bool TryParseDebugLevel(string text, out int level)
    {
        switch (text.ToUpperInvariant())
        {
            case "ERR":
                level = 0;
                return true;
            case "WARN":
                level = 1;
                return true;
        }
        return DebugLevels.TryParse(text, out level);
    }

    public static async Task<int> SetDebugAsync(ToolContext ctx, string[] args)
    {
        if (!TryParseDebugLevel(args[0], out var level))
        {
            await ctx.Err.WriteLineAsync($"Invalid debug level '{args[0]}'. Valid levels are:").ConfigureAwait(false);
            await ctx.Err.WriteLineAsync("\tERROR | WARNING | NOTICE | INFO | DEBUG").ConfigureAwait(false);
            return 1;
        }
        await ctx.Ctl(ControlOpcode.SetDebug, ctx.CmdPnn, ctx.Client.SetDebugAsync(ctx.CmdPnn, level, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> LeaderAsync(ToolContext ctx, string[] args)
    {
        var leader = await ctx.GetLeaderAsync().ConfigureAwait(false);
        await ctx.Out.WriteLineAsync(leader == Pnn.Unknown ? "UNKNOWN" : leader.ToString(Inv)).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> GetReclockAsync(ToolContext ctx, string[] args)
    {
        var reclock = await ctx.Ctl(ControlOpcode.GetReclockFile, ctx.CmdPnn,
            ctx.Client.GetReclockAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(reclock))
            await ctx.Out.WriteLineAsync(reclock).ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> SetRoleAsync(ToolContext ctx, string arg, ControlOpcode op)
    {
        uint on;
        if (arg == "on")
            on = 1;
        else if (arg == "off")
            on = 0;
        else
        {
            await ctx.Out.WriteAsync(Usage.ForCommand(Commands.Find(op == ControlOpcode.SetLmasterRole ? "setlmasterrole" : "setleaderrole")!))
                .ConfigureAwait(false);
            return 1;
        }
        await ctx.Ctl(op, ctx.CmdPnn, ctx.Client.RawDataAsync(ctx.CmdPnn, op, BitConverter.GetBytes(on), ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        return 0;
    }

    public static Task<int> SetLmasterRoleAsync(ToolContext ctx, string[] args) => SetRoleAsync(ctx, args[0], ControlOpcode.SetLmasterRole);

    public static Task<int> SetLeaderRoleAsync(ToolContext ctx, string[] args) => SetRoleAsync(ctx, args[0], ControlOpcode.SetRecmasterRole);

    public static async Task<int> ProcessExistsAsync(ToolContext ctx, string[] args)
    {
        var pid = (int)LeadingNumber(args[0]);
        if (args.Length == 1)
        {
            var exists = await ctx.Ctl(ControlOpcode.ProcessExists, ctx.CmdPnn,
                ctx.Client.ProcessExistsAsync(ctx.CmdPnn, pid, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
            await ctx.Out.WriteLineAsync(exists ? $"PID {pid} exists" : $"PID {pid} does not exist").ConfigureAwait(false);
            return exists ? 0 : 1;
        }
        if (!TryParseULong(args[1], out var srvid))
            return 22;
        var reply = await ctx.Client.ControlAsync(ctx.CmdPnn, ControlOpcode.CheckPidSrvid, new PidSrvid(pid, srvid).ToBytes(), ctx.Timeout,
            ct: ctx.Cancelled).ConfigureAwait(false);
        var ok = reply.Status == 0;
        await ctx.Out.WriteLineAsync(ok ? $"PID {pid} with SRVID 0x{srvid:x} exists" : $"PID {pid} with SRVID 0x{srvid:x} does not exist")
            .ConfigureAwait(false);
        return ok ? 0 : 1;
    }

    /// <summary>atoi/strtoul-like: the leading decimal digits, 0 if none.</summary>
    public static long LeadingNumber(string s)
    {
        var digits = new string([.. s.TakeWhile(char.IsAsciiDigit)]);
        return digits.Length == 0 ? 0 : long.Parse(digits, Inv);
    }

    public static async Task<int> DumpMemoryAsync(ToolContext ctx, string[] args)
    {
        var data = await ctx.Ctl(ControlOpcode.DumpMemory, ctx.CmdPnn,
            ctx.Client.RawDataAsync(ctx.CmdPnn, ControlOpcode.DumpMemory, null, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        await ctx.Out.WriteAsync(Client.CtdbClient.DecodeString(data)).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> RdDumpMemoryAsync(ToolContext ctx, string[] args)
    {
        var srvid = Srvid.ToolRange | ((ulong)(Environment.ProcessId & 0xFFFF) << 16) | 2;
        var reply = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        ctx.Client.SetMessageHandler(srvid, (_, data) => reply.TrySetResult(data));
        await ctx.Ctl(ControlOpcode.RegisterSrvid, ctx.Pnn, ctx.Client.RegisterSrvidAsync(srvid, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        await ctx.Client.SendMessageAsync(ctx.CmdPnn, Srvid.MemDump, new SrvidMessage(ctx.Pnn, srvid).ToBytes(), ctx.Cancelled)
            .ConfigureAwait(false);
        try
        {
            var data = await reply.Task.WaitAsync(ctx.Timeout, ctx.Cancelled).ConfigureAwait(false);
            await ctx.Out.WriteAsync(Client.CtdbClient.DecodeString(data)).ConfigureAwait(false);
            return 0;
        }
        catch (TimeoutException)
        {
            await ctx.Err.WriteLineAsync("Memory dump timed out").ConfigureAwait(false);
            return 1;
        }
    }

    public static async Task<int> ListNodesAsync(ToolContext ctx, string[] args)
    {
        var path = ctx.NodesFile;
        List<NodesFileEntry> nodes;
        try
        {
            nodes = NodesFileReader.Read(path);
        }
        catch (IOException)
        {
            await ctx.Err.WriteLineAsync($"Failed to read nodes file \"{path}\"").ConfigureAwait(false);
            return 1;
        }
        if (ctx.Options.Json)
        {
            await ctx.Out.WriteLineAsync(JsonOutput.ListNodes(nodes)).ConfigureAwait(false);
            return 0;
        }
        foreach (var n in nodes.Where(n => !n.Deleted))
        {
            await ctx.Out.WriteLineAsync(ctx.Machine ? NodeStatus.Row(ctx.Sep, n.Pnn.ToString(Inv), n.Address) : n.Address)
                .ConfigureAwait(false);
        }
        return 0;
    }
}
