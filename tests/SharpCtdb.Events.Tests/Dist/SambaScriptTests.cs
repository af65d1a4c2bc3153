namespace SharpCtdb.Events.Tests.Dist;

public sealed class SambaScriptTests : IDisposable
{
    private readonly DistHarness _h = new();

    public SambaScriptTests()
    {
        _h.Install("50.samba");
        _h.Stub("systemctl");
        _h.Stub("ctdb");
        _h.ExtraEnv["CTDB_SAMBA_CONF"] = Path.Combine(_h.Root, "no-smb.conf");
        Directory.CreateDirectory(Path.Combine(_h.Root, "share"));
        Testparm(Path.Combine(_h.Root, "share"));
    }

    public void Dispose() => _h.Dispose();

    private void Listening(params int[] ports) =>
        _h.Stub("ss", string.Concat(ports.Select(p => $"echo 'LISTEN 0      50           0.0.0.0:{p}        0.0.0.0:*'\n")));

    private void Testparm(string sharePath) =>
        _h.Stub("testparm", $"printf '[global]\\n\\tworkgroup = X\\n[data]\\n\\tpath = {sharePath}\\n'");

    [Fact]
    public async Task Monitor_AllHealthy_Passes()
    {
        Listening(445, 139);

        var r = await _h.RunAsync("monitor");

        Assert.Equal(0, r.Result);
    }

    [Fact]
    public async Task Monitor_PortNotListening_FailsNamingThePort()
    {
        Listening(445);

        var r = await _h.RunAsync("monitor");

        Assert.NotEqual(0, r.Result);
        Assert.Contains("not listening on TCP port 139", r.Output);
    }

    [Fact]
    public async Task Monitor_MissingShareDirectory_FailsNamingIt_UnlessSkipped()
    {
        Listening(445, 139);
        Testparm("/nonexistent/sc-dist-share");

        var r = await _h.RunAsync("monitor");

        Assert.NotEqual(0, r.Result);
        Assert.Contains("/nonexistent/sc-dist-share", r.Output);

        _h.WriteBaseFile("script.options", "CTDB_SAMBA_SKIP_SHARE_CHECK=yes\n");
        Assert.Equal(0, (await _h.RunAsync("monitor")).Result);
    }

    [Fact]
    public async Task Monitor_TestparmFails_Fails_AndSuccessIsCached()
    {
        Listening(445, 139);
        _h.Stub("testparm", "exit 1");

        var r = await _h.RunAsync("monitor");
        Assert.NotEqual(0, r.Result);
        Assert.Contains("testparm", r.Output);

        Testparm(Path.Combine(_h.Root, "share"));
        Assert.Equal(0, (await _h.RunAsync("monitor")).Result);
        Assert.Equal(0, (await _h.RunAsync("monitor")).Result);
        // One failed run, one successful run, then the cached output is reused.
        Assert.Equal(2, _h.Calls().Count(c => c == "testparm -s"));
    }

    [Fact]
    public async Task StartupAndShutdown_HandleConfiguredServices()
    {
        _h.WriteBaseFile("script.options", "CTDB_SERVICE_NMB=nmbd\nCTDB_SERVICE_WINBIND=winbind\n");

        Assert.Equal(0, (await _h.RunAsync("startup")).Result);
        Assert.Equal(0, (await _h.RunAsync("shutdown")).Result);

        Assert.Equal(
        [
            "systemctl start winbind", "systemctl start smbd", "systemctl start nmbd",
            "systemctl stop winbind", "systemctl stop smbd", "systemctl stop nmbd",
        ], _h.Calls());
    }

    [Fact]
    public async Task Startup_StartFailure_Fails()
    {
        _h.Stub("systemctl", "exit 1");

        var r = await _h.RunAsync("startup");

        Assert.NotEqual(0, r.Result);
        Assert.Contains("failed to start smbd", r.Output);
    }
}
