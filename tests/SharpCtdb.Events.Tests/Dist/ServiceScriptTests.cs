namespace SharpCtdb.Events.Tests.Dist;

public sealed class ServiceScriptTests : IDisposable
{
    private readonly DistHarness _h = new();

    public ServiceScriptTests() => _h.Install("70.service");

    public void Dispose() => _h.Dispose();

    /// <summary>systemctl whose is-active fails until a "restart" has been issued N times (never if N is 0).</summary>
    private void Systemctl(int activeAfterRestarts) =>
        _h.Stub("systemctl", $$"""
            n=$(cat "$STUB_DIR/restarts" 2>/dev/null || echo 0)
            case "$1" in
            restart) echo $((n + 1)) >"$STUB_DIR/restarts"; exit 0 ;;
            is-active) [ {{activeAfterRestarts}} -gt 0 ] && [ "$n" -ge {{activeAfterRestarts}} ] && exit 0; exit 3 ;;
            esac
            exit 0
            """);

    [Fact]
    public async Task NoUnitConfigured_DoesNothing()
    {
        Systemctl(0);

        var r = await _h.RunAsync("monitor");

        Assert.Equal(0, r.Result);
        Assert.Empty(_h.Calls());
    }

    [Fact]
    public async Task Monitor_Inactive_RestartsOnceThenFails()
    {
        Systemctl(0);
        _h.WriteBaseFile("events/legacy/70.service.options", "CTDB_SERVICE_UNIT=demo.service\n");

        var r = await _h.RunAsync("monitor");

        Assert.NotEqual(0, r.Result);
        Assert.Contains("demo.service is not active", r.Output);
        Assert.Equal(
            ["systemctl is-active --quiet demo.service", "systemctl restart demo.service", "systemctl is-active --quiet demo.service"],
            _h.Calls());
    }

    [Fact]
    public async Task Monitor_RestartHelps_Passes()
    {
        Systemctl(1);
        _h.WriteBaseFile("script.options", "CTDB_SERVICE_UNIT=demo.service\n");

        var r = await _h.RunAsync("monitor");

        Assert.Equal(0, r.Result);
        Assert.Single(_h.Calls(), c => c == "systemctl restart demo.service");
    }

    [Fact]
    public async Task Monitor_HonoursRestartAttempts()
    {
        Systemctl(2);
        _h.WriteBaseFile("script.options", "CTDB_SERVICE_UNIT=demo.service\nCTDB_SERVICE_RESTART_ATTEMPTS=3\n");

        var r = await _h.RunAsync("monitor");

        Assert.Equal(0, r.Result);
        Assert.Equal(2, _h.Calls().Count(c => c == "systemctl restart demo.service"));
    }

    [Fact]
    public async Task StartupAndShutdown_StartAndStopTheUnit()
    {
        Systemctl(0);
        _h.WriteBaseFile("script.options", "CTDB_SERVICE_UNIT=demo.service\n");

        Assert.Equal(0, (await _h.RunAsync("startup")).Result);
        Assert.Equal(0, (await _h.RunAsync("shutdown")).Result);

        Assert.Equal(["systemctl start demo.service", "systemctl stop demo.service"], _h.Calls());
    }
}
