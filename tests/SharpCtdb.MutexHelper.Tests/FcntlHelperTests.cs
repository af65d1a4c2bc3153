namespace SharpCtdb.MutexHelper.Tests;

public sealed class FcntlHelperTests : IDisposable
{
    private readonly ScratchDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void RequireSamba() =>
        Assert.SkipUnless(File.Exists(HelperProcess.SambaHelper), "Samba's ctdb_mutex_fcntl_helper not installed");

    /// <summary>Polls a helper-start until it reports '0' (the holder may take a moment to go away).</summary>
    private static async Task<HelperProcess> AcquireEventuallyAsync(string program, string file)
    {
        var deadline = DateTime.UtcNow + HelperProcess.Deadline;
        while (true)
        {
            var h = HelperProcess.Start(program, file);
            var status = await h.ReadStatusAsync();
            if (status == '0')
                return h;
            h.Dispose();
            Assert.True(DateTime.UtcNow < deadline, $"lock not free in time (last status {status})");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task OursTakesTheLockCreatesTheFile0600AndReleasesOnSigterm()
    {
        var file = _dir.File("lock");
        using var ours = HelperProcess.Start(HelperProcess.OurHelper, file);
        Assert.Equal('0', await ours.ReadStatusAsync());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        ours.Signal(HelperProcess.SigTerm);
        Assert.True(await ours.WaitExitAsync());
        Assert.Equal(0, ours.Process.ExitCode);
    }

    [Fact]
    public async Task SambaHoldsOursReportsContentionThenGetsItAfterSigterm()
    {
        RequireSamba();
        var file = _dir.File("lock");
        using var samba = HelperProcess.Start(HelperProcess.SambaHelper, file);
        Assert.Equal('0', await samba.ReadStatusAsync());

        using (var ours = HelperProcess.Start(HelperProcess.OurHelper, file))
        {
            Assert.Equal('1', await ours.ReadStatusAsync());
            Assert.True(await ours.WaitExitAsync());
        }

        samba.Signal(HelperProcess.SigTerm);
        Assert.True(await samba.WaitExitAsync());
        using var after = await AcquireEventuallyAsync(HelperProcess.OurHelper, file);
    }

    [Fact]
    public async Task OursHoldsSambaReportsContentionThenGetsItAfterSigterm()
    {
        RequireSamba();
        var file = _dir.File("lock");
        using var ours = HelperProcess.Start(HelperProcess.OurHelper, file);
        Assert.Equal('0', await ours.ReadStatusAsync());

        using (var samba = HelperProcess.Start(HelperProcess.SambaHelper, file))
        {
            Assert.Equal('1', await samba.ReadStatusAsync());
            Assert.True(await samba.WaitExitAsync());
        }

        ours.Signal(HelperProcess.SigTerm);
        Assert.True(await ours.WaitExitAsync());
        using var after = await AcquireEventuallyAsync(HelperProcess.SambaHelper, file);
    }

    [Fact]
    public async Task TwoOfOursExcludeEachOther()
    {
        var file = _dir.File("lock");
        using var first = HelperProcess.Start(HelperProcess.OurHelper, file);
        Assert.Equal('0', await first.ReadStatusAsync());
        using var second = HelperProcess.Start(HelperProcess.OurHelper, file);
        Assert.Equal('1', await second.ReadStatusAsync());
    }

    [Fact]
    public async Task DeletingTheLockFileMakesOursGiveUp()
    {
        var file = _dir.File("lock");
        using var ours = HelperProcess.Start(HelperProcess.OurHelper, file, "1");
        Assert.Equal('0', await ours.ReadStatusAsync());
        File.Delete(file);
        Assert.True(await ours.WaitExitAsync(), "helper did not notice the removed lock file");
        Assert.Null(await ours.ReadStatusAsync()); // EOF: what ctdb sees as "lock lost"
        Assert.Contains("lock lost", ours.ReadStderr());
    }

    [Fact]
    public async Task ReplacingTheLockFileMakesOursGiveUp()
    {
        var file = _dir.File("lock");
        using var ours = HelperProcess.Start(HelperProcess.OurHelper, file, "1");
        Assert.Equal('0', await ours.ReadStatusAsync());
        var other = _dir.File("other");
        File.WriteAllText(other, "");
        File.Move(other, file, overwrite: true);
        Assert.True(await ours.WaitExitAsync(), "helper did not notice the replaced lock file");
        Assert.Contains("inode changed", ours.ReadStderr());
    }

    [Fact]
    public async Task WithoutRecheckTheRemovedFileIsNotNoticed()
    {
        var file = _dir.File("lock");
        using var ours = HelperProcess.Start(HelperProcess.OurHelper, file, "0");
        Assert.Equal('0', await ours.ReadStatusAsync());
        File.Delete(file);
        Assert.False(await ours.WaitExitAsync(TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task ClosingStdoutMakesOursExit()
    {
        var file = _dir.File("lock");
        using var ours = HelperProcess.Start(HelperProcess.OurHelper, file, "0");
        Assert.Equal('0', await ours.ReadStatusAsync());
        ours.CloseStdout();
        Assert.True(await ours.WaitExitAsync(), "helper kept the lock after its stdout was closed");
    }

    [Fact]
    public async Task OursExitsWhenItsParentDies()
    {
        RequireSamba();
        var file = _dir.File("lock");
        // sh is the helper's parent; killing sh orphans the helper, which must notice within its 5 s parent check.
        using var shell = HelperProcess.Start("/bin/sh", "-c", "\"$0\" \"$1\" 0 & wait", HelperProcess.OurHelper, file);
        Assert.Equal('0', await shell.ReadStatusAsync());
        shell.Signal(HelperProcess.SigKill);
        Assert.True(await shell.WaitExitAsync());
        using var samba = await AcquireEventuallyAsync(HelperProcess.SambaHelper, file);
    }

    [Fact]
    public async Task UnopenableFileReportsError()
    {
        using var ours = HelperProcess.Start(HelperProcess.OurHelper, "/nonexistent-sc-dir/lock");
        Assert.Equal('3', await ours.ReadStatusAsync());
        Assert.True(await ours.WaitExitAsync());
        Assert.Contains("Unable to open", ours.ReadStderr());
    }

    [Theory]
    [InlineData("")]
    [InlineData("/tmp/sc-x abc")]
    [InlineData("/tmp/sc-x -1")]
    [InlineData("/tmp/sc-x 1 2 3")]
    public async Task BadArgumentsPrintUsage(string argLine)
    {
        using var ours = HelperProcess.Start(HelperProcess.OurHelper, argLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Null(await ours.ReadStatusAsync());
        Assert.True(await ours.WaitExitAsync());
        Assert.Equal(1, ours.Process.ExitCode);
        Assert.Contains("Usage: ctdb_mutex_fcntl_helper <file> [recheck_interval [ping_timeout]]", ours.ReadStderr());
    }
}
