using System.Globalization;
using System.Runtime.InteropServices;
using SharpCtdb.MutexHelper;

// ctdb_mutex_fcntl_helper FILE [RECHECK_INTERVAL [PING_TIMEOUT]] (behaviour.md §4.4).
// Prints one status character on stdout: 0 = lock taken (then holds it), 1 = contention, 3 = error.
return await FcntlMutexHelper.RunAsync(args).ConfigureAwait(false);

internal static class FcntlMutexHelper
{
    private const string Usage = "Usage: ctdb_mutex_fcntl_helper <file> [recheck_interval [ping_timeout]]";

    /// <summary>How often the parent is checked (the reference helper uses 5 s).</summary>
    private const int ParentCheckSeconds = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length is < 1 or > 3 || !TryParseSeconds(args, 1, 5, out var recheck) || !TryParseSeconds(args, 2, 0, out _))
        {
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 1;
        }
        var file = args[0];
        var ppid = Native.GetPpid();

        var fd = Native.Open(file, Native.ORdWr | Native.OCreat | Native.OCloExec, Convert.ToInt32("600", 8));
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            await Console.Error.WriteLineAsync($"ctdb_mutex_fcntl_helper: Unable to open {file} - ({Marshal.GetPInvokeErrorMessage(errno)})").ConfigureAwait(false);
            Report('3');
            return 0;
        }
        var lck = new Native.Flock { Type = Native.FWrLck, Whence = Native.SeekSet, Start = 0, Len = 1 };
        if (Native.FcntlLock(fd, Native.FSetLk, ref lck) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Native.EAcces or Native.EAgain)
            {
                Report('1');
            }
            else
            {
                await Console.Error.WriteLineAsync($"ctdb_mutex_fcntl_helper: Failed to get lock on {file} - ({Marshal.GetPInvokeErrorMessage(errno)})").ConfigureAwait(false);
                Report('3');
            }
            _ = Native.Close(fd);
            return 0;
        }
        if (!Native.TryFstat(fd, out var heldDev, out var heldIno))
        {
            Report('3');
            return 0;
        }
        // Handle SIGTERM before announcing the lock: a caller may release it the moment it reads '0'.
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            stop.Cancel();
        });
        Report('0');

        // Orphaned at start (re-parented to init): there is nobody to hold the lock for.
        if (ppid == 1)
            return 0;
        var reason = await HoldAsync(file, fd, ppid, heldDev, heldIno, recheck, stop.Token).ConfigureAwait(false);
        if (reason is not null)
            await Console.Error.WriteLineAsync($"ctdb_mutex_fcntl_helper: {reason}").ConfigureAwait(false);
        _ = Native.Close(fd);
        return 0;
    }

    /// <summary>Holds the lock until SIGTERM (null) or until it must be given up (returns why).</summary>
    private static async Task<string?> HoldAsync(string file, int fd, int ppid, ulong dev, ulong ino, int recheck, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var elapsed = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                elapsed++;
                if (StdoutClosed())
                    return null; // ctdb closed the pipe: it no longer wants the lock
                if (elapsed % ParentCheckSeconds == 0 && !ParentAlive(ppid))
                    return null;
                if (recheck > 0 && elapsed % recheck == 0 && CheckLock(file, fd, dev, ino) is { } lost)
                    return lost;
            }
        }
        catch (OperationCanceledException)
        {
        }
        return null;
    }

    private static bool ParentAlive(int ppid)
    {
        if (Native.GetPpid() != ppid)
            return false;
        return Native.Kill(ppid, 0) == 0 || Marshal.GetLastPInvokeError() != Native.ESrch;
    }

    /// <summary>
    /// Recheck without opening a second descriptor: closing any descriptor of the file would drop this process's
    /// fcntl locks (POSIX semantics), which is why the reference helper rechecks from a child. Instead the path is
    /// stat()ed and compared with the held descriptor, and F_GETLK asks whether someone else now holds byte 0.
    /// </summary>
    private static string? CheckLock(string file, int fd, ulong dev, ulong ino)
    {
        if (!Native.TryStat(file, out var nowDev, out var nowIno))
            return $"lock lost - lock file \"{file}\" open failed ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})";
        if (nowDev != dev || nowIno != ino)
            return $"lock lost - lock file \"{file}\" inode changed";
        var probe = new Native.Flock { Type = Native.FWrLck, Whence = Native.SeekSet, Start = 0, Len = 1 };
        if (Native.FcntlLock(fd, Native.FGetLk, ref probe) == 0 && probe.Type != Native.FUnLck)
            return $"lock lost - lock on \"{file}\" is held by process {probe.Pid}";
        return null;
    }

    private static unsafe bool StdoutClosed()
    {
        var pfd = new Native.PollFd { Fd = 1, Events = 0 };
        var n = Native.Poll(&pfd, 1, 0);
        return n > 0 && (pfd.REvents & (Native.PollErr | Native.PollHup)) != 0;
    }

    private static unsafe void Report(char status)
    {
        var b = (byte)status;
        _ = Native.Write(1, &b, 1);
    }

    private static bool TryParseSeconds(string[] args, int index, int defaultValue, out int value)
    {
        value = defaultValue;
        if (args.Length <= index)
            return true;
        return int.TryParse(args[index], NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
