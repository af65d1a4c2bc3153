using System.Runtime.InteropServices;
using SharpCtdb.Daemon.Tests.Admin;

namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>Leader election around a hung node, in a real cluster on 127.0.190.0/24.</summary>
public sealed partial class ElectionTests(ITestOutputHelper output)
{
    private const int Sigcont = 18;
    private const int Sigstop = 19;

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int sig);

    /// <summary>
    /// A node SIGSTOPped past keepalive detection and its leader timeout resumes with that timer's fire queued
    /// behind the leader's buffered broadcasts. It used to lose track of the re-armed timer and force an election
    /// (cluster-wide recovery) every few seconds forever; now it settles with the existing leader. Whether the fire
    /// lands in that race is up to the scheduler, so <see cref="Unit.LoopTimerTests"/> pins the mechanism itself.
    /// </summary>
    [Fact]
    public async Task ResumedNodeStopsForcingElections()
    {
        await using var c = new TestCluster(3, "127.0.190");
        for (var pnn = 0; pnn < 3; pnn++)
            File.WriteAllText(Path.Combine(c.NodeBase(pnn), "ctdb.tunables"), "KeepaliveInterval=1\nKeepaliveLimit=2\n");
        c.StartAll();
        await c.WaitHealthyAsync([0, 1, 2], 3);
        var leader = await AdminKit.AgreedLeaderAsync(c, [0, 1, 2]);
        var victim = (leader + 1) % 3;
        var pid = c.Pid(victim) ?? throw new InvalidOperationException("victim not running");

        // Longer than keepalive detection (~3 s) and the 5-s leader timeout, so both fall due while stopped.
        Assert.Equal(0, Kill(pid, Sigstop));
        try
        {
            await TestCluster.WaitUntilAsync(
                () => Task.FromResult(AdminKit.Log(c, leader).Contains($"Node {victim} disconnected", StringComparison.Ordinal)),
                $"leader {leader} declares node {victim} dead");
            await Task.Delay(TimeSpan.FromSeconds(4));
        }
        finally
        {
            Kill(pid, Sigcont);
        }
        await c.WaitHealthyAsync([0, 1, 2], 3);
        // The resumed node's overdue timer may force one election; after that the cluster must stay quiet.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var marks = Enumerable.Range(0, 3).Select(p => AdminKit.Log(c, p).Length).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(11));
        for (var pnn = 0; pnn < 3; pnn++)
        {
            var later = AdminKit.Log(c, pnn)[marks[pnn]..];
            output.WriteLine($"node {pnn} after settling:\n{later}");
            Assert.DoesNotContain("Leader broadcast timeout", later, StringComparison.Ordinal);
            Assert.DoesNotContain("forcing election", later, StringComparison.Ordinal);
            var status = await c.CtdbAsync(pnn, "status");
            Assert.Contains("Recovery mode:NORMAL", status.Stdout, StringComparison.Ordinal);
        }
    }
}
