using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>One public IP as `ctdb ip` shows it, with its interface details (when known).</summary>
public sealed record IpView(SockAddr Addr, uint Pnn, PublicIpInfo? Info);

public static partial class Cmd
{
    /// <summary>IPv4 before IPv6, then by address bytes (what 4.17's sort does).</summary>
    public static int CompareAddr(SockAddr a, SockAddr b)
    {
        var fa = a.IsIPv6 ? 1 : 0;
        var fb = b.IsIPv6 ? 1 : 0;
        if (fa != fb)
            return fa.CompareTo(fb);
        var ba = a.Address.GetAddressBytes();
        var bb = b.Address.GetAddressBytes();
        return ba.AsSpan().SequenceCompareTo(bb);
    }

    public static async Task<int> IpAsync(ToolContext ctx, string[] args)
    {
        var all = false;
        if (args.Length == 1)
        {
            if (args[0] != "all")
            {
                await ctx.Out.WriteAsync(Usage.ForCommand(Commands.Find("ip")!)).ConfigureAwait(false);
                return 1;
            }
            all = true;
        }
        var ips = new List<(SockAddr Addr, uint Pnn)>();
        if (all)
        {
            var map = await GetNodeMapAsync(ctx).ConfigureAwait(false);
            foreach (var n in map.Nodes.Where(n => (n.Flags & NodeFlags.Inactive) == 0))
            {
                var list = await ctx.Ctl(ControlOpcode.GetPublicIps, n.Pnn,
                    ctx.Client.GetPublicIpsAsync(n.Pnn, false, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
                foreach (var ip in list.Ips)
                {
                    var idx = ips.FindIndex(x => x.Addr.SameAddress(ip.Addr));
                    // A node's claim wins; otherwise the IP stays unassigned.
                    var owner = ip.Pnn == n.Pnn ? n.Pnn : Pnn.Unknown;
                    if (idx < 0)
                        ips.Add((ip.Addr, owner));
                    else if (owner != Pnn.Unknown)
                        ips[idx] = (ips[idx].Addr, owner);
                }
            }
        }
        else
        {
            var list = await ctx.Ctl(ControlOpcode.GetPublicIps, ctx.CmdPnn,
                ctx.Client.GetPublicIpsAsync(ctx.CmdPnn, false, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
            ips.AddRange(list.Ips.Select(i => (i.Addr, i.Pnn)));
        }
        ips.Sort((a, b) => CompareAddr(a.Addr, b.Addr));
        var views = new List<IpView>();
        foreach (var (addr, pnn) in ips)
        {
            PublicIpInfo? info = null;
            if (pnn != Pnn.Unknown)
            {
                var target = all ? pnn : ctx.CmdPnn;
                info = await ctx.Ctl(ControlOpcode.GetPublicIpInfo, target,
                    ctx.Client.GetPublicIpInfoAsync(target, addr, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
            }
            views.Add(new IpView(addr, pnn, info));
        }
        if (ctx.Options.Json)
        {
            await ctx.Out.WriteLineAsync(JsonOutput.Ips(views, all ? null : ctx.CmdPnn)).ConfigureAwait(false);
            return 0;
        }
        var o = ctx.Out;
        if (ctx.Machine)
        {
            await o.WriteLineAsync(ctx.Options.Verbose
                ? NodeStatus.Row(ctx.Sep, "Public IP", "Node", "ActiveInterfaces", "AvailableInterfaces", "ConfiguredInterfaces")
                : NodeStatus.Row(ctx.Sep, "Public IP", "Node")).ConfigureAwait(false);
        }
        else
        {
            await o.WriteLineAsync(all ? "Public IPs on ALL nodes" : $"Public IPs on node {ctx.CmdPnn}").ConfigureAwait(false);
        }
        foreach (var v in views)
        {
            var pnnText = v.Pnn == Pnn.Unknown ? "-1" : v.Pnn.ToString(Inv);
            var (active, available, configured) = IfaceLists(v.Info);
            if (ctx.Machine)
            {
                await o.WriteLineAsync(ctx.Options.Verbose
                    ? NodeStatus.Row(ctx.Sep, v.Addr.ToString(), pnnText, active, available, configured)
                    : NodeStatus.Row(ctx.Sep, v.Addr.ToString(), pnnText)).ConfigureAwait(false);
            }
            else if (ctx.Options.Verbose)
            {
                await o.WriteLineAsync($"{v.Addr} node[{pnnText}] active[{active}] available[{available}] configured[{configured}]")
                    .ConfigureAwait(false);
            }
            else
            {
                await o.WriteLineAsync($"{v.Addr} {pnnText}").ConfigureAwait(false);
            }
        }
        return 0;
    }

    public static (string Active, string Available, string Configured) IfaceLists(PublicIpInfo? info)
    {
        if (info is null)
            return ("", "", "");
        var active = info.ActiveIface?.Name ?? "";
        var available = string.Join(',', info.Ifaces.Ifaces.Where(i => i.LinkState != 0).Select(i => i.Name));
        var configured = string.Join(',', info.Ifaces.Ifaces.Select(i => i.Name));
        return (active, available, configured);
    }

    public static bool TryParseIp(string text, out SockAddr addr)
    {
        addr = SockAddr.Unspecified;
        if (!IPAddress.TryParse(text, out var ip) || text.Contains(':', StringComparison.Ordinal) != (ip.AddressFamily == AddressFamily.InterNetworkV6))
            return false;
        addr = new SockAddr(ip);
        return true;
    }

    public static async Task<int> IpInfoAsync(ToolContext ctx, string[] args)
    {
        if (!TryParseIp(args[0], out var addr))
        {
            await ctx.Err.WriteLineAsync($"Invalid IP address {args[0]}").ConfigureAwait(false);
            return 1;
        }
        PublicIpInfo info;
        try
        {
            info = await ctx.Ctl(ControlOpcode.GetPublicIpInfo, ctx.CmdPnn,
                ctx.Client.GetPublicIpInfoAsync(ctx.CmdPnn, addr, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        }
        catch (ControlErrorException)
        {
            await ctx.Out.WriteLineAsync($"Node {ctx.CmdPnn} does not know about IP {args[0]}").ConfigureAwait(false);
            return 1;
        }
        if (ctx.Options.Json)
        {
            await ctx.Out.WriteLineAsync(JsonOutput.IpInfo(info, ctx.CmdPnn)).ConfigureAwait(false);
            return 0;
        }
        var o = ctx.Out;
        await o.WriteLineAsync($"Public IP[{info.Ip.Addr}] info on node {ctx.CmdPnn}").ConfigureAwait(false);
        await o.WriteLineAsync($"IP:{info.Ip.Addr}").ConfigureAwait(false);
        await o.WriteLineAsync($"CurrentNode:{(info.Ip.Pnn == Pnn.Unknown ? "-1" : info.Ip.Pnn.ToString(Inv))}").ConfigureAwait(false);
        await o.WriteLineAsync($"NumInterfaces:{info.Ifaces.Ifaces.Count}").ConfigureAwait(false);
        for (var i = 0; i < info.Ifaces.Ifaces.Count; i++)
        {
            var iface = info.Ifaces.Ifaces[i];
            await o.WriteLineAsync($"Interface[{i + 1}]: Name:{iface.Name} Link:{(iface.LinkState != 0 ? "up" : "down")} " +
                $"References:{iface.References}{(i == info.ActiveIdx ? " (active)" : "")}").ConfigureAwait(false);
        }
        return 0;
    }

    public static async Task<int> IfacesAsync(ToolContext ctx, string[] args)
    {
        var list = await ctx.Ctl(ControlOpcode.GetIfaces, ctx.CmdPnn, ctx.Client.GetIfacesAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        if (list.Ifaces.Count == 0)
        {
            await ctx.Out.WriteLineAsync($"No interfaces configured on node {ctx.CmdPnn}").ConfigureAwait(false);
            return 0;
        }
        if (ctx.Machine)
        {
            await ctx.Out.WriteLineAsync(NodeStatus.Row(ctx.Sep, "Name", "LinkStatus", "References")).ConfigureAwait(false);
            foreach (var i in list.Ifaces)
            {
                await ctx.Out.WriteLineAsync(NodeStatus.Row(ctx.Sep, i.Name, i.LinkState != 0 ? "1" : "0", i.References.ToString(Inv)))
                    .ConfigureAwait(false);
            }
            return 0;
        }
        await ctx.Out.WriteLineAsync($"Interfaces on node {ctx.CmdPnn}").ConfigureAwait(false);
        foreach (var i in list.Ifaces)
            await ctx.Out.WriteLineAsync($"name:{i.Name} link:{(i.LinkState != 0 ? "up" : "down")} references:{i.References}").ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> SetIfaceLinkAsync(ToolContext ctx, string[] args)
    {
        bool up;
        if (args[1] == "up")
            up = true;
        else if (args[1] == "down")
            up = false;
        else
        {
            await ctx.Out.WriteAsync(Usage.ForCommand(Commands.Find("setifacelink")!)).ConfigureAwait(false);
            return 1;
        }
        if (args[0].Length >= Iface.NameSize)
        {
            await ctx.Err.WriteLineAsync($"Interface name '{args[0]}' too long").ConfigureAwait(false);
            return 1;
        }
        var list = await ctx.Ctl(ControlOpcode.GetIfaces, ctx.CmdPnn, ctx.Client.GetIfacesAsync(ctx.CmdPnn, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        if (!list.Ifaces.Any(i => i.Name == args[0]))
        {
            await ctx.Out.WriteLineAsync($"Interface {args[0]} not configured on node {ctx.CmdPnn}").ConfigureAwait(false);
            return 1;
        }
        await ctx.Ctl(ControlOpcode.SetIfaceLinkState, ctx.CmdPnn,
            ctx.Client.SetIfaceLinkStateAsync(ctx.CmdPnn, args[0], up, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        return 0;
    }

    private static async Task<CtdbStatistics> StatisticsOfAsync(ToolContext ctx)
    {
        var data = await ctx.Ctl(ControlOpcode.Statistics, ctx.CmdPnn,
            ctx.Client.RawDataAsync(ctx.CmdPnn, ControlOpcode.Statistics, null, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        return CtdbStatistics.FromBytes(data);
    }

    public static async Task<int> StatisticsAsync(ToolContext ctx, string[] args)
    {
        var s = await StatisticsOfAsync(ctx).ConfigureAwait(false);
        if (ctx.Options.Json)
            await ctx.Out.WriteLineAsync(JsonOutput.Statistics(s)).ConfigureAwait(false);
        else if (ctx.Machine)
            await ctx.Out.WriteAsync(StatisticsText.Machine(s, ctx.Sep)).ConfigureAwait(false);
        else
            await ctx.Out.WriteAsync(StatisticsText.Human(s)).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> StatisticsResetAsync(ToolContext ctx, string[] args)
    {
        await ctx.Ctl(ControlOpcode.StatisticsReset, ctx.CmdPnn,
            ctx.Client.RawDataAsync(ctx.CmdPnn, ControlOpcode.StatisticsReset, null, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> StatsAsync(ToolContext ctx, string[] args)
    {
        var count = int.MaxValue;
        if (args.Length == 1)
        {
            if (!TryParseULong(args[0], out var c) || c == 0)
                return 22;
            count = (int)Math.Min(c, int.MaxValue);
        }
        var data = await ctx.Ctl(ControlOpcode.GetStatHistory, ctx.CmdPnn,
            ctx.Client.RawDataAsync(ctx.CmdPnn, ControlOpcode.GetStatHistory, null, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        var list = StatisticsList.FromBytes(data);
        var shown = 0;
        for (var i = list.Stats.Count - 1; i >= 0 && shown < count; i--, shown++)
        {
            var s = list.Stats[i];
            if (ctx.Machine)
                await ctx.Out.WriteAsync(StatisticsText.Machine(s, ctx.Sep, header: shown == 0)).ConfigureAwait(false);
            else
                await ctx.Out.WriteAsync(StatisticsText.Human(s)).ConfigureAwait(false);
        }
        return 0;
    }
}

/// <summary>The statistics printout of 4.17 (human and machine forms).</summary>
public static class StatisticsText
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static (string Name, uint Value)[] Counters(CtdbStatistics s) =>
    [
        ("num_clients", s.NumClients), ("frozen", s.Frozen), ("recovering", s.Recovering), ("num_recoveries", s.NumRecoveries),
        ("client_packets_sent", s.ClientPacketsSent), ("client_packets_recv", s.ClientPacketsRecv),
        ("node_packets_sent", s.NodePacketsSent), ("node_packets_recv", s.NodePacketsRecv),
        ("keepalive_packets_sent", s.KeepalivePacketsSent), ("keepalive_packets_recv", s.KeepalivePacketsRecv),
        ("node.req_call", s.NodeReqCall), ("node.reply_call", s.NodeReplyCall), ("node.req_dmaster", s.NodeReqDmaster),
        ("node.reply_dmaster", s.NodeReplyDmaster), ("node.reply_error", s.NodeReplyError), ("node.req_message", s.NodeReqMessage),
        ("node.req_control", s.NodeReqControl), ("node.reply_control", s.NodeReplyControl), ("node.req_tunnel", s.NodeReqTunnel),
        ("client.req_call", s.ClientReqCall), ("client.req_message", s.ClientReqMessage), ("client.req_control", s.ClientReqControl),
        ("client.req_tunnel", s.ClientReqTunnel),
        ("timeouts.call", s.TimeoutsCall), ("timeouts.control", s.TimeoutsControl), ("timeouts.traverse", s.TimeoutsTraverse),
        ("locks.num_calls", s.LocksNumCalls), ("locks.num_current", s.LocksNumCurrent), ("locks.num_pending", s.LocksNumPending),
        ("locks.num_failed", s.LocksNumFailed),
        ("total_calls", s.TotalCalls), ("pending_calls", s.PendingCalls), ("childwrite_calls", s.ChildwriteCalls),
        ("pending_childwrite_calls", s.PendingChildwriteCalls), ("memory_used", s.MemoryUsed), ("max_hop_count", s.MaxHopCount),
        ("total_ro_delegations", s.TotalRoDelegations), ("total_ro_revokes", s.TotalRoRevokes),
    ];

    private static double Avg(LatencyCounter l) => l.Num == 0 ? 0 : l.Total / l.Num;

    public static string Human(CtdbStatistics s)
    {
        var sb = new StringBuilder();
        sb.Append("CTDB version 1\n");
        sb.Append("Current time of statistics  :                ").Append(Cmd.CTime(s.StatisticsCurrentTime)).Append('\n');
        var since = s.StatisticsCurrentTime.Sec - s.StatisticsStartTime.Sec;
        sb.Append(Inv, $"Statistics collected since  : ({since / 86400:000} {since % 86400 / 3600:00}:{since % 3600 / 60:00}:{since % 60:00}) ")
          .Append(Cmd.CTime(s.StatisticsStartTime)).Append('\n');
        string? group = null;
        foreach (var (name, value) in Counters(s))
        {
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0)
            {
                var g = name[..dot];
                if (g != group)
                {
                    sb.Append(' ').Append(g).Append('\n');
                    group = g;
                }
                sb.Append(Inv, $"     {name[(dot + 1)..],-22}{value,10}\n");
            }
            else
            {
                group = null;
                sb.Append(Inv, $" {name,-22}    {value,10}\n");
            }
        }
        sb.Append(" hop_count_buckets:");
        foreach (var b in s.HopCountBucket)
            sb.Append(Inv, $" {b}");
        sb.Append("\n lock_buckets:");
        foreach (var b in s.LocksBuckets)
            sb.Append(Inv, $" {b}");
        sb.Append('\n');
        void Lat(string name, LatencyCounter l) =>
            sb.Append(Inv, $" {name,-18} MIN/AVG/MAX     {l.Min:F6}/{Avg(l):F6}/{l.Max:F6} sec out of {l.Num}\n");
        Lat("locks_latency", s.LocksLatency);
        Lat("reclock_ctdbd", s.ReclockCtdbd);
        Lat("reclock_recd", s.ReclockRecd);
        Lat("call_latency", s.CallLatency);
        Lat("childwrite_latency", s.ChildwriteLatency);
        return sb.ToString();
    }

    public static string Machine(CtdbStatistics s, string sep, bool header = true)
    {
        var names = new List<string> { "CTDB version", "Current time of statistics", "Statistics collected since" };
        var values = new List<string>
        {
            "1", s.StatisticsCurrentTime.Sec.ToString(Inv), s.StatisticsStartTime.Sec.ToString(Inv),
        };
        foreach (var (name, value) in Counters(s))
        {
            names.Add(name);
            values.Add(value.ToString(Inv));
        }
        void Lat(string name, LatencyCounter l)
        {
            names.AddRange([$"num_{name}", $"min_{name}", $"avg_{name}", $"max_{name}"]);
            values.AddRange([l.Num.ToString(Inv), l.Min.ToString("F6", Inv), Avg(l).ToString("F6", Inv), l.Max.ToString("F6", Inv)]);
        }
        Lat("reclock_ctdbd_latency", s.ReclockCtdbd);
        Lat("reclock_recd_latency", s.ReclockRecd);
        Lat("call_latency", s.CallLatency);
        Lat("lockwait_latency", s.LocksLatency);
        Lat("childwrite_latency", s.ChildwriteLatency);
        var sb = new StringBuilder();
        if (header)
            sb.AppendJoin(sep, names).Append(sep).Append('\n');
        sb.AppendJoin(sep, values).Append(sep).Append('\n');
        return sb.ToString();
    }
}
