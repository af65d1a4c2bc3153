namespace SharpCtdb.Events.Tests.Dist;

public sealed class InterfaceScriptTests : IDisposable
{
    private readonly DistHarness _h = new();

    public InterfaceScriptTests()
    {
        _h.Install("10.interface");
        // ip: "-o addr show dev IF" prints $STUB_DIR/addr.IF; "-o link show IF" prints $STUB_DIR/link.IF.
        _h.Stub("ip", """
            case "$1 $2 $3" in
            "-o addr show") cat "$STUB_DIR/addr.$5" 2>/dev/null; exit 0 ;;
            "-o link show") cat "$STUB_DIR/link.$4" 2>/dev/null || exit 1; exit 0 ;;
            esac
            exit 0
            """);
        _h.Stub("arping");
        _h.Stub("ctdb");
        _h.Stub("ss");
        _h.WriteBaseFile("public_addresses", "10.0.0.5/24 eth1\n10.0.0.6/24 eth2\n");
    }

    public void Dispose() => _h.Dispose();

    private void AddressOn(string iface, string cidr) =>
        _h.WriteStubData("addr." + iface, $"3: {iface}    inet {cidr} scope global {iface}\n");

    private void Link(string iface, bool up) =>
        _h.WriteStubData("link." + iface, up
            ? $"3: {iface}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP mode DEFAULT\n"
            : $"3: {iface}: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state DOWN mode DEFAULT\n");

