using System.Runtime.InteropServices;

namespace SharpCtdb.Net;

/// <summary>libc calls for raw packet sockets (AF_PACKET, raw IP) and interface lookups.</summary>
public static partial class NetNative
{
    public const int AfInet = 2;
    public const int AfInet6 = 10;
    public const int AfPacket = 17;
    public const int SockDgram = 2;
    public const int SockRaw = 3;
    public const int SockCloexec = 0x80000;
    public const int IpProtoRaw = 255;
    public const ushort EthPArp = 0x0806;
    public const ushort EthPIp = 0x0800;
    public const ushort EthPIpv6 = 0x86DD;
    public const ushort EthPAll = 0x0003;
    private const uint SiocGifIndex = 0x8933;
    private const uint SiocGifHwAddr = 0x8927;
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;
    public const int IfNameSize = 16;
    private const int ArphrdEther = 1;
    private const int ArphrdLoopback = 772;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint sendto(int fd, byte* buf, nuint len, int flags, byte* addr, uint addrLen);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint recv(int fd, byte* buf, nuint len, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int bind(int fd, byte* addr, uint addrLen);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ioctl(int fd, nuint request, byte* arg);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int setsockopt(int fd, int level, int name, byte* value, uint len);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int poll(PollFd* fds, nuint n, int timeoutMs);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>strerror(<paramref name="errno"/>), e.g. "Operation not permitted".</summary>
    public static string ErrnoMessage(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    public static string ErrnoText(int errno) => $"{ErrnoMessage(errno)} (errno {errno})";

    /// <summary>Hardware type of an interface as the kernel reports it.</summary>
    public enum LinkKind { Ethernet, Loopback, Other }

    /// <summary>Index, hardware type and MAC of <paramref name="iface"/> (SIOCGIFINDEX/SIOCGIFHWADDR on <paramref name="fd"/>).</summary>
    public static unsafe bool TryGetInterface(int fd, string iface, out int index, out LinkKind kind, out byte[] mac, out int errno)
    {
        index = 0;
        kind = LinkKind.Other;
        mac = [];
        errno = 0;
        var req = stackalloc byte[40]; // struct ifreq: name[16] + 24-byte union
        if (!FillName(new Span<byte>(req, 40), iface))
        {
            errno = 19; // ENODEV: the name cannot even be an interface
            return false;
        }
        if (ioctl(fd, SiocGifIndex, req) != 0)
        {
            errno = LastErrno;
            return false;
        }
        index = *(int*)(req + IfNameSize);
        new Span<byte>(req + IfNameSize, 24).Clear();
        if (ioctl(fd, SiocGifHwAddr, req) != 0)
        {
            errno = LastErrno;
            return false;
        }
        // ifr_hwaddr is a struct sockaddr: sa_family (= ARPHRD_*) then the address bytes.
        var family = *(ushort*)(req + IfNameSize);
        kind = family switch { ArphrdEther => LinkKind.Ethernet, ArphrdLoopback => LinkKind.Loopback, _ => LinkKind.Other };
        mac = new Span<byte>(req + IfNameSize + 2, 6).ToArray();
        return true;
    }

    /// <summary>Writes a NUL-terminated interface name (≤ 15 bytes) into an ifreq name field.</summary>
    public static bool FillName(Span<byte> dest, string iface)
    {
        if (iface.Length is 0 or >= IfNameSize)
            return false;
        dest[..IfNameSize].Clear();
        for (var i = 0; i < iface.Length; i++)
        {
            if (iface[i] is <= ' ' or > '~' or '/')
                return false;
            dest[i] = (byte)iface[i];
        }
        return true;
    }

    /// <summary>struct sockaddr_ll (20 bytes) for sending on <paramref name="ifindex"/>.</summary>
    public static void FillSockaddrLl(Span<byte> sll, ushort protocol, int ifindex, ReadOnlySpan<byte> dstMac)
    {
        sll.Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(sll, AfPacket);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(sll[2..], protocol);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(sll[4..], ifindex);
        sll[11] = (byte)dstMac.Length; // sll_halen
        dstMac.CopyTo(sll[12..]);
    }

    public static unsafe int BindToDevice(int fd, string iface)
    {
        var name = stackalloc byte[IfNameSize];
        if (!FillName(new Span<byte>(name, IfNameSize), iface))
            return 19;
        return setsockopt(fd, SolSocket, SoBindToDevice, name, IfNameSize) == 0 ? 0 : LastErrno;
    }
}
