using System.Net;
using SharpCtdb.Client;
using SharpCtdb.Daemon.Tests.Cluster;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Tests.Ip;

/// <summary>
/// Tickle lists (behaviour.md §6.9) with Debian's `ctdb addtickle/deltickle/gettickles`, TCP_CLIENT from a client,
/// replication (TickleUpdateInterval = 1 here) and at a restarted node's STARTUP, and the tickle ACKs after a move.
/// Client addresses are in 127.0.121.0/24 so that the ACKs never leave the host.
/// </summary>
[Collection("Net121")]
public sealed class TickleTests
{
    private const string Ip = "198.51.100.1";

    private static string Expected(params string[] rows) =>
        $"Connections for IP: {Ip}\nNum connections: {rows.Length}\n" + string.Concat(rows.Select(r => r + "\n"));

    private static async Task<string> TicklesAsync(TestCluster c, int pnn) => (await c.CtdbAsync(pnn, "gettickles", Ip)).Stdout;

    [Fact]
    public async Task TickleListsAreKeptReplicatedAndTickledOnMove()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var c = new TestCluster(3, IpTestSupport.Net);
        for (var pnn = 0; pnn < 3; pnn++)
            File.WriteAllText(Path.Combine(c.NodeBase(pnn), "ctdb.tunables"), "TickleUpdateInterval=1\n");
        c.StartAll();
        await c.WaitHealthyAsync([0, 1, 2], 3);
        var owner = (await IpTestSupport.OwnersAsync(c, 0))[Ip];
        var other = (owner + 1) % 3;
        var third = (owner + 2) % 3;

        // ---- addtickle (arguments and stdin), gettickles formats ----
        var add = await c.CtdbAsync(owner, "addtickle", "127.0.121.50:5000", $"{Ip}:445");
        Assert.True(add.ExitCode == 0, add.ToString());
        var stdinAdd = await IpTestSupport.CtdbAsync(c, owner, null, $"127.0.121.51:5001 {Ip}:2049\n127.0.121.52:5002 {Ip}:445\n", "addtickle");
        Assert.True(stdinAdd.ExitCode == 0, stdinAdd.ToString());
        var dupAdd = await c.CtdbAsync(owner, "addtickle", "127.0.121.50:5000", $"{Ip}:445");
        Assert.Equal(0, dupAdd.ExitCode);
        Assert.Equal(Expected("SRC: 127.0.121.50:5000   DST: 198.51.100.1:445", "SRC: 127.0.121.51:5001   DST: 198.51.100.1:2049",
            "SRC: 127.0.121.52:5002   DST: 198.51.100.1:445"), await TicklesAsync(c, owner));
        var x = await c.CtdbAsync(owner, "-X", "gettickles", Ip, "445");
        Assert.Equal("|Source IP|Port|Destiation IP|Port|\n|127.0.121.50|5000|198.51.100.1|445|\n|127.0.121.52|5002|198.51.100.1|445|\n", x.Stdout);

        var badAdd = await c.CtdbAsync(owner, "addtickle", "127.0.121.50:5000", "198.51.100.99:445");
        Assert.Equal(1, badAdd.ExitCode);
        Assert.Contains("Failed to register connection", badAdd.Stderr);
        var badGet = await c.CtdbAsync(owner, "gettickles", "198.51.100.99");
        Assert.Equal(1, badGet.ExitCode);
        Assert.Contains("Control GET_TCP_TICKLE_LIST failed, ret=1", badGet.Stderr);

        // ---- deltickle (also of an unknown address: success) ----
        var del = await c.CtdbAsync(owner, "deltickle", "127.0.121.50:5000", $"{Ip}:445");
        Assert.Equal(0, del.ExitCode);
        Assert.Equal(0, (await c.CtdbAsync(owner, "deltickle", "127.0.121.50:5000", "198.51.100.99:445")).ExitCode);
        var two = Expected("SRC: 127.0.121.52:5002   DST: 198.51.100.1:445", "SRC: 127.0.121.51:5001   DST: 198.51.100.1:2049");
        Assert.Equal(two, await TicklesAsync(c, owner));

        // ---- replicated to the other nodes by the owner (SET_TCP_TICKLE_LIST every TickleUpdateInterval) ----
        foreach (var n in new[] { other, third })
            await IpTestSupport.WaitAsync(c, async () => await TicklesAsync(c, n) == two, $"node {n} has the owner's list");

        // ---- a restarted node gets the lists at its STARTUP, without any new change ----
        c.Kill(third);
        c.StartNode(third);
        await c.WaitHealthyAsync([0, 1, 2], 3);
        await IpTestSupport.WaitAsync(c, async () => await TicklesAsync(c, third) == two, "restarted node has the list again");

        // ---- TCP_CLIENT from a client of the owner: every node learns it (TCP_ADD); the client's exit drops it ----
        var conn = new Connection(new SockAddr(IPAddress.Parse("127.0.121.60"), 6000), new SockAddr(IPAddress.Parse(Ip), 445));
        await using (var smbd = await CtdbClient.ConnectAsync(c.SocketPath(owner), ct))
        {
            var reply = await smbd.ControlAsync((uint)owner, ControlOpcode.TcpClient, conn.ToBytes(), TimeSpan.FromSeconds(10), ct: ct);
            Assert.Equal(0, reply.Status);
            foreach (var n in new[] { owner, other, third })
                await IpTestSupport.WaitAsync(c, async () => (await TicklesAsync(c, n)).Contains("SRC: 127.0.121.60:6000", StringComparison.Ordinal),
                    $"node {n} knows the TCP_CLIENT connection");
            await using var wrong = await CtdbClient.ConnectAsync(c.SocketPath(other), ct);
            var refused = await wrong.ControlAsync((uint)other, ControlOpcode.TcpClient, conn.ToBytes(), TimeSpan.FromSeconds(10), ct: ct);
            Assert.Equal(-1, refused.Status); // not hosted there
        }
        foreach (var n in new[] { owner, other })
            await IpTestSupport.WaitAsync(c, async () => await TicklesAsync(c, n) == two, $"node {n} forgot the client's connection");

        // ---- moveip: the new owner keeps the list and tickles every connection ----
        var move = await c.CtdbAsync(0, "moveip", Ip, other.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(move.ExitCode == 0, move.ToString());
        await IpTestSupport.WaitAsync(c, () => Task.FromResult(
            IpTestSupport.Log(c, other).Contains($"Sending 2 tickle ACKs for public IP {Ip} on interface lo", StringComparison.Ordinal)),
            "new owner sends tickle ACKs");
        Assert.Equal(two, await TicklesAsync(c, other));
        Assert.Equal(two, await TicklesAsync(c, owner));
    }
}
