using System.Buffers.Binary;
using SharpCtdb.Net;

namespace SharpCtdb.TestSupport;

/// <summary>An AF_PACKET socket bound to one interface that receives every frame (ETH_P_ALL), for assertions.</summary>
public sealed unsafe class PacketCapture : IDisposable
{
    private readonly int _fd;

    /// <summary>Must be called on a thread inside the interface's namespace (see <see cref="Netns.Run"/>).</summary>
    public PacketCapture(string iface)
    {
        _fd = NetNative.socket(NetNative.AfPacket, NetNative.SockRaw | NetNative.SockCloexec, BinaryPrimitives.ReverseEndianness(NetNative.EthPAll));
        if (_fd < 0)
            throw new InvalidOperationException($"packet socket: errno {NetNative.LastErrno}");
        if (!NetNative.TryGetInterface(_fd, iface, out var index, out _, out _, out var errno))
            throw new InvalidOperationException($"interface {iface}: errno {errno}");
        Span<byte> sll = stackalloc byte[20];
        NetNative.FillSockaddrLl(sll, NetNative.EthPAll, index, []);
        fixed (byte* p = sll)
        {
            if (NetNative.bind(_fd, p, 20) != 0)
                throw new InvalidOperationException($"bind: errno {NetNative.LastErrno}");
        }
    }

    /// <summary>Frames received until <paramref name="match"/> has accepted <paramref name="count"/> of them or the deadline passes.</summary>
    public List<byte[]> Collect(Func<byte[], bool> match, int count, TimeSpan deadline)
    {
        var found = new List<byte[]>();
        var end = DateTime.UtcNow + deadline;
        var buf = new byte[65536];
        while (found.Count < count)
        {
            var left = (int)(end - DateTime.UtcNow).TotalMilliseconds;
            if (left <= 0)
                break;
            var pfd = new NetNative.PollFd { Fd = _fd, Events = 1 };
            if (NetNative.poll(&pfd, 1, left) <= 0)
                continue;
            nint n;
            fixed (byte* p = buf)
                n = NetNative.recv(_fd, p, (nuint)buf.Length, 0);
            if (n > 0 && buf.AsSpan(0, (int)n).ToArray() is var frame && match(frame))
                found.Add(frame);
        }
        return found;
    }

    public void Dispose() => _ = NetNative.close(_fd);
}
