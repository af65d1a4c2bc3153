using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using SharpCtdb.Daemon.Net;
using SharpCtdb.Net;
using SharpCtdb.TestSupport;

namespace SharpCtdb.Daemon.Tests.NetnsLab;

/// <summary>Gratuitous ARP / neighbour advertisement / tickle ACK: frame layout, and real sends inside a netns.</summary>
public sealed class RawPacketTests
{
    private static readonly byte[] Mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    [Fact]
    public void Gratuitous_arp_request_and_reply_have_4_17_layout()
    {
        var req = PacketBuilder.GratuitousArp(Mac, IPAddress.Parse("198.51.100.101"), reply: false);
        Assert.Equal(
            "ffffffffffff" + "021122334455" + "0806" + "0001" + "0800" + "06" + "04" + "0001" +
            "021122334455" + "c6336465" + "000000000000" + "c6336465", Convert.ToHexStringLower(req));
        var rep = PacketBuilder.GratuitousArp(Mac, IPAddress.Parse("198.51.100.101"), reply: true);
        Assert.Equal(
            "ffffffffffff" + "021122334455" + "0806" + "0001" + "0800" + "06" + "04" + "0002" +
            "021122334455" + "c6336465" + "021122334455" + "c6336465", Convert.ToHexStringLower(rep));
    }

