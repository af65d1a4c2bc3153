using System.Runtime.InteropServices;

namespace SharpCtdb.Events;

/// <summary>The few libc calls .NET does not expose: stat with errno and file type, kill of a process group.</summary>
internal static partial class Native
{
    public const int SIGTERM = 15;
    public const int SIGKILL = 9;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillRaw(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatRaw(string path, byte* buf);

    /// <summary>Sends <paramref name="signal"/> to every process of group <paramref name="pgid"/>. Returns 0 or errno.</summary>
    public static int KillGroup(int pgid, int signal)
    {
        if (pgid <= 1)
            return Errno.EINVAL; // never signal "all processes" or init by accident
        return KillRaw(-pgid, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>True while any process of group <paramref name="pgid"/> exists (signal 0 probe).</summary>
    public static bool GroupExists(int pgid) => pgid > 1 && KillRaw(-pgid, 0) == 0;

    /// <summary>stat(2) following symlinks: errno (0 on success) and st_mode.</summary>
    public static unsafe int Stat(string path, out uint mode)
    {
        mode = 0;
        var modeOffset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 => 16,
            _ => -1,
        };
        if (modeOffset < 0)
            return StatFallback(path, out mode);
        var buf = stackalloc byte[512];
        if (StatRaw(path, buf) != 0)
            return Marshal.GetLastPInvokeError();
        mode = *(uint*)(buf + modeOffset);
        return 0;
    }

    // Portable approximation for other architectures: no fifo/device distinction.
    private static int StatFallback(string path, out uint mode)
    {
        mode = 0;
        try
        {
            FileSystemInfo fi = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
            if (fi.LinkTarget is not null)
                fi = fi.ResolveLinkTarget(returnFinalTarget: true) ?? fi;
            if (!fi.Exists)
                return Errno.ENOENT;
            mode = (uint)fi.UnixFileMode | (fi is DirectoryInfo ? 0x4000u : 0x8000u);
            return 0;
        }
        catch (IOException)
        {
            return Errno.ELOOP;
        }
    }
}

/// <summary>What stat says about a script path, and whether execve would accept it.</summary>
internal readonly record struct FileProbe(int Error, uint Mode)
{
    private const uint TypeMask = 0xF000;
    private const uint RegularType = 0x8000;
    private const uint DirectoryType = 0x4000;

    public bool OwnerExecute => (Mode & 0x40) != 0;
    public bool IsRegular => (Mode & TypeMask) == RegularType;
    public bool IsDirectory => (Mode & TypeMask) == DirectoryType;

    public static FileProbe Stat(string path) => new(Native.Stat(path, out var mode), mode);

    /// <summary>
    /// Predicts the outcome of exec for a file that stat says is executable: 0 = runnable, ENOEXEC = no "#!" or ELF
    /// header (4.17 reports DISABLED), ENOENT = missing "#!" interpreter. We check instead of letting exec fail
    /// because execvp and /bin/sh would run a header-less file through the shell, which 4.17 does not do.
    /// </summary>
    public static int ExecCheck(string path)
    {
        Span<byte> head = stackalloc byte[256];
        int n;
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (FileNotFoundException)
        {
            return Errno.ENOENT;
        }
        catch (DirectoryNotFoundException)
        {
            return Errno.ENOENT;
        }
        catch (UnauthorizedAccessException)
        {
            return Errno.ENOEXEC; // EACCES from exec maps to -ENOEXEC (DISABLED)
        }
        catch (IOException)
        {
            return Errno.ENOEXEC;
        }
        head = head[..n];
        if (head.Length >= 4 && head[0] == 0x7F && head[1] == (byte)'E' && head[2] == (byte)'L' && head[3] == (byte)'F')
            return 0;
        if (head.Length < 2 || head[0] != (byte)'#' || head[1] != (byte)'!')
            return Errno.ENOEXEC;
        var line = head[2..];
        var nl = line.IndexOf((byte)'\n');
        if (nl >= 0)
            line = line[..nl];
        line = line.TrimStart(" \t"u8);
        var end = line.IndexOfAny(" \t\r"u8);
        var interpreter = System.Text.Encoding.UTF8.GetString(end >= 0 ? line[..end] : line);
        if (interpreter.Length == 0)
            return Errno.ENOEXEC;
        var ip = Stat(interpreter);
        return ip.Error != 0 ? ip.Error : 0;
    }
}
