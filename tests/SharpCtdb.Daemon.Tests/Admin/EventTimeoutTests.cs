using System.Text.RegularExpressions;
using SharpCtdb.Daemon.Tests.Cluster;

namespace SharpCtdb.Daemon.Tests.Admin;

/// <summary>
/// Hung event scripts, as 4.17 handles them (observed with Samba's ctdbd through cluster.sh, EventScriptTimeout=3):
/// a timed-out ipreallocated fails IPREALLOCATED, the takeover run fails ("IPREALLOCATED failed on node 2, ret=110"),
/// the node collects banning credits and the second failed run bans it; `ctdb ipreallocate` exits 1. (A timed-out
/// monitor counts towards MonitorTimeoutCount: MonitorHealthTrackerTests.) 4.17 has no
/// EventScriptUnhealthyOnTimeout any more (`ctdb getvar` says "No such tunable") and never bans itself for a timeout.
/// Debian's `ctdb` against three of our daemons on 127.0.160.0/24.
/// </summary>
public sealed class EventTimeoutTests(ITestOutputHelper output)
{
    private const string Net = "127.0.160";
    private static readonly int[] All = [0, 1, 2];

    [Fact]
    public async Task HungIpreallocatedFailsTheTakeoverRunAndBansTheNode()
    {
        await using var c = AdminKit.Create(3, Net);
        foreach (var pnn in All)
        {
            var b = c.NodeBase(pnn);
            File.WriteAllText(Path.Combine(b, "ctdb.tunables"), "EventScriptTimeout=2\n");
            AdminKit.WriteExecutable(Path.Combine(b, "events", "legacy", "50.hang.script"), $"""
                #!/bin/sh
                case "$1" in
                ipreallocated) [ -e "{b}/hang-$1" ] && exec sleep 60 ;;
                esac
                exit 0

                """);
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        c.StartAll();
        await c.WaitHealthyAsync(All, 3);
        output.WriteLine($"healthy after {sw.Elapsed.TotalSeconds:F2} s");
        var unknown = await c.CtdbAsync(0, "getvar", "EventScriptUnhealthyOnTimeout");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("No such tunable EventScriptUnhealthyOnTimeout", unknown.Stdout + unknown.Stderr);

        // --- ipreallocated hangs on node 1: the takeover run fails and node 1 is banned ---
        File.WriteAllText(Path.Combine(c.NodeBase(1), "hang-ipreallocated"), "");
        var r = await c.CtdbAsync(0, "ipreallocate");
        output.WriteLine($"ctdb ipreallocate: exit {r.ExitCode} after {r.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(1, r.ExitCode);
        var took = await TestCluster.WaitUntilAsync(() => AdminKit.AllSeeAsync(c, All, 1, "Banned", "Inactive"), "node 1 BANNED everywhere",
            TimeSpan.FromSeconds(60), c.DescribeAsync);
        output.WriteLine($"node 1 banned everywhere {took.TotalSeconds:F2} s after the tool returned");
        await AdminKit.WaitOwnersAsync(c, [0, 2], 6, o => !o.Contains(1), "addresses off the banned node");
        Assert.Contains("ipreallocated event timed out", AdminKit.Log(c, 1));
        Assert.DoesNotMatch(new Regex("banning ourself"), AdminKit.Log(c, 1));
        output.WriteLine($"done after {sw.Elapsed.TotalSeconds:F2} s");
    }
}
