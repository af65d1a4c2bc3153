using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace SharpCtdb.Net;

/// <summary>Why a raw TCP send failed: which step, and the errno.</summary>
public enum RawSendStep { None, Socket, Send }

/// <summary>Result of <see cref="RawTcp.Send"/>: success, or the failing step and its errno.</summary>
public readonly record struct RawSendResult(RawSendStep FailedStep, int Errno)
{
    public bool Ok => FailedStep == RawSendStep.None;

    /// <summary>The C library's text for <see cref="Errno"/>, e.g. "Network is unreachable".</summary>
    public string ErrnoMessage => NetNative.ErrnoMessage(Errno);
}

/// <summary>
/// Sends one spoofed TCP segment from <c>src</c> to <c>dst</c> through a raw IP socket (IPPROTO_RAW, header
/// included; needs CAP_NET_RAW). With seq = ack = 0 and no RST it is CTDB's "tickle ACK" (behaviour.md §6.7): the
/// peer's stack sees an out-of-window ACK and answers with a correct ACK (or a RST when it has no such
/// connection), which re-establishes the path after an address moved. With <c>rst</c> and the right sequence number
/// it resets a connection (what ctdb_killtcp does). Never throws.
/// </summary>
public static class RawTcp
{
    private const int EafNoSupport = 97;

    public static unsafe RawSendResult Send(IPEndPoint src, IPEndPoint dst, uint seq = 0, uint ack = 0, bool rst = false)
    {
        var d = PacketBuilder.Unmapped(dst.Address);
        var v4 = d.AddressFamily == AddressFamily.InterNetwork;
        var fd = NetNative.socket(v4 ? NetNative.AfInet : NetNative.AfInet6, NetNative.SockRaw | NetNative.SockCloexec, NetNative.IpProtoRaw);
        if (fd < 0)
            return new(RawSendStep.Socket, NetNative.LastErrno);
        try
        {
            // Mixed families cannot form one packet; 4.17 fails the same pair at sendto with EAFNOSUPPORT.
            if (PacketBuilder.Unmapped(src.Address).AddressFamily != d.AddressFamily)
                return new(RawSendStep.Send, EafNoSupport);
            var packet = PacketBuilder.TcpSegment(src, dst, seq, ack, rst);
            // The destination's port must be 0 for raw sockets (the kernel reads it as a protocol otherwise on IPv6).
            Span<byte> sa = stackalloc byte[v4 ? 16 : 28];
            sa.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(sa, (ushort)(v4 ? NetNative.AfInet : NetNative.AfInet6));
            d.TryWriteBytes(sa[(v4 ? 4 : 8)..], out _);
            nint n;
            fixed (byte* pp = packet)
            fixed (byte* ps = sa)
                n = NetNative.sendto(fd, pp, (nuint)packet.Length, 0, ps, (uint)sa.Length);
            return n == packet.Length ? default : new(RawSendStep.Send, n < 0 ? NetNative.LastErrno : 5 /* EIO: short write */);
        }
        finally
        {
            _ = NetNative.close(fd);
        }
    }
}
