using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SharpCtdb.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>Public IP management and TCP connection (tickle) commands.</summary>
public static class IpCmd
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// "1.2.3.4:445", "[fd00::1]:445" or "fd00::1:445" (last colon separates the port), as strictly as 4.17: IPv4 only
    /// as a full dotted quad without leading zeros, no IPv6 scope, port decimal with an optional '+', taken modulo
    /// 65536 (4.17 truncates "70000" to 4464).
    /// </summary>
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
        if (!TryParseStrictIp(host, out var ip) || !TryParsePort(port, out var p))
            return false;
        addr = new SockAddr(ip, p);
        return true;
    }

    private static bool TryParseStrictIp(string host, out IPAddress ip)
    {
        ip = IPAddress.None;
        if (host.Contains(':', StringComparison.Ordinal))
        {
            // inet_pton(AF_INET6) knows no "%scope"; an IPv4-mapped address counts as IPv4, as in 4.17.
            if (host.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
                return false;
            ip = v6.IsIPv4MappedToIPv6 ? v6.MapToIPv4() : v6;
            return true;
        }
        var parts = host.Split('.');
        if (parts.Length != 4)
            return false;
        Span<byte> b = stackalloc byte[4];
        for (var i = 0; i < 4; i++)
        {
            var t = parts[i];
            if (t.Length is 0 or > 3 || (t.Length > 1 && t[0] == '0') || !t.All(char.IsAsciiDigit))
                return false;
            var v = int.Parse(t, Inv);
            if (v > 255)
                return false;
            b[i] = (byte)v;
        }
        ip = new IPAddress(b);
        return true;
    }

    private static bool TryParsePort(string text, out ushort port)
    {
        port = 0;
        var digits = text.StartsWith('+') ? text[1..] : text;
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit) || !ulong.TryParse(digits, NumberStyles.None, Inv, out var v))
            return false;
        port = (ushort)v;
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

    /// <summary>
    /// tickle SRC DST: sends a tickle ACK (seq 0, ack 0) from DST to SRC over a raw socket, without the daemon; with no
    /// arguments one connection per stdin line ("SRC DST", '#' lines and empty lines skipped). 4.17 reads all lines
    /// first and answers a bad one with exit code 22 (EINVAL) and no output.
    /// </summary>
    public static async Task<int> TickleAsync(ToolContext ctx, string[] args)
    {
        if (args.Length == 2)
        {
            if (!TryParseEndpoint(args[0], out var src))
                return await InvalidIpAsync(ctx, args[0]).ConfigureAwait(false);
            if (!TryParseEndpoint(args[1], out var dst))
                return await InvalidIpAsync(ctx, args[1]).ConfigureAwait(false);
            if (await SendTickleAsync(ctx, src, dst).ConfigureAwait(false))
                return 0;
            await ctx.Err.WriteLineAsync("Failed to send tickle ack").ConfigureAwait(false);
            return 1;
        }
        if (args.Length != 0)
        {
            await ctx.Out.WriteAsync(Usage.ForCommand(Commands.Find("tickle")!)).ConfigureAwait(false);
            return 1;
        }
        var conns = new List<(SockAddr Src, SockAddr Dst)>();
        string? line;
        while ((line = await ctx.In.ReadLineAsync(ctx.Cancelled).ConfigureAwait(false)) is not null)
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 2 || !TryParseEndpoint(f[0], out var s) || !TryParseEndpoint(f[1], out var d)
                || s.Address.AddressFamily != d.Address.AddressFamily)
                return 22;
            conns.Add((s, d));
        }
        var failed = 0;
        foreach (var (s, d) in conns)
        {
            if (!await SendTickleAsync(ctx, s, d).ConfigureAwait(false))
                failed++;
        }
        if (failed == 0)
            return 0;
        await ctx.Err.WriteLineAsync($"Failed to send {failed} tickles").ConfigureAwait(false);
        return 1;
    }

    private static async Task<int> InvalidIpAsync(ToolContext ctx, string text)
    {
        await ctx.Err.WriteLineAsync($"Invalid IP address {text}").ConfigureAwait(false);
        return 1;
    }

    /// <summary>One tickle ACK from <paramref name="dst"/> to <paramref name="src"/>; prints 4.17's error line when it fails.</summary>
    private static async Task<bool> SendTickleAsync(ToolContext ctx, SockAddr src, SockAddr dst)
    {
        var r = RawTcp.Send(new IPEndPoint(dst.Address, dst.Port), new IPEndPoint(src.Address, src.Port));
        if (r.Ok)
            return true;
        await ctx.Err.WriteLineAsync(r.FailedStep == RawSendStep.Socket
            ? $"ctdb_sys_send_tcp: Failed to open raw socket ({r.ErrnoMessage})"
            : $"Failed sendto ({r.ErrnoMessage})").ConfigureAwait(false);
        return false;
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
