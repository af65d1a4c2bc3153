using System.Net;
using System.Net.Sockets;
using SharpCtdb.Config.Logging;

namespace SharpCtdb.Daemon.Net;

/// <summary>
/// Sends one spoofed TCP segment from <c>src</c> to <c>dst</c> through a raw IP socket (IPPROTO_RAW, header
/// included; needs CAP_NET_RAW). With seq = ack = 0 and no RST it is CTDB's "tickle ACK" (behaviour.md §6.7): the
/// peer's stack sees an out-of-window ACK and answers with a correct ACK (or a RST when it has no such
/// connection), which re-establishes the path after an address moved. With <c>rst</c> and the right sequence number
/// it resets a connection (what ctdb_killtcp does). Never throws: problems are logged and reported as false.
/// </summary>
public static class TickleAck
{
    public static unsafe bool Send(IPEndPoint src, IPEndPoint dst, uint seq = 0, uint ack = 0, bool rst = false, CtdbLog? log = null)
    {
        log ??= CtdbLog.Null;
        byte[] packet;
        try
        {
            packet = PacketBuilder.TcpSegment(src, dst, seq, ack, rst);
        }
        catch (ArgumentException e)
        {
            log.Error($"Tickle ACK {src} -> {dst}: {e.Message}");
            return false;
        }
        var d = PacketBuilder.Unmapped(dst.Address);
        var v4 = d.AddressFamily == AddressFamily.InterNetwork;
        var fd = NetNative.socket(v4 ? NetNative.AfInet : NetNative.AfInet6, NetNative.SockRaw | NetNative.SockCloexec, NetNative.IpProtoRaw);
        if (fd < 0)
        {
            log.Error($"Tickle ACK {src} -> {dst}: cannot open a raw socket: {NetNative.ErrnoText(NetNative.LastErrno)}");
            return false;
        }
        try
        {
            // The destination's port must be 0 for raw sockets (the kernel reads it as a protocol otherwise on IPv6).
            Span<byte> sa = stackalloc byte[v4 ? 16 : 28];
            sa.Clear();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(sa, (ushort)(v4 ? NetNative.AfInet : NetNative.AfInet6));
            d.TryWriteBytes(sa[(v4 ? 4 : 8)..], out _);
            nint n;
            fixed (byte* pp = packet)
            fixed (byte* ps = sa)
                n = NetNative.sendto(fd, pp, (nuint)packet.Length, 0, ps, (uint)sa.Length);
            if (n != packet.Length)
            {
                log.Error($"Tickle ACK {src} -> {dst}: send failed: {NetNative.ErrnoText(NetNative.LastErrno)}");
                return false;
            }
            return true;
        }
        finally
        {
            _ = NetNative.close(fd);
        }
    }
}
