using System.Runtime.InteropServices;

namespace SharpCtdb.Daemon.Transport;

/// <summary>
/// A level-triggered epoll set plus an eventfd that other threads use to wake its waiter: what lets the cluster loop
/// wait for posted work and for readable sockets in one system call, as tevent does.
/// </summary>
internal sealed partial class Epoll : IDisposable
{
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const uint EpollIn = 0x001;
    private const int EfdCloexec = 0x80000;
    private const int EfdNonblock = 0x800;
    private const int EpollCloexec = 0x80000;
    private const int Eintr = 4;

    /// <summary>The <see cref="Wait"/> token of the wake-up eventfd.</summary>
    public const ulong WakeToken = 0;

    /// <summary>The <see cref="Wait"/> token of the timer (<see cref="ArmTimer"/>).</summary>
    public const ulong TimerToken = ulong.MaxValue;

    // struct epoll_event is packed (12 bytes) on x86-64 only; elsewhere its u64 is naturally aligned (16 bytes).
    private static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = EventSize - 8;
    private const int MaxEvents = 64;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int epoll_ctl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int epoll_wait(int epfd, byte* events, int max, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint read(int fd, void* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, void* buf, nint count);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int timerfd_create(int clockid, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int timerfd_settime(int fd, int flags, long* newValue, long* oldValue);

    private const int ClockMonotonic = 1;
    private const int TfdTimerAbstime = 1;

    private readonly int _epfd;
    private readonly int _wakeFd;
    private readonly int _timerFd;
    private readonly byte[] _events = new byte[MaxEvents * 16];
    private int _disposed;

    public Epoll()
    {
        _epfd = epoll_create1(EpollCloexec);
        if (_epfd < 0)
            throw new IOException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        _wakeFd = eventfd(0, EfdCloexec | EfdNonblock);
        if (_wakeFd < 0 || !Add(_wakeFd, WakeToken))
        {
            var errno = Marshal.GetLastPInvokeError();
            close(_epfd);
            throw new IOException($"eventfd failed: errno {errno}");
        }
        _timerFd = timerfd_create(ClockMonotonic, EfdCloexec | EfdNonblock); // TFD_ flags have the EFD_ values
        if (_timerFd < 0 || !Add(_timerFd, TimerToken))
        {
            var errno = Marshal.GetLastPInvokeError();
            close(_wakeFd);
            close(_epfd);
            throw new IOException($"timerfd failed: errno {errno}");
        }
    }

    /// <summary>
    /// Makes <see cref="TimerToken"/> ready at <paramref name="monotonicNs"/> (CLOCK_MONOTONIC, nanoseconds; a time
    /// already past fires at once), replacing an earlier setting; <see cref="long.MaxValue"/> disarms it.
    /// Microsecond resolution, unlike epoll_wait's millisecond timeout. Waiter's thread.
    /// </summary>
    public unsafe void ArmTimer(long monotonicNs)
    {
        var spec = stackalloc long[4]; // struct itimerspec: interval {0, 0}, value {sec, nsec}; value 0 disarms
        spec[0] = spec[1] = 0;
        var ns = monotonicNs == long.MaxValue ? 0 : Math.Max(1, monotonicNs);
        spec[2] = ns / 1_000_000_000;
        spec[3] = ns % 1_000_000_000;
        _ = timerfd_settime(_timerFd, TfdTimerAbstime, spec, null);
        if (monotonicNs != long.MaxValue)
            return;
        ulong expirations; // disarmed: drop an expiry that is already pending, so no stale ready event follows
        _ = read(_timerFd, &expirations, sizeof(ulong));
    }

    /// <summary>Watches <paramref name="fd"/> for input; <paramref name="token"/> (not 0) comes back from <see cref="Wait"/>. Any thread.</summary>
    public unsafe bool Add(int fd, ulong token)
    {
        var ev = stackalloc byte[16];
        *(uint*)ev = EpollIn;
        *(ulong*)(ev + DataOffset) = token;
        return epoll_ctl(_epfd, EpollCtlAdd, fd, ev) == 0;
    }

    /// <summary>Stops watching <paramref name="fd"/>; must come before the descriptor is closed (its number may be reused). Any thread.</summary>
    public unsafe void Remove(int fd)
    {
        var ev = stackalloc byte[16];
        _ = epoll_ctl(_epfd, EpollCtlDel, fd, ev);
    }

    /// <summary>Makes a waiting (or the next) <see cref="Wait"/> return. Any thread.</summary>
    public unsafe void Wake()
    {
        ulong one = 1;
        _ = write(_wakeFd, &one, sizeof(ulong));
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: for ever) and fills <paramref name="ready"/> with the tokens of
    /// ready descriptors; a wake-up is consumed here and reported as <see cref="WakeToken"/>.
    /// </summary>
    public unsafe void Wait(int timeoutMs, List<ulong> ready)
    {
        ready.Clear();
        int n;
        fixed (byte* ev = _events)
        {
            do
                n = epoll_wait(_epfd, ev, MaxEvents, timeoutMs);
            while (n < 0 && Marshal.GetLastPInvokeError() == Eintr);
        }
        for (var i = 0; i < n; i++)
        {
            var token = BitConverter.ToUInt64(_events, i * EventSize + DataOffset);
            if (token is WakeToken or TimerToken)
            {
                ulong count;
                _ = read(token == WakeToken ? _wakeFd : _timerFd, &count, sizeof(ulong));
            }
            ready.Add(token);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        close(_timerFd);
        close(_wakeFd);
        close(_epfd);
    }
}
