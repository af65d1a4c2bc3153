using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace SharpCtdb.Net;

/// <summary>
/// Builds the raw frames ctdbd sends itself (behaviour.md §6.7): gratuitous ARP request/reply, unsolicited IPv6
/// neighbour advertisement, and the TCP "tickle ACK" / RST. Pure byte work, so it is unit-tested without root.
/// </summary>
public static class PacketBuilder
{
    public const int ArpFrameLength = 42;
    public const int NeighbourAdvertFrameLength = 14 + 40 + 32;
    public const ushort TickleWindow = 1234;
    private static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    private static readonly byte[] AllNodesMac = [0x33, 0x33, 0, 0, 0, 1];
    private static readonly IPAddress AllNodes = IPAddress.Parse("ff02::1");

    /// <summary>
    /// Ethernet + ARP for a gratuitous announcement of <paramref name="addr"/>: request (target MAC 0) or reply
    /// (target MAC = own MAC); sender IP = target IP = the address; always to the broadcast MAC.
    /// </summary>
    public static byte[] GratuitousArp(ReadOnlySpan<byte> mac, IPAddress addr, bool reply)
    {
        CheckMac(mac);
        var ip = Unmapped(addr);
        if (ip.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"ARP needs an IPv4 address, not {addr}", nameof(addr));
        var f = new byte[ArpFrameLength];
        Broadcast.CopyTo(f, 0);
        mac.CopyTo(f.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), NetNative.EthPArp);
        var a = f.AsSpan(14);
        BinaryPrimitives.WriteUInt16BigEndian(a, 1); // hardware type Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(a[2..], NetNative.EthPIp);
        a[4] = 6;
        a[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(a[6..], (ushort)(reply ? 2 : 1));
        mac.CopyTo(a[8..]);
        ip.TryWriteBytes(a[14..], out _);
        if (reply)
            mac.CopyTo(a[18..]);
        ip.TryWriteBytes(a[24..], out _);
        return f;
    }

    /// <summary>
    /// Ethernet + IPv6 + ICMPv6 unsolicited neighbour advertisement for <paramref name="addr"/> to ff02::1
    /// (Override flag, hop limit 255, target link-layer address option).
    /// </summary>
    public static byte[] NeighbourAdvert(ReadOnlySpan<byte> mac, IPAddress addr)
    {
        CheckMac(mac);
        if (addr.AddressFamily != AddressFamily.InterNetworkV6 || addr.IsIPv4MappedToIPv6)
            throw new ArgumentException($"a neighbour advertisement needs an IPv6 address, not {addr}", nameof(addr));
        var f = new byte[NeighbourAdvertFrameLength];
        AllNodesMac.CopyTo(f, 0);
        mac.CopyTo(f.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), NetNative.EthPIpv6);
        var ip6 = f.AsSpan(14, 40);
        ip6[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip6[4..], 32); // payload length
        ip6[6] = 58; // ICMPv6
        ip6[7] = 255; // hop limit (required for ND)
        addr.TryWriteBytes(ip6[8..], out _);
        AllNodes.TryWriteBytes(ip6[24..], out _);
        var na = f.AsSpan(54, 32);
        na[0] = 136; // neighbour advertisement
        BinaryPrimitives.WriteUInt32BigEndian(na[4..], 0x20000000); // Override
        addr.TryWriteBytes(na[8..], out _);
        na[24] = 2; // option: target link-layer address
        na[25] = 1; // length in 8-byte units
        mac.CopyTo(na[26..]);
        BinaryPrimitives.WriteUInt16BigEndian(na[2..], TransportChecksum(ip6[8..24], ip6[24..40], 58, na));
        return f;
    }

    /// <summary>
    /// IPv4 or IPv6 header + TCP header (no payload) from <paramref name="src"/> to <paramref name="dst"/>:
    /// ACK with the given seq/ack (0/0 = tickle), or RST+ACK when <paramref name="rst"/>; window 1234.
    /// </summary>
    public static byte[] TcpSegment(IPEndPoint src, IPEndPoint dst, uint seq, uint ack, bool rst)
    {
        var s = Unmapped(src.Address);
        var d = Unmapped(dst.Address);
        if (s.AddressFamily != d.AddressFamily)
            throw new ArgumentException($"address families differ: {src} -> {dst}");
        var v4 = s.AddressFamily == AddressFamily.InterNetwork;
        var ipLen = v4 ? 20 : 40;
        var p = new byte[ipLen + 20];
        var ip = p.AsSpan(0, ipLen);
        if (v4)
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)p.Length);
            ip[8] = 255; // TTL
            ip[9] = 6; // TCP
            s.TryWriteBytes(ip[12..], out _);
            d.TryWriteBytes(ip[16..], out _);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Fold(Sum(ip, 0)));
        }
        else
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 20);
            ip[6] = 6;
            ip[7] = 64; // hop limit: 4.17 uses 64 for IPv6 (255 only for the IPv4 TTL), seen on the wire
            s.TryWriteBytes(ip[8..], out _);
            d.TryWriteBytes(ip[24..], out _);
        }
        var tcp = p.AsSpan(ipLen);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, (ushort)src.Port);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], (ushort)dst.Port);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], ack);
        tcp[12] = 5 << 4; // data offset: 5 words, no options
        tcp[13] = (byte)(rst ? 0x14 : 0x10); // RST|ACK or ACK
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], TickleWindow);
        var sum = v4 ? TransportChecksum(ip[12..16], ip[16..20], 6, tcp) : TransportChecksum(ip[8..24], ip[24..40], 6, tcp);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], sum);
        return p;
    }

    /// <summary>Internet checksum over the pseudo header (src, dst, length, protocol) and the segment.</summary>
    public static ushort TransportChecksum(ReadOnlySpan<byte> src, ReadOnlySpan<byte> dst, byte protocol, ReadOnlySpan<byte> segment)
    {
        var sum = Sum(src, 0) + Sum(dst, 0) + (uint)segment.Length + protocol;
        var c = Fold(Sum(segment, sum));
        return c == 0 ? (ushort)0xffff : c;
    }

    /// <summary>True when the internet checksum over <paramref name="data"/> (which contains its checksum) verifies.</summary>
    public static bool ChecksumOk(ReadOnlySpan<byte> data, uint initial = 0) => Fold(Sum(data, initial)) == 0;

    /// <summary>Pseudo-header sum to pass as <c>initial</c> to <see cref="ChecksumOk"/> for a TCP/ICMPv6 segment.</summary>
    public static uint PseudoHeaderSum(ReadOnlySpan<byte> src, ReadOnlySpan<byte> dst, byte protocol, int length) =>
        Sum(src, 0) + Sum(dst, 0) + (uint)length + protocol;

    private static uint Sum(ReadOnlySpan<byte> data, uint sum)
    {
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length)
            sum += (uint)data[i] << 8;
        return sum;
    }

    private static ushort Fold(uint sum)
    {
        while (sum >> 16 != 0)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    private static void CheckMac(ReadOnlySpan<byte> mac)
    {
        if (mac.Length != 6)
            throw new ArgumentException($"an Ethernet MAC has 6 bytes, not {mac.Length}", nameof(mac));
    }

    public static IPAddress Unmapped(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
}
