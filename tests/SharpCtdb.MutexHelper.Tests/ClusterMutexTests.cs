using SharpCtdb.Config;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.MutexHelper.Tests;

public sealed partial class ClusterMutexTests : IDisposable
{
    private readonly ScratchDir _dir = new();
    private readonly CollectingSink _sink = new();
    private readonly CtdbLog _log;

    public ClusterMutexTests()
    {
        _log = new CtdbLog("ctdbd", _sink, (int)DebugLevel.Debug);
    }

    public void Dispose() => _dir.Dispose();

    private sealed class CollectingSink : ILogSink
    {
        private readonly List<string> _lines = [];

        public void Write(DebugLevel level, string line)
        {
            lock (_lines)
                _lines.Add(line);
        }

        public string All()
        {
            lock (_lines)
                return string.Join("\n", _lines);
        }
    }

    private static async Task<T> Within<T>(Task<T> task)
    {
        var done = await Task.WhenAny(task, Task.Delay(HelperProcess.Deadline, TestContext.Current.CancellationToken));
        Assert.Same(task, done);
        return await task;
    }

    private static async Task Within(Task task)
    {
        var done = await Task.WhenAny(task, Task.Delay(HelperProcess.Deadline, TestContext.Current.CancellationToken));
        Assert.Same(task, done);
    }

    private static bool ProcessGone(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return p.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    private async Task WaitForLogAsync(string text)
    {
        var deadline = DateTime.UtcNow + HelperProcess.Deadline;
        while (!_sink.All().Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"log never contained '{text}':\n{_sink.All()}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static async Task WaitGoneAsync(int pid)
    {
        var deadline = DateTime.UtcNow + HelperProcess.Deadline;
        while (!ProcessGone(pid))
        {
            Assert.True(DateTime.UtcNow < deadline, $"helper {pid} still running");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public void SpecParsing()
    {
        Assert.Equal(["/bin/h", "a", "b"], ClusterMutex.ParseSpec("!/bin/h  a\tb", "/default", out var e1));
        Assert.Null(e1);
        Assert.Equal(["/default", "/shared/lock 5"], ClusterMutex.ParseSpec("/shared/lock 5", "/default", out var e2));
        Assert.Null(e2);
        Assert.Empty(ClusterMutex.ParseSpec("! \t", "/default", out var e3));
        Assert.NotNull(e3);
    }

    [Fact]
    public async Task BangSpecTakesTheLockAndSecondMutexSeesContention()
    {
        var file = _dir.File("lock");
        using var first = ClusterMutex.Start($"!{HelperProcess.OurHelper} {file}", "/nonexistent", _log, HelperProcess.Deadline);
        Assert.Equal('0', await Within(first.Result));
        Assert.True(first.HelperPid > 0);
        Assert.False(first.Lost.IsCompleted);

        // The plain form runs the default helper with the whole spec as its one argument.
        using var second = ClusterMutex.Start(file, HelperProcess.OurHelper, _log, HelperProcess.Deadline);
        Assert.Equal('1', await Within(second.Result));
        Assert.Equal([HelperProcess.OurHelper, file], second.Argv);
    }

    [Fact]
    public async Task LostFiresWhenTheHelperIsKilled()
    {
        var file = _dir.File("lock");
        using var mutex = ClusterMutex.Start($"!{HelperProcess.OurHelper} {file}", "/unused", _log, HelperProcess.Deadline);
        Assert.Equal('0', await Within(mutex.Result));
        _ = Kill(mutex.HelperPid, HelperProcess.SigKill);
        await Within(mutex.Lost);
        Assert.Contains("exited or closed its stdout: lock lost", _sink.All());
    }

    [Fact]
    public async Task LostFiresWhenTheLockFileIsRemoved()
    {
        var file = _dir.File("lock");
        using var mutex = ClusterMutex.Start($"!{HelperProcess.OurHelper} {file} 1", "/unused", _log, HelperProcess.Deadline);
        Assert.Equal('0', await Within(mutex.Result));
        File.Delete(file);
        await Within(mutex.Lost);
        // The helper's stderr is forwarded to the log (asynchronously, so wait for it).
        await WaitForLogAsync("cluster lock helper: ctdb_mutex_fcntl_helper: lock lost - lock file");
    }

    [Fact]
    public async Task ReleaseTerminatesTheHelperAndFreesTheLock()
    {
        var file = _dir.File("lock");
        var mutex = ClusterMutex.Start($"!{HelperProcess.OurHelper} {file}", "/unused", _log, HelperProcess.Deadline);
        Assert.Equal('0', await Within(mutex.Result));
        var pid = mutex.HelperPid;
        mutex.Release();
        mutex.Release();
        await WaitGoneAsync(pid);
        Assert.False(mutex.Lost.IsCompleted);
        mutex.Dispose();

        using var next = ClusterMutex.Start(file, HelperProcess.OurHelper, _log, HelperProcess.Deadline);
        Assert.Equal('0', await Within(next.Result));
    }

    [Fact]
    public async Task WorksWithSambasHelperAsDefault()
    {
        Assert.SkipUnless(File.Exists(HelperProcess.SambaHelper), "Samba's helper not installed");
        var file = _dir.File("lock");
        using var samba = ClusterMutex.Start(file, HelperProcess.SambaHelper, _log, HelperProcess.Deadline);
        Assert.Equal('0', await Within(samba.Result));
        using var ours = ClusterMutex.Start($"!{HelperProcess.OurHelper} {file}", "/unused", _log, HelperProcess.Deadline);
        Assert.Equal('1', await Within(ours.Result));
    }

    [Fact]
    public async Task MissingHelperIsAnErrorResult()
    {
        using var mutex = ClusterMutex.Start("!/nonexistent/sc-helper x", "/unused", _log, HelperProcess.Deadline);
        Assert.Equal('3', await Within(mutex.Result));
        Assert.Contains("does not exist", mutex.StartError);

        var notExecutable = _dir.File("plain");
        File.WriteAllText(notExecutable, "");
        using var second = ClusterMutex.Start("/some/lock", notExecutable, _log, HelperProcess.Deadline);
        Assert.Equal('3', await Within(second.Result));
        Assert.Contains("not executable", second.StartError);

        using var empty = ClusterMutex.Start("!", "/unused", _log, HelperProcess.Deadline);
        Assert.Equal('3', await Within(empty.Result));
    }

    [Fact]
    public async Task SilentHelperTimesOutAndIsKilled()
    {
        using var mutex = ClusterMutex.Start("!/bin/sleep 600", "/unused", _log, TimeSpan.FromMilliseconds(500));
        Assert.Equal('2', await Within(mutex.Result));
        await WaitGoneAsync(mutex.HelperPid);
    }

    [Fact]
    public async Task EofBeforeStatusIsAnError()
    {
        using var mutex = ClusterMutex.Start("!/bin/true", "/unused", _log, HelperProcess.Deadline);
        Assert.Equal('3', await Within(mutex.Result));
        Assert.False(mutex.Lost.IsCompleted);
    }

    [Fact]
    public async Task HelperReportingAFailureCodeIsPassedThrough()
    {
        var script = _dir.File("h.sh");
        File.WriteAllText(script, "#!/bin/sh\nprintf 2\nexec sleep 600\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var mutex = ClusterMutex.Start($"!{script}", "/unused", _log, HelperProcess.Deadline);
        Assert.Equal('2', await Within(mutex.Result));
        // Any non-'0' verdict terminates the helper.
        await WaitGoneAsync(mutex.HelperPid);
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int sig);
}
