using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>Public IP management and TCP connection (tickle) commands.</summary>
public static class IpCmd
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>"1.2.3.4:445", "[fd00::1]:445" or "fd00::1:445" (last colon separates the port).</summary>
    public static bool TryParseEndpoint(string text, out SockAddr addr)
    {
        addr = SockAddr.Unspecified;
        string host, port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
                return false;
            host = text[1..close];
            port = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0)
                return false;
            host = text[..colon];
            port = text[(colon + 1)..];
        }
        if (!IPAddress.TryParse(host, out var ip) || !ushort.TryParse(port, NumberStyles.None, Inv, out var p))
            return false;
        addr = new SockAddr(ip, p);
        return true;
    }

    public static async Task<int> GratArpAsync(ToolContext ctx, string[] args)
    {
        if (!Cmd.TryParseIp(args[0], out var addr))
        {
            await ctx.Err.WriteLineAsync($"Invalid IP address {args[0]}").ConfigureAwait(false);
            return 1;
        }
        await ctx.Ctl(ControlOpcode.SendGratuitousArp, ctx.CmdPnn, ctx.Client.RawDataAsync(ctx.CmdPnn, ControlOpcode.SendGratuitousArp,
            new AddrInfo(addr, 0, args[1]).ToBytes(), ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> TickleAsync(ToolContext ctx, string[] args)
    {
        await ctx.Err.WriteLineAsync("tickle: sending TCP tickle ACKs is not supported by this tool").ConfigureAwait(false);
        return 95;
    }

    public static async Task<int> GetTicklesAsync(ToolContext ctx, string[] args)
    {
        if (!Cmd.TryParseIp(args[0], out var addr))
        {
            await ctx.Err.WriteLineAsync($"Invalid IP address {args[0]}").ConfigureAwait(false);
            return 1;
        }
        var port = args.Length > 1 ? (ushort)Cmd.LeadingNumber(args[1]) : (ushort)0;
        TickleList list;
        try
        {
            list = await ctx.Ctl(ControlOpcode.GetTcpTickleList, ctx.CmdPnn,
                ctx.Client.GetTickleListAsync(ctx.CmdPnn, addr, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        }
        catch (ControlErrorException)
        {
            await ctx.Err.WriteLineAsync("Failed to get list of connections").ConfigureAwait(false);
            return 1;
        }
        var conns = list.Connections.Where(c => port == 0 || c.Dst.Port == port).ToList();
        if (ctx.Machine)
        {
            await ctx.Out.WriteLineAsync(NodeStatus.Row(ctx.Sep, "Source IP", "Port", "Destiation IP", "Port")).ConfigureAwait(false);
            foreach (var c in conns)
            {
                await ctx.Out.WriteLineAsync(NodeStatus.Row(ctx.Sep, c.Src.ToString(), c.Src.Port.ToString(Inv), c.Dst.ToString(),
                    c.Dst.Port.ToString(Inv))).ConfigureAwait(false);
            }
            return 0;
        }
        await ctx.Out.WriteLineAsync($"Connections for IP: {addr}").ConfigureAwait(false);
        await ctx.Out.WriteLineAsync($"Num connections: {conns.Count}").ConfigureAwait(false);
        foreach (var c in conns)
            await ctx.Out.WriteLineAsync($"SRC: {c.Src.ToStringWithPort()}   DST: {c.Dst.ToStringWithPort()}").ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> TickleChangeAsync(ToolContext ctx, string[] args, ControlOpcode op, string verb)
    {
        var pairs = new List<(string, string)>();
        if (args.Length == 2)
        {
            pairs.Add((args[0], args[1]));
        }
        else if (args.Length == 0)
        {
            string? line;
            while ((line = await ctx.In.ReadLineAsync(ctx.Cancelled).ConfigureAwait(false)) is not null)
            {
                var f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (f.Length >= 2)
                    pairs.Add((f[0], f[1]));
            }
        }
        else
        {
            await ctx.Out.WriteAsync(Usage.ForCommand(Commands.Find(verb == "add" ? "addtickle" : "deltickle")!)).ConfigureAwait(false);
            return 1;
        }
        var failed = 0;
        foreach (var (src, dst) in pairs)
        {
            if (!TryParseEndpoint(src, out var s) || !TryParseEndpoint(dst, out var d))
            {
                await ctx.Err.WriteLineAsync($"Invalid connection {src} {dst}").ConfigureAwait(false);
                return 1;
            }
            try
            {
                await ctx.Ctl(op, ctx.CmdPnn, ctx.Client.RawDataAsync(ctx.CmdPnn, op, new Connection(s, d).ToBytes(), ctx.Timeout, ctx.Cancelled))
                    .ConfigureAwait(false);
            }
            catch (ControlErrorException)
            {
                failed++;
            }
        }
        if (failed > 0)
        {
            await ctx.Err.WriteLineAsync(args.Length == 2
                ? (verb == "add" ? "Failed to register connection" : "Failed to unregister connection")
                : $"Failed to {verb} {failed} tickles").ConfigureAwait(false);
            return 1;
        }
        return 0;
    }

    public static Task<int> AddTickleAsync(ToolContext ctx, string[] args) =>
        TickleChangeAsync(ctx, args, ControlOpcode.TcpAddDelayedUpdate, "add");

    public static Task<int> DelTickleAsync(ToolContext ctx, string[] args) => TickleChangeAsync(ctx, args, ControlOpcode.TcpRemove, "remove");

    public static async Task<int> CheckTcpPortAsync(ToolContext ctx, string[] args)
    {
        var port = (int)Cmd.LeadingNumber(args[0]);
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            s.Bind(new IPEndPoint(IPAddress.Any, port & 0xFFFF));
            return 0;
        }
        catch (SocketException e)
        {
            await ctx.Err.WriteLineAsync($"Failed to bind to TCP port {port}").ConfigureAwait(false);
            return e.SocketErrorCode == SocketError.AddressAlreadyInUse ? 98 : e.SocketErrorCode == SocketError.AccessDenied ? 13 : 1;
        }
    }

    public static async Task<int> MoveIpAsync(ToolContext ctx, string[] args)
    {
        if (!Cmd.TryParseIp(args[0], out var addr))
        {
            await ctx.Err.WriteLineAsync($"Invalid IP address {args[0]}").ConfigureAwait(false);
            return 1;
        }
        if (!Cmd.TryParseULong(args[1], out var target) || target > int.MaxValue)
            return 22;
        var map = await Cmd.GetNodeMapAsync(ctx).ConfigureAwait(false);
        if (map.Find((uint)target) is null)
        {
            await ctx.Err.WriteLineAsync($"Node {target} does not exist").ConfigureAwait(false);
            return 1;
        }
        // Keep the leader from moving it back while we work.
        await ctx.Client.SendMessageAsync(Pnn.BroadcastConnected, Srvid.DisableIpCheck,
            BitConverter.GetBytes((uint)(2 * ctx.Options.TimeLimit)), ctx.Cancelled).ConfigureAwait(false);
        var ips = await ctx.Ctl(ControlOpcode.GetPublicIps, (uint)target,
            ctx.Client.GetPublicIpsAsync((uint)target, false, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        if (!ips.Ips.Any(i => i.Addr.SameAddress(addr)))
        {
            await ctx.Err.WriteLineAsync($"Node {target} CANNOT host IP address {addr}").ConfigureAwait(false);
            return 1;
        }
        var pip = new PublicIp((uint)target, addr).ToBytes();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                foreach (var n in map.Nodes.Where(n => (n.Flags & NodeFlags.Inactive) == 0 && n.Pnn != target))
                {
                    await ctx.Ctl(ControlOpcode.ReleaseIp, n.Pnn, ctx.Client.RawDataAsync(n.Pnn, ControlOpcode.ReleaseIp, pip, ctx.Timeout,
                        ctx.Cancelled)).ConfigureAwait(false);
                }
                await ctx.Ctl(ControlOpcode.TakeoverIp, (uint)target, ctx.Client.RawDataAsync((uint)target, ControlOpcode.TakeoverIp, pip,
                    ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
                return 0;
            }
            catch (ControlErrorException) when (attempt < 4)
            {
                await Task.Delay(TimeSpan.FromSeconds(3), ctx.Cancelled).ConfigureAwait(false);
            }
            catch (ControlErrorException)
            {
                await ctx.Err.WriteLineAsync($"Failed to move IP {addr} to node {target}").ConfigureAwait(false);
                return 1;
            }
        }
    }

    public static async Task<int> AddIpAsync(ToolContext ctx, string[] args)
    {
        var slash = args[0].IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !Cmd.TryParseIp(args[0][..slash], out var addr) ||
            !uint.TryParse(args[0][(slash + 1)..], NumberStyles.None, Inv, out var mask))
        {
            await ctx.Err.WriteLineAsync($"Invalid IP/Mask {args[0]}").ConfigureAwait(false);
            return 1;
        }
        var ips = await ctx.Ctl(ControlOpcode.GetPublicIps, ctx.CmdPnn,
            ctx.Client.GetPublicIpsAsync(ctx.CmdPnn, false, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        if (ips.Ips.Any(i => i.Addr.SameAddress(addr)))
        {
            await ctx.Err.WriteLineAsync($"Node already knows about IP {addr}").ConfigureAwait(false);
            return 0;
        }
        var data = new AddrInfo(addr, mask, args[1]).ToBytes();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await ctx.Ctl(ControlOpcode.AddPublicIp, ctx.CmdPnn,
                    ctx.Client.RawDataAsync(ctx.CmdPnn, ControlOpcode.AddPublicIp, data, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
                break;
            }
            catch (ControlErrorException) when (attempt < 4)
            {
                await Task.Delay(TimeSpan.FromSeconds(3), ctx.Cancelled).ConfigureAwait(false);
            }
            catch (ControlErrorException)
            {
                await ctx.Err.WriteLineAsync($"Failed to add public IP to node {ctx.CmdPnn}. Giving up").ConfigureAwait(false);
                return 1;
            }
        }
        await ctx.Client.SendMessageAsync(Pnn.BroadcastConnected, Srvid.RebalanceNode, BitConverter.GetBytes(ctx.CmdPnn), ctx.Cancelled)
            .ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> DelIpAsync(ToolContext ctx, string[] args)
    {
        if (!Cmd.TryParseIp(args[0], out var addr))
        {
            await ctx.Err.WriteLineAsync($"Invalid IP address {args[0]}").ConfigureAwait(false);
            return 1;
        }
        var ips = await ctx.Ctl(ControlOpcode.GetPublicIps, ctx.CmdPnn,
            ctx.Client.GetPublicIpsAsync(ctx.CmdPnn, false, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        if (!ips.Ips.Any(i => i.Addr.SameAddress(addr)))
        {
            await ctx.Err.WriteLineAsync($"Node does not know about IP address {addr}").ConfigureAwait(false);
            return 0;
        }
        await ctx.Ctl(ControlOpcode.DelPublicIp, ctx.CmdPnn, ctx.Client.RawDataAsync(ctx.CmdPnn, ControlOpcode.DelPublicIp,
            new AddrInfo(addr, 0, "").ToBytes(), ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        return 0;
    }
}