    [Fact]
    public async Task TakeIp_AddsAddressAndLeavesTheAnnouncementToCtdbd()
    {
        var r = await _h.RunAsync("takeip", "eth1", "10.0.0.5", "24");

        Assert.Equal(0, r.Result);
        var calls = _h.Calls().ToList();
        Assert.Contains("ip addr add 10.0.0.5/24 dev eth1", calls);
        // ctdbd announces after takeip; an arping in the script delayed every take by its probe waits.
        Assert.DoesNotContain(calls, c => c.StartsWith("arping", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TakeIp_AddressAlreadyPresent_SucceedsWithoutAdding()
    {
        AddressOn("eth1", "10.0.0.5/24");

        var r = await _h.RunAsync("takeip", "eth1", "10.0.0.5", "24");

        Assert.Equal(0, r.Result);
        var calls = _h.Calls();
        Assert.DoesNotContain(calls, c => c.StartsWith("ip addr add", StringComparison.Ordinal));
        Assert.Contains("10.0.0.5 already on eth1", r.Output);
    }

    [Fact]
    public async Task TakeIp_AddFailsAndAddressAbsent_Fails()
    {
        _h.Stub("ip", """[ "$1 $2" = "addr add" ] && exit 2; exit 0""");

        var r = await _h.RunAsync("takeip", "eth1", "10.0.0.5", "24");

        Assert.NotEqual(0, r.Result);
        Assert.Contains("failed to add 10.0.0.5/24 to eth1", r.Output);
    }

    [Fact]
    public async Task ReleaseIp_AbsentAddress_Succeeds()
    {
        var r = await _h.RunAsync("releaseip", "eth1", "10.0.0.5", "24");

        Assert.Equal(0, r.Result);
        Assert.DoesNotContain(_h.Calls(), c => c.StartsWith("ip addr del", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReleaseIp_PresentAddress_KillsConnectionsAndDeletes()
    {
        AddressOn("eth1", "10.0.0.5/24");

        var r = await _h.RunAsync("releaseip", "eth1", "10.0.0.5", "24");

        Assert.Equal(0, r.Result);
        var calls = _h.Calls().ToList();
        var kill = calls.IndexOf("ss -K src 10.0.0.5");
        var del = calls.IndexOf("ip addr del 10.0.0.5/24 dev eth1");
        Assert.True(kill >= 0 && del > kill, string.Join('\n', calls));
    }

    [Fact]
    public async Task ReleaseIp_KeepsTheOtherAddressesOfTheSubnet()
    {
        // The kernel deletes a subnet's secondary addresses with its primary unless promote_secondaries is set.
        AddressOn("eth1", "10.0.0.5/24");
        var flag = Path.Combine(_h.Root, "proc", "sys", "net", "ipv4", "conf", "eth1", "promote_secondaries");
        Directory.CreateDirectory(Path.GetDirectoryName(flag)!);
        File.WriteAllText(flag, "0\n");
        // The flag must already be set when the address is deleted: the stub records it at that moment.
        _h.Stub("ip", $$"""
            case "$1 $2 $3" in
            "-o addr show") cat "$STUB_DIR/addr.$5" 2>/dev/null; exit 0 ;;
            "addr del 10.0.0.5/24") echo "promote_secondaries=$(cat '{{flag}}')" >>"$STUB_LOG" ;;
            esac
            exit 0
            """);

        var r = await _h.RunAsync("releaseip", "eth1", "10.0.0.5", "24");

        Assert.Equal(0, r.Result);
        var calls = _h.Calls().ToList();
        var del = calls.IndexOf("ip addr del 10.0.0.5/24 dev eth1");
        Assert.True(del >= 0, string.Join('\n', calls));
        Assert.Equal("promote_secondaries=1", calls[del + 1]);
    }

    [Fact]
    public async Task UpdateIp_MovesAddressBetweenInterfaces()
    {
        AddressOn("eth1", "10.0.0.5/24");

        var r = await _h.RunAsync("updateip", "eth1", "eth2", "10.0.0.5", "24");

        Assert.Equal(0, r.Result);
        var calls = _h.Calls().ToList();
        var del = calls.IndexOf("ip addr del 10.0.0.5/24 dev eth1");
        var add = calls.IndexOf("ip addr add 10.0.0.5/24 dev eth2");
        Assert.True(del >= 0 && add > del, string.Join('\n', calls));
    }

    [Fact]
    public async Task Monitor_LinkDown_ReportsToDaemonAndFails()
    {
        Link("eth1", up: false);
        Link("eth2", up: true);

        var r = await _h.RunAsync("monitor");

        Assert.NotEqual(0, r.Result);
        Assert.Contains("eth1", r.Output);
        var calls = _h.Calls();
        Assert.Contains("ctdb setifacelink eth1 down", calls);
        Assert.Contains("ctdb setifacelink eth2 up", calls);
    }

    [Fact]
    public async Task Monitor_PartiallyOnlineAllowed_PassesWhenAnotherIsUp()
    {
        Link("eth1", up: false);
        Link("eth2", up: true);
        _h.WriteBaseFile("script.options", "CTDB_PARTIALLY_ONLINE_INTERFACES=yes\n");

        var r = await _h.RunAsync("monitor");

        Assert.Equal(0, r.Result);
        Assert.Contains("ctdb setifacelink eth1 down", _h.Calls());
    }

    [Fact]
    public async Task Monitor_PartiallyOnlineAllowed_FailsWhenAllAreDown()
    {
        Link("eth1", up: false);
        Link("eth2", up: false);
        _h.WriteBaseFile("events/legacy/10.interface.options", "CTDB_PARTIALLY_ONLINE_INTERFACES=yes\n");

        var r = await _h.RunAsync("monitor");

        Assert.NotEqual(0, r.Result);
    }

    [Fact]
    public async Task Monitor_AllUp_Passes()
    {
        Link("eth1", up: true);
        Link("eth2", up: true);

        var r = await _h.RunAsync("monitor");

        Assert.Equal(0, r.Result);
        Assert.Contains("ctdb setifacelink eth1 up", _h.Calls());
    }

    [Fact]
    public async Task Shutdown_DropsOnlyPresentPublicAddresses()
    {
        AddressOn("eth2", "10.0.0.6/24");

        var r = await _h.RunAsync("shutdown");

        Assert.Equal(0, r.Result);
        var calls = _h.Calls();
        Assert.Contains("ip addr del 10.0.0.6/24 dev eth2", calls);
        Assert.DoesNotContain(calls, c => c.StartsWith("ip addr del 10.0.0.5", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TakeIp_NoInterface_SucceedsWithoutTouchingInterfaces()
    {
        var r = await _h.RunAsync("takeip", "__none__", "10.0.0.5", "24");

        Assert.Equal(0, r.Result);
        Assert.DoesNotContain(_h.Calls(), c => c.StartsWith("ip addr", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownEvent_SucceedsWithoutSideEffects()
    {
        var r = await _h.RunAsync("startrecovery");

        Assert.Equal(0, r.Result);
        Assert.Empty(_h.Calls());
    }
}
