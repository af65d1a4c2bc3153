namespace SharpCtdb.Events.Tests.Dist;

public sealed class NfsScriptTests : IDisposable
{
    private const string NlockmgrLine = "    100021    4   tcp  40001  nlockmgr";

    private readonly DistHarness _h = new();

    public NfsScriptTests()
    {
        _h.Install("60.nfs");
        // ctdb: "-X ip" prints $STUB_DIR/ip.out, "pnn" prints 1.
        _h.Stub("ctdb", """
            case "$1 $2" in
            "-X ip") cat "$STUB_DIR/ip.out" ;;
            "pnn ") echo 1 ;;
            esac
            exit 0
            """);
        _h.Stub("systemctl");
        _h.Stub("sm-notify");
        _h.ExtraEnv["CTDB_NFS_POLL_INTERVAL"] = "0.1";
        _h.ExtraEnv["CTDB_NFS_RESTART_HOLDOFF"] = "0";
    }

    public void Dispose() => _h.Dispose();

    private void IpMap(params (string Ip, int Pnn)[] map) =>
        _h.WriteStubData("ip.out", "|Public IP|Node|\n" + string.Concat(map.Select(m => $"|{m.Ip}|{m.Pnn}|\n")));

    /// <summary>rpcinfo that lists nlockmgr only from its <paramref name="showFrom"/>-th call on.</summary>
    private void RpcinfoShowingNlockmgrFromCall(int showFrom) =>
        _h.Stub("rpcinfo", $$"""
            n=$(cat "$STUB_DIR/rpcinfo.count" 2>/dev/null || echo 0)
            n=$((n + 1)); echo "$n" >"$STUB_DIR/rpcinfo.count"
            echo "   program vers proto   port  service"
            echo "    100000    4   tcp    111  portmapper"
            [ "$n" -ge {{showFrom}} ] && echo "{{NlockmgrLine}}"
            exit 0
            """);

    [Fact]
    public async Task IpReallocated_AddressMoved_RestartsLockdWaitsForNlockmgrThenNotifiesLocalAddresses()
    {
        IpMap(("10.0.0.5", 0), ("10.0.0.6", 1), ("10.0.0.7", 1));
        RpcinfoShowingNlockmgrFromCall(1);
        Assert.Equal(0, (await _h.RunAsync("ipreallocated")).Result);
        File.WriteAllText(_h.CallLog, "");
        File.Delete(Path.Combine(_h.StubDir, "rpcinfo.count"));
        RpcinfoShowingNlockmgrFromCall(3);

        // 10.0.0.5 moves from node 0 to node 1 (this node).
        IpMap(("10.0.0.5", 1), ("10.0.0.6", 1), ("10.0.0.7", 1));
        var r = await _h.RunAsync("ipreallocated");

        Assert.Equal(0, r.Result);
        var calls = _h.Calls().Where(c => !c.StartsWith("ctdb", StringComparison.Ordinal)).ToArray();
        Assert.Equal(
        [
            "systemctl restart nfs-server rpc-statd",
            "rpcinfo -p", "rpcinfo -p", "rpcinfo -p",
            "sm-notify -f -v 10.0.0.5", "sm-notify -f -v 10.0.0.6", "sm-notify -f -v 10.0.0.7",
        ], calls);
    }

    [Fact]
    public async Task IpReallocated_MoveBetweenOtherNodes_StillRestartsLocally()
    {
        IpMap(("10.0.0.5", 0), ("10.0.0.6", 1));
        RpcinfoShowingNlockmgrFromCall(1);
        await _h.RunAsync("ipreallocated");
        File.WriteAllText(_h.CallLog, "");

        IpMap(("10.0.0.5", 2), ("10.0.0.6", 1));
        var r = await _h.RunAsync("ipreallocated");

        Assert.Equal(0, r.Result);
        var calls = _h.Calls();
        Assert.Contains("systemctl restart nfs-server rpc-statd", calls);
        Assert.Equal(["sm-notify -f -v 10.0.0.6"], calls.Where(c => c.StartsWith("sm-notify", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task IpReallocated_NoChange_DoesNotRestart()
    {
        IpMap(("10.0.0.5", 1));
        RpcinfoShowingNlockmgrFromCall(1);
        await _h.RunAsync("ipreallocated");
        File.WriteAllText(_h.CallLog, "");

        var r = await _h.RunAsync("ipreallocated");

        Assert.Equal(0, r.Result);
        var calls = _h.Calls();
        Assert.DoesNotContain(calls, c => c.StartsWith("systemctl", StringComparison.Ordinal));
        Assert.DoesNotContain(calls, c => c.StartsWith("sm-notify", StringComparison.Ordinal));
    }

    [Fact]
    public async Task IpReallocated_WithinHoldoff_DoesNotRestartAgain()
    {
        _h.ExtraEnv["CTDB_NFS_RESTART_HOLDOFF"] = "3600";
        RpcinfoShowingNlockmgrFromCall(1);
        IpMap(("10.0.0.5", 0));
        await _h.RunAsync("ipreallocated");
        IpMap(("10.0.0.5", 1));

        var r = await _h.RunAsync("ipreallocated");

        Assert.Equal(0, r.Result);
        Assert.Single(_h.Calls(), c => c.StartsWith("systemctl restart", StringComparison.Ordinal));
        Assert.Contains("sm-notify -f -v 10.0.0.5", _h.Calls());
    }

    [Fact]
    public async Task IpReallocated_NlockmgrNeverRegisters_FailsWithoutNotifying()
    {
        _h.ExtraEnv["CTDB_NFS_LOCKD_WAIT"] = "1";
        RpcinfoShowingNlockmgrFromCall(int.MaxValue);
        IpMap(("10.0.0.5", 1));

        var r = await _h.RunAsync("ipreallocated");

        Assert.NotEqual(0, r.Result);
        Assert.Contains("nlockmgr not registered", r.Output);
        Assert.DoesNotContain(_h.Calls(), c => c.StartsWith("sm-notify", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Monitor_MissingService_RestartsOnceThenFails()
    {
        _h.Stub("rpcinfo", """
            echo "    100003    3   tcp   2049  nfs"
            echo "    100005    3   tcp  20048  mountd"
            echo "{{NlockmgrLine}}"
            """.Replace("{{NlockmgrLine}}", NlockmgrLine, StringComparison.Ordinal));

        var r = await _h.RunAsync("monitor");

        Assert.NotEqual(0, r.Result);
        Assert.Contains("status is not registered", r.Output);
        Assert.Single(_h.Calls(), c => c == "systemctl restart rpc-statd");
    }

    [Fact]
    public async Task Monitor_AllRegistered_Passes()
    {
        _h.Stub("rpcinfo", """
            echo "    100003    3   tcp   2049  nfs"
            echo "    100005    3   tcp  20048  mountd"
            echo "    100024    1   tcp  40000  status"
            echo "{{NlockmgrLine}}"
            """.Replace("{{NlockmgrLine}}", NlockmgrLine, StringComparison.Ordinal));

        var r = await _h.RunAsync("monitor");

        Assert.Equal(0, r.Result);
        Assert.DoesNotContain(_h.Calls(), c => c.StartsWith("systemctl", StringComparison.Ordinal));
    }
}
