namespace SharpCtdb.IpWatchdog.Tests;

public sealed class LeaseWatchTests
{
    [Fact]
    public void Addresses_are_held_while_the_lease_runs_and_all_dropped_when_it_lapses()
    {
        var w = new LeaseWatch();
        Assert.Empty(w.Handle("lease 1000", 0));
        Assert.Empty(w.Handle("add eth0 198.51.100.101 24", 10));
        Assert.Empty(w.Handle("add eth0 198.51.100.102 24", 10));
        Assert.Equal(990, w.TicksUntilDeadline(10));
        Assert.Empty(w.Check(999));
        var dropped = w.Check(1000);
        Assert.Equal(["198.51.100.101", "198.51.100.102"], dropped.Select(a => a.Address).Order());
        Assert.False(w.Armed);
        Assert.Empty(w.Held);
    }

    [Fact]
    public void Renewal_moves_the_deadline_and_del_forgets()
    {
        var w = new LeaseWatch();
        w.Handle("lease 1000", 0);
        w.Handle("add eth0 198.51.100.101 24", 0);
        w.Handle("add eth1 2001:db8::1 64", 0);
        w.Handle("lease 2000", 900);
        Assert.Empty(w.Check(1500));
        w.Handle("del 198.51.100.101", 1600);
        var dropped = Assert.Single(w.Check(2000));
        Assert.Equal(new HeldAddress("eth1", "2001:db8::1", "64"), dropped);
    }

    [Fact]
    public void An_address_added_without_a_valid_lease_is_dropped_at_once()
    {
        var w = new LeaseWatch();
        Assert.Equal("198.51.100.101", Assert.Single(w.Handle("add eth0 198.51.100.101 24", 0)).Address);
        w.Handle("lease 100", 0);
        Assert.Single(w.Handle("add eth0 198.51.100.102 24", 100)); // deadline reached
        Assert.Empty(w.Held);
    }

    [Fact]
    public void Lease_zero_lapses_now_and_a_new_lease_rearms()
    {
        var w = new LeaseWatch();
        w.Handle("lease 1000", 0);
        w.Handle("add eth0 198.51.100.101 24", 0);
        Assert.Single(w.Handle("lease 0", 5));
        Assert.False(w.Armed);
        w.Handle("lease 3000", 6);
        Assert.True(w.Armed);
        Assert.Empty(w.Handle("add eth0 198.51.100.101 24", 7));
        Assert.Single(w.Held);
    }

    [Fact]
    public void Drop_gives_up_everything_held_while_the_lease_still_runs_and_refuses_later_adds()
    {
        var w = new LeaseWatch();
        w.Handle("lease 1000", 0);
        w.Handle("add eth0 198.51.100.101 24", 0);
        w.Handle("add eth0 198.51.100.102 24", 0);
        var dropped = w.Handle("drop", 10);
        Assert.Equal(["198.51.100.101", "198.51.100.102"], dropped.Select(a => a.Address).Order());
        Assert.Empty(w.Held);
        Assert.Single(w.Handle("add eth0 198.51.100.103 24", 11)); // shutting down: nothing may be held any more
    }

    [Theory]
    [InlineData("drop now")]
    [InlineData("add eth0 1.2.3.4")]
    [InlineData("lease -5")]
    [InlineData("lease x")]
    [InlineData("frobnicate")]
    public void Bad_commands_are_rejected(string line) =>
        Assert.Throws<FormatException>(() => new LeaseWatch().Handle(line, 0));

    [Fact]
    public void Nothing_held_means_no_deadline_to_wait_for()
    {
        var w = new LeaseWatch();
        w.Handle("lease 1000", 0);
        Assert.Null(w.TicksUntilDeadline(0));
    }
}