    [Fact]
    public void Neighbour_advert_has_override_flag_option_and_valid_checksum()
    {
        var addr = IPAddress.Parse("2001:db8::65");
        var f = PacketBuilder.NeighbourAdvert(Mac, addr);
        Assert.Equal("333300000001", Convert.ToHexStringLower(f.AsSpan(0, 6)));
        Assert.Equal(0x86dd, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)));
        Assert.Equal(255, f[14 + 7]);
        Assert.Equal(addr, new IPAddress(f.AsSpan(14 + 8, 16)));
        Assert.Equal(IPAddress.Parse("ff02::1"), new IPAddress(f.AsSpan(14 + 24, 16)));
        var na = f.AsSpan(54);
        Assert.Equal(136, na[0]);
        Assert.Equal(0x20000000u, BinaryPrimitives.ReadUInt32BigEndian(na[4..]));
        Assert.Equal(addr, new IPAddress(na.Slice(8, 16)));
        Assert.Equal("0201021122334455", Convert.ToHexStringLower(na.Slice(24, 8)));
        Assert.True(PacketBuilder.ChecksumOk(na, PacketBuilder.PseudoHeaderSum(f.AsSpan(22, 16), f.AsSpan(38, 16), 58, na.Length)));
    }

    [Theory]
    [InlineData("198.51.100.101", "198.51.100.2")]
    [InlineData("2001:db8::65", "2001:db8::2")]
    public void Tickle_ack_is_ack_seq0_ack0_window_1234_with_valid_checksums(string server, string client)
    {
        var p = PacketBuilder.TcpSegment(new IPEndPoint(IPAddress.Parse(server), 445), new IPEndPoint(IPAddress.Parse(client), 50123), 0, 0, false);
        var v4 = !server.Contains(':');
        var ipLen = v4 ? 20 : 40;
        var tcp = p.AsSpan(ipLen);
        if (v4)
        {
            Assert.Equal(255, p[8]);
            Assert.True(PacketBuilder.ChecksumOk(p.AsSpan(0, 20)));
        }
        Assert.Equal(445, BinaryPrimitives.ReadUInt16BigEndian(tcp));
        Assert.Equal(50123, BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]));
        Assert.Equal(0x10, tcp[13]);
        Assert.Equal(1234, BinaryPrimitives.ReadUInt16BigEndian(tcp[14..]));
        var (s, d) = v4 ? (12, 16) : (8, 24);
        var alen = v4 ? 4 : 16;
        Assert.True(PacketBuilder.ChecksumOk(tcp, PacketBuilder.PseudoHeaderSum(p.AsSpan(s, alen), p.AsSpan(d, alen), 6, tcp.Length)));
        var rst = PacketBuilder.TcpSegment(new IPEndPoint(IPAddress.Parse(server), 445), new IPEndPoint(IPAddress.Parse(client), 1), 7, 9, true);
        Assert.Equal(0x14, rst[ipLen + 13]);
    }

    [Fact]
    public void Bad_input_is_reported_not_thrown()
    {
        Assert.False(GratuitousArp.Send("no-such-if0", IPAddress.Parse("198.51.100.1")));
        Assert.False(GratuitousArp.Send("this-name-is-far-too-long", IPAddress.Parse("198.51.100.1")));
        Assert.False(TickleAck.Send(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 1), new IPEndPoint(IPAddress.Parse("2001:db8::1"), 2)));
    }

    [Fact]
    public void Gratuitous_arp_goes_out_on_the_wire_inside_a_netns()
    {
        using var ns = Netns.Create("garp");
        ns.Exec("link add scAa type veth peer name scAb");
        ns.Exec("link set scAa address 02:11:22:33:44:55");
        ns.Exec("link set scAa up");
        ns.Exec("link set scAb up");
        var frames = ns.Run(() =>
        {
            using var cap = new PacketCapture("scAb");
            Assert.True(GratuitousArp.Send("scAa", IPAddress.Parse("198.51.100.101")));
            return cap.Collect(f => f.Length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0806, 2, TimeSpan.FromSeconds(10));
        });
        Assert.Equal(2, frames.Count);
        Assert.Equal(PacketBuilder.GratuitousArp(Mac, IPAddress.Parse("198.51.100.101"), false), frames[0][..42]);
        Assert.Equal(PacketBuilder.GratuitousArp(Mac, IPAddress.Parse("198.51.100.101"), true), frames[1][..42]);
    }

    [Fact]
    public void Neighbour_advert_goes_out_on_the_wire_inside_a_netns()
    {
        using var ns = Netns.Create("na");
        ns.Exec("link add scAa type veth peer name scAb");
        ns.Exec("link set scAa address 02:11:22:33:44:55");
        ns.Exec("link set scAa up");
        ns.Exec("link set scAb up");
        var addr = IPAddress.Parse("2001:db8::65");
        var frames = ns.Run(() =>
        {
            using var cap = new PacketCapture("scAb");
            Assert.True(GratuitousArp.Send("scAa", addr));
            // The kernel sends its own ND/MLD traffic on a fresh link: pick our advertisement by type and target.
            return cap.Collect(f => f.Length >= PacketBuilder.NeighbourAdvertFrameLength && f[12] == 0x86 && f[13] == 0xdd
                && f[20] == 58 && f[54] == 136 && new IPAddress(f.AsSpan(62, 16)).Equals(addr), 1, TimeSpan.FromSeconds(10));
        });
        var frame = Assert.Single(frames);
        Assert.Equal(PacketBuilder.NeighbourAdvert(Mac, addr), frame[..PacketBuilder.NeighbourAdvertFrameLength]);
    }

    [Fact]
    public void Loopback_interface_is_skipped_without_error()
    {
        using var ns = Netns.Create("lo");
        Assert.True(ns.Run(() => GratuitousArp.Send("lo", IPAddress.Parse("127.0.0.1"))));
    }

    [Fact]
    public void Tickle_ack_makes_the_peer_answer_with_a_real_ack()
    {
        using var ns = Netns.Create("tk");
        var (sent, answers, clientEp, serverEp) = ns.Run(() =>
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(listener.LocalEndPoint!);
            using var server = listener.Accept();
            var c = (IPEndPoint)client.LocalEndPoint!;
            var s = (IPEndPoint)server.LocalEndPoint!;
            using var cap = new PacketCapture("lo");
            // As a new owner does after a takeover: from the public address to the client, seq 0 ack 0.
            Assert.True(TickleAck.Send(s, c));
            bool IsTcp(byte[] f, IPEndPoint from, IPEndPoint to) => f.Length >= 14 + 40 && f[12] == 8 && f[13] == 0 && f[14 + 9] == 6
                && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(34)) == from.Port && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(36)) == to.Port;
            var ours = cap.Collect(f => IsTcp(f, s, c), 1, TimeSpan.FromSeconds(10));
            var replies = cap.Collect(f => IsTcp(f, c, s), 1, TimeSpan.FromSeconds(10));
            return (ours, replies, c, s);
        });
        var tickle = Assert.Single(sent);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(tickle.AsSpan(14 + 20 + 4)));
        Assert.Equal(0x10, tickle[14 + 20 + 13]);
        var reply = Assert.Single(answers);
        // The client's stack answers with a proper ACK carrying its real sequence numbers.
        Assert.Equal(0x10, reply[14 + 20 + 13] & 0x17);
        Assert.NotEqual(0u, BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(14 + 20 + 8)));
        Assert.NotEqual(clientEp.Port, serverEp.Port);
    }
}
