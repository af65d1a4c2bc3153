using System.Net;
using System.Net.Sockets;
using SharpCtdb.Config.Logging;
using SharpCtdb.Net;

namespace SharpCtdb.Daemon.Net;

/// <summary>
/// One round of the takeover announcement (behaviour.md §6.7) on an interface: for IPv4 a broadcast gratuitous ARP
/// request followed by a reply, for IPv6 one unsolicited neighbour advertisement to ff02::1. Sent through an
/// AF_PACKET socket (needs CAP_NET_RAW). Never throws: problems are logged and reported as false.
/// </summary>
public static class GratuitousArp
{
    /// <summary>Sends one round; true when every frame was handed to the kernel (or the interface is loopback).</summary>
    public static unsafe bool Send(string iface, IPAddress addr, CtdbLog? log = null)
    {
        log ??= CtdbLog.Null;
        var ip = PacketBuilder.Unmapped(addr);
        var v4 = ip.AddressFamily == AddressFamily.InterNetwork;
        if (!v4 && ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            log.Error($"Gratuitous ARP: {addr} is not an IP address");
            return false;
        }
        var proto = v4 ? NetNative.EthPArp : NetNative.EthPIpv6;
        var fd = NetNative.socket(NetNative.AfPacket, NetNative.SockRaw | NetNative.SockCloexec, System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(proto));
        if (fd < 0)
        {
            log.Error($"Gratuitous ARP for {ip} on {iface}: cannot open a packet socket: {NetNative.ErrnoText(NetNative.LastErrno)}");
            return false;
        }
        try
        {
            if (!NetNative.TryGetInterface(fd, iface, out var index, out var kind, out var mac, out var errno))
            {
                log.Error($"Gratuitous ARP for {ip}: interface '{iface}' not usable: {NetNative.ErrnoText(errno)}");
                return false;
            }
            if (kind == NetNative.LinkKind.Loopback)
                return true; // nothing to announce on loopback (4.17 does the same, without error)
            if (kind != NetNative.LinkKind.Ethernet)
            {
                log.Error($"Gratuitous ARP for {ip}: interface '{iface}' is not an Ethernet interface");
                return false;
            }
            var frames = v4
                ? new[] { PacketBuilder.GratuitousArp(mac, ip, reply: false), PacketBuilder.GratuitousArp(mac, ip, reply: true) }
                : [PacketBuilder.NeighbourAdvert(mac, ip)];
            Span<byte> sll = stackalloc byte[20];
            NetNative.FillSockaddrLl(sll, proto, index, frames[0].AsSpan(0, 6));
            foreach (var f in frames)
            {
                nint n;
                fixed (byte* pf = f)
                fixed (byte* ps = sll)
                    n = NetNative.sendto(fd, pf, (nuint)f.Length, 0, ps, (uint)sll.Length);
                if (n != f.Length)
                {
                    log.Error($"Gratuitous ARP for {ip} on {iface}: send failed: {NetNative.ErrnoText(NetNative.LastErrno)}");
                    return false;
                }
            }
            return true;
        }
        finally
        {
            _ = NetNative.close(fd);
        }
    }
}
