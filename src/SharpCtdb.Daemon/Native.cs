using System.Runtime.InteropServices;

namespace SharpCtdb.Daemon;

/// <summary>The few libc calls .NET has no managed API for (peer credentials, fcntl record locks, kill, setsid).</summary>
internal static partial class Native
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int FSetLk = 6;
    private const short FWrLck = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct UCred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Len;
        public int Pid;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int getsockopt(int fd, int level, int name, void* value, uint* len);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int fcntl(int fd, int cmd, Flock* lk);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsid();

    /// <summary>Peer pid of a connected Unix socket (SO_PEERCRED), or 0 when unknown.</summary>
    public static unsafe int PeerPid(nint fd)
    {
        UCred cred = default;
        uint len = (uint)sizeof(UCred);
        return getsockopt((int)fd, SolSocket, SoPeerCred, &cred, &len) == 0 ? cred.Pid : 0;
    }

    /// <summary>Non-blocking exclusive fcntl lock on the whole file; false if someone else holds it.</summary>
    public static unsafe bool TryLockFile(nint fd)
    {
        var lk = new Flock { Type = FWrLck, Whence = 0, Start = 0, Len = 0 };
        return fcntl((int)fd, FSetLk, &lk) == 0;
    }

    /// <summary>kill(pid, 0): does the process exist (EPERM counts as existing)?</summary>
    public static bool ProcessExists(int pid)
    {
        if (pid <= 0)
            return false;
        if (kill(pid, 0) == 0)
            return true;
        return Marshal.GetLastPInvokeError() == 1; // EPERM
    }

    public static void NewSession() => _ = setsid();
}
