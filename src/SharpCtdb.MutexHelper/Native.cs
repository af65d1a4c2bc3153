using System.Runtime.InteropServices;

namespace SharpCtdb.MutexHelper;

/// <summary>The few libc calls the helper needs (x86_64/arm64 Linux layouts).</summary>
internal static partial class Native
{
    public const int ORdWr = 0x2;
    public const int OCreat = 0x40;
    public const int OCloExec = 0x80000;

    public const int FGetLk = 5;
    public const int FSetLk = 6;

    public const short FWrLck = 1;
    public const short FUnLck = 2;
    public const short SeekSet = 0;

    public const int EAcces = 13;
    public const int EAgain = 11;
    public const int ESrch = 3;
    public const int EIntr = 4;

    public const short PollErr = 0x8;
    public const short PollHup = 0x10;

    /// <summary>struct flock: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (32 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Len;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int FcntlLock(int fd, int cmd, ref Flock lck);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint Write(int fd, byte* buf, nuint count);

    [LibraryImport("libc", EntryPoint = "getppid")]
    public static partial int GetPpid();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static unsafe partial int Poll(PollFd* fds, nuint nfds, int timeout);

    // struct stat is 144 bytes on x86_64 (128 on arm64); st_dev and st_ino are the first two 8-byte fields on both.
    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatRaw(string path, byte* buf);

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static unsafe partial int FstatRaw(int fd, byte* buf);

    public static unsafe bool TryStat(string path, out ulong dev, out ulong ino)
    {
        var buf = stackalloc byte[256];
        var ok = StatRaw(path, buf) == 0;
        dev = ok ? *(ulong*)buf : 0;
        ino = ok ? *(ulong*)(buf + 8) : 0;
        return ok;
    }

    public static unsafe bool TryFstat(int fd, out ulong dev, out ulong ino)
    {
        var buf = stackalloc byte[256];
        var ok = FstatRaw(fd, buf) == 0;
        dev = ok ? *(ulong*)buf : 0;
        ino = ok ? *(ulong*)(buf + 8) : 0;
        return ok;
    }
}
