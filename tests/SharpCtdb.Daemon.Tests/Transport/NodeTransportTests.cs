using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using SharpCtdb.Daemon.Transport;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Tests.Transport;

public sealed class NodeTransportTests
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TwoNodes_Connect_AndEachSideRaisesPeerConnectedOnce()
    {
        await using var c = new TransportCluster("127.0.91.10", "127.0.91.11");
        await c.StartAllAsync();
        await c.WaitAllConnectedAsync();
        await Wait.UntilAsync(() => c.Events[0].ConnectedCount(1) == 1 && c.Events[1].ConnectedCount(0) == 1, "PeerConnected on both sides");

        Assert.Equal([1u], c[0].ConnectedPeers);
        Assert.Equal([0u], c[1].ConnectedPeers);
        Assert.True(c[0].IsConnected(1));
        Assert.False(c[0].IsConnected(0));
        Assert.False(c[0].IsConnected(7));
        Assert.Empty(c.Events[0].Disconnected);
        Assert.Empty(c.Events[1].Disconnected);
    }

    [Fact]
    public async Task ThreeNodes_AllConnect_AndKeepalivesFlow()
    {
        await using var c = new TransportCluster("127.0.91.20", "127.0.91.21", "127.0.91.22");
        await c.StartAllAsync();
        await c.WaitAllConnectedAsync();
        for (var i = 0; i < 3; i++)
        {
            var me = (uint)i;
            await Wait.UntilAsync(() => c.Events[i].Connected.Count == 2, $"node {i} PeerConnected x2");
            Assert.Equal(Enumerable.Range(0, 3).Select(x => (uint)x).Where(x => x != me).Order(), c.Events[i].Connected.Select(e => e.Pnn).Order());
        }

        // Keepalives are sent every interval and carry our version, uptime and generation.
        await Wait.UntilAsync(() => c.Events[0].Keepalives.Any(k => k.Pnn == 1) && c.Events[0].Keepalives.Any(k => k.Pnn == 2), "keepalives at node 0");
        var (from, ka) = c.Events[0].Keepalives.First(k => k.Pnn == 1);
        Assert.Equal(1u, from);
        Assert.False(ka.Bare);
        Assert.Equal(0x00040011u, ka.Version);
        Assert.Equal(42u, ka.Uptime);
        Assert.Equal(0x1234u, ka.Header.Generation);
        Assert.Equal(1u, ka.Header.SrcNode);
        Assert.Equal(0u, ka.Header.DestNode);
        Assert.Equal(0u, ka.Header.ReqId);
        Assert.Empty(c.Events[0].Packets); // keepalives are not reported as packets
    }

    [Fact]
    public async Task ManyPackets_FlowBothWays_InOrder()
    {
        await using var c = new TransportCluster("127.0.91.30", "127.0.91.31");
        await c.StartAllAsync();
        await c.WaitAllConnectedAsync();

        const int count = 20000;
        var sw = Stopwatch.StartNew();
        var sendA = Task.Run(() =>
        {
            for (var i = 0; i < count; i++)
                Assert.True(c[0].Send(1, Packets.Message(1, 0, (ulong)i, new byte[i % 300])));
        });
        var sendB = Task.Run(() =>
        {
            for (var i = 0; i < count; i++)
                Assert.True(c[1].Send(0, Packets.Message(0, 1, (ulong)i, new byte[(i * 7) % 500])));
        });
        await Task.WhenAll(sendA, sendB);
        await Wait.UntilAsync(() => c.Events[1].Packets.Count == count && c.Events[0].Packets.Count == count, "all packets delivered");
        TestLog.Line($"MEASURED: {2 * count} small packets (both ways at once) delivered in {sw.ElapsedMilliseconds} ms");

        var atB = c.Events[1].Packets.ToArray();
        var atA = c.Events[0].Packets.ToArray();
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(0u, atB[i].Pnn);
            var m = Packets.Decode(atB[i].Packet);
            Assert.Equal((ulong)i, m.Srvid);
            Assert.Equal(i % 300, m.Data.Length);
            Assert.Equal(1u, atA[i].Pnn);
            Assert.Equal((ulong)i, Packets.Decode(atA[i].Packet).Srvid);
        }
        Assert.Empty(c.Events[0].Disconnected);
    }

    [Fact]
    public async Task LargePackets_ArriveIntact_AndUnpaddedPacketsArePadded()
    {
        await using var c = new TransportCluster("127.0.91.35", "127.0.91.36");
        await c.StartAllAsync();
        await c.WaitAllConnectedAsync();

        var payloads = Enumerable.Range(0, 4).Select(i =>
        {
            var b = new byte[4 * 1024 * 1024 + i * 13];
            new Random(i).NextBytes(b);
            return b;
        }).ToArray();
        var encoded = payloads.Select((p, i) => Packets.Message(1, 0, (ulong)i, p)).ToArray();
        var sw = Stopwatch.StartNew();
        foreach (var packet in encoded)
            Assert.True(c[0].Send(1, packet));
        // smbd-style unpadded packet (length 32 + 12 + 3 = 47): must go out padded to 48.
        var unpadded = Packets.Message(1, 0, 99, [1, 2, 3]).AsSpan(0, 47).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(unpadded, 47);
        Assert.True(c[0].Send(1, unpadded));

        await Wait.UntilAsync(() => c.Events[1].Packets.Count == payloads.Length + 1, "large packets delivered");
        TestLog.Line($"MEASURED: {payloads.Length} x 4 MB packets delivered in {sw.ElapsedMilliseconds} ms");
        var got = c.Events[1].Packets.ToArray();
        for (var i = 0; i < payloads.Length; i++)
        {
            var m = Packets.Decode(got[i].Packet);
            Assert.Equal((ulong)i, m.Srvid);
            Assert.True(payloads[i].AsSpan().SequenceEqual(m.Data), $"payload {i} differs");
        }
        Assert.Equal(48, got[^1].Packet.Length);
        Assert.Equal(48u, BinaryPrimitives.ReadUInt32LittleEndian(got[^1].Packet));
        Assert.Equal([1, 2, 3], Packets.Decode(got[^1].Packet).Data);
        Assert.Empty(c.Events[1].Disconnected);
    }

    [Fact]
    public async Task StoppedNode_IsDisconnectedAtOnce_AndReconnectsAfterRestart()
    {
        await using var c = new TransportCluster("127.0.91.40", "127.0.91.41", "127.0.91.42");
        await c.StartAllAsync();
        await c.WaitAllConnectedAsync();

        var stopAt = c.Events[0].Now;
        await c.StopAsync(2);
        await Wait.UntilAsync(() => c.Events[0].DisconnectedCount(2) == 1 && c.Events[1].DisconnectedCount(2) == 1, "node 2 reported dead", Prompt);
        var latency0 = c.Events[0].Disconnected.Single().At - stopAt;
        var latency1 = c.Events[1].Disconnected.Single().At - stopAt;
        TestLog.Line($"MEASURED: EOF disconnect detection latency: node0 {latency0.TotalMilliseconds:0.0} ms, node1 {latency1.TotalMilliseconds:0.0} ms");
        Assert.Equal("connection closed", c.Events[0].Disconnected.Single().Reason);
        Assert.False(c[0].IsConnected(2));
        Assert.True(c[0].IsConnected(1)); // others unaffected
        Assert.Equal(0, c.Events[0].DisconnectedCount(1));
        Assert.False(c[0].Send(2, Packets.Message(2, 0, 1, [])));

        var restartAt = c.Events[0].Now;
        await c.StartAsync(2);
        await c.WaitAllConnectedAsync();
        await Wait.UntilAsync(() => c.Events[0].ConnectedCount(2) == 2 && c.Events[1].ConnectedCount(2) == 2 && c.Events[2].Connected.Count == 4,
            "node 2 connected again on every side");
        TestLog.Line($"MEASURED: reconnect after restart: {(c.Events[0].Connected.Last(e => e.Pnn == 2).At - restartAt).TotalMilliseconds:0} ms");
        Assert.Equal(["C2", "D2:connection closed", "C2"], c.Events[0].Sequence.Where(e => e[1] == '2').ToArray());
        Assert.True(c[2].Send(0, Packets.Message(0, 2, 5, [9])));
        await Wait.UntilAsync(() => c.Events[0].Packets.Any(p => p.Pnn == 2), "packet from restarted node");
    }

    [Fact]
    public async Task SilentRawPeer_IsDeclaredDead_AfterIntervalTimesLimit()
    {
        await using var c = new TransportCluster("127.0.91.50", "127.0.91.51");
        c.KeepaliveInterval = 1;
        c.KeepaliveLimit = 2;
        await using var raw = new RawPeer("127.0.91.51");
        await c.StartAsync(0);
        using var toUs = await raw.ConnectAsync(c.Nodes[0].Address);
        // The Connected event is raised after IsConnected turns true: wait for the event, whose time is measured from.
        await Wait.UntilAsync(() => c.Events[0].ConnectedCount(1) == 1, "raw peer connected");
        var connectedAt = c.Events[0].Connected.Single().At;

        // The peer never sends anything: dead after 2 silent ticks of 1 s (1-2 s after connecting, by tick phase).
        await Wait.UntilAsync(() => c.Events[0].DisconnectedCount(1) == 1, "silent peer declared dead", Prompt);
        var (_, reason, at) = c.Events[0].Disconnected.Single();
        var latency = at - connectedAt;
        TestLog.Line($"MEASURED: silent-peer detection (interval 1 s, limit 2): {latency.TotalMilliseconds:0} ms after it connected");
        Assert.Equal("keepalive limit reached", reason);
        Assert.InRange(latency, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(6));
        // Our keepalive went out while the peer was considered alive, and both sockets were closed afterwards.
        Assert.Contains(raw.Received, p => (Operation)BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(16)) == Operation.ReqKeepalive);
        Assert.True(await Packets.SeesEofAsync(toUs, Prompt), "incoming socket from the silent peer closed");
        await Wait.UntilAsync(() => raw.AcceptedClosed >= 1, "outgoing socket to the silent peer closed");
        // ... and reconnection starts at once.
        await Wait.UntilAsync(() => raw.Accepted.Count >= 2, "transport reconnects");
    }

    [Fact]
    public async Task FrozenNode_KeepalivesStop_PeerDeclaresItDead_ThenBothRecover()
    {
        await using var c = new TransportCluster("127.0.91.55", "127.0.91.56");
        c.KeepaliveInterval = 1;
        c.KeepaliveLimit = 2;
        await c.StartAllAsync();
        await c.WaitAllConnectedAsync();

        // Like SIGSTOP: TCP stays up, nothing is sent. Only the keepalive logic can notice.
        var pausedAt = c.Events[1].Now;
        c[0].KeepalivesPaused = true;
        await Wait.UntilAsync(() => c.Events[1].DisconnectedCount(0) == 1, "frozen node declared dead", Prompt);
        var (_, reason, at) = c.Events[1].Disconnected.First();
        TestLog.Line($"MEASURED: frozen-peer detection (interval 1 s, limit 2): {(at - pausedAt).TotalMilliseconds:0} ms after it went silent");
        Assert.Equal("keepalive limit reached", reason);
        // Two silent ticks after the last keepalive, which was sent up to one interval before the pause.
        Assert.True(at - pausedAt < TimeSpan.FromSeconds(8), "detected within a few intervals");
        // The frozen node sees its sockets closed (EOF path) as soon as it looks.
        await Wait.UntilAsync(() => c.Events[0].DisconnectedCount(1) >= 1, "frozen node sees EOF", Prompt);

        c[0].KeepalivesPaused = false;
        await Wait.UntilAsync(() => c[0].IsConnected(1) && c[1].IsConnected(0), "connected again after thaw");
    }

    [Fact]
    public async Task ConnectionFromUnknownAddress_IsClosed()
    {
        await using var c = new TransportCluster("127.0.91.60", "127.0.91.61");
        await c.StartAsync(0);
        await using var stranger = new RawPeer("127.0.91.69");
        using var s = await stranger.ConnectAsync(c.Nodes[0].Address);
        Assert.True(await Packets.SeesEofAsync(s, Prompt), "connection from a non-node address closed");
        Assert.Empty(c[0].ConnectedPeers);

        // A deleted node's address is not accepted either.
        var nodes = new List<TransportNode> { c.Nodes[0], c.Nodes[1] with { Deleted = true } };
        await using var t = new NodeTransport(new NodeTransportOptions
        {
            OwnPnn = 0,
            OwnAddress = IPAddress.Parse("127.0.91.62"),
            Nodes = [nodes[0] with { Address = IPAddress.Parse("127.0.91.62") }, nodes[1]],
            KeepaliveIntervalSeconds = () => 1,
            KeepaliveLimit = () => 5,
            UptimeSeconds = () => 1,
        }, TestLog.For("deleted"));
        await t.StartAsync(TestContext.Current.CancellationToken);
        await using var deleted = new RawPeer("127.0.91.61");
        using var s2 = await deleted.ConnectAsync(IPAddress.Parse("127.0.91.62"));
        Assert.True(await Packets.SeesEofAsync(s2, Prompt), "connection from a deleted node closed");
        Assert.Empty(deleted.Accepted); // and nobody connects to a deleted node
    }

    [Fact]
    public async Task GarbageFromPeer_MarksOnlyThatPeerDead()
    {
        await using var c = new TransportCluster("127.0.91.70", "127.0.91.71", "127.0.91.72");
        await using var raw = new RawPeer("127.0.91.72");
        await c.StartAsync(0);
        await c.StartAsync(1);
        using var toUs = await raw.ConnectAsync(c.Nodes[0].Address);
        await Wait.UntilAsync(() => c[0].IsConnected(1) && c[0].IsConnected(2), "node 0 connected to 1 and the raw peer");

        var garbage = new byte[64];
        garbage.AsSpan().Fill(0xAB);
        BinaryPrimitives.WriteUInt32LittleEndian(garbage, 64);
        await toUs.SendAsync(garbage, System.Net.Sockets.SocketFlags.None, TestContext.Current.CancellationToken);

        await Wait.UntilAsync(() => c.Events[0].DisconnectedCount(2) == 1, "garbage sender declared dead", Prompt);
        Assert.StartsWith("bad packet: bad magic", c.Events[0].Disconnected.Single().Reason, StringComparison.Ordinal);
        Assert.True(await Packets.SeesEofAsync(toUs, Prompt));
        Assert.True(c[0].IsConnected(1));
        Assert.Equal(0, c.Events[0].DisconnectedCount(1));
        Assert.True(c[0].Send(1, Packets.Message(1, 0, 1, [1])));
        await Wait.UntilAsync(() => c.Events[1].Packets.Any(p => p.Pnn == 0), "node 1 still receives");
    }

    [Theory]
    [InlineData("unaligned")]
    [InlineData("version")]
    [InlineData("truncated")]
    public async Task MalformedPacket_MarksPeerDead(string kind)
    {
        var octet = kind switch { "unaligned" => 75, "version" => 77, _ => 79 };
        await using var c = new TransportCluster($"127.0.91.{octet}", $"127.0.91.{octet + 1}");
        await using var raw = new RawPeer($"127.0.91.{octet + 1}");
        using var toUs = await StartNode0WithRawPeerAsync(c, raw);

        var p = Packets.Message(0, 1, 1, new byte[20]); // 64 bytes, valid
        switch (kind)
        {
            case "unaligned":
                p = p.AsSpan(0, 60).ToArray();
                BinaryPrimitives.WriteUInt32LittleEndian(p, 60);
                break;
            case "version":
                BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(8), 2);
                break;
            default:
                p = p.AsSpan(0, 40).ToArray(); // header says 64, then EOF
                break;
        }
        await toUs.SendAsync(p, System.Net.Sockets.SocketFlags.None, TestContext.Current.CancellationToken);
        if (kind == "truncated")
            toUs.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        await Wait.UntilAsync(() => c.Events[0].DisconnectedCount(1) == 1, "peer declared dead", Prompt);
        Assert.StartsWith("bad packet:", c.Events[0].Disconnected.Single().Reason, StringComparison.Ordinal);
        Assert.Empty(c.Events[0].Packets);
    }

    [Fact]
    public async Task DataOnOutgoingConnection_MeansPeerIsDead()
    {
        await using var c = new TransportCluster("127.0.92.30", "127.0.92.31");
        await using var raw = new RawPeer("127.0.92.31");
        using var toUs = await StartNode0WithRawPeerAsync(c, raw);
        Assert.True(raw.Accepted.TryPeek(out var ourOutgoing));
        await ourOutgoing.SendAsync(new byte[] { 1 }, System.Net.Sockets.SocketFlags.None, TestContext.Current.CancellationToken);
        await Wait.UntilAsync(() => c.Events[0].DisconnectedCount(1) == 1, "peer declared dead", Prompt);
        Assert.Equal("unexpected data on the outgoing connection", c.Events[0].Disconnected.Single().Reason);
    }

    [Fact]
    public async Task BareHeaderKeepalive_IsAcceptedAsTraffic()
    {
        await using var c = new TransportCluster("127.0.91.90", "127.0.91.91");
        c.KeepaliveInterval = 1;
        c.KeepaliveLimit = 3;
        await using var raw = new RawPeer("127.0.91.91");
        using var toUs = await StartNode0WithRawPeerAsync(c, raw);

        // An old peer's keepalive is a bare 32-byte header; sending one every 300 ms keeps the peer alive.
        var bare = new ReqKeepalive(PacketHeader.Create(Operation.ReqKeepalive, 0, 1, 0), 0, 0, Bare: true).Encode();
        Assert.Equal(32, bare.Length);
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(4))
        {
            await toUs.SendAsync(bare, System.Net.Sockets.SocketFlags.None, TestContext.Current.CancellationToken);
            await Task.Delay(300, TestContext.Current.CancellationToken);
        }
        Assert.Empty(c.Events[0].Disconnected);
        Assert.True(c[0].IsConnected(1));
        Assert.Contains(c.Events[0].Keepalives, k => k.Pnn == 1 && k.Keepalive.Bare);

        // Our own keepalives: op 9, 40 bytes, version 4.17, uptime, generation, src/dest.
        var ours = raw.Received.First(p => (Operation)BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(16)) == Operation.ReqKeepalive);
        Assert.Equal(40, ours.Length);
        var k = ReqKeepalive.Decode(ours);
        Assert.Equal((0x00040011u, 42u, 0x1234u, 0u, 1u), (k.Version, k.Uptime, k.Header.Generation, k.Header.SrcNode, k.Header.DestNode));
    }

    [Fact]
    public async Task Send_ToDisconnectedOrUnknownPeer_ReturnsFalse()
    {
        await using var c = new TransportCluster("127.0.91.80", "127.0.91.81");
        await c.StartAsync(0);
        Assert.False(c[0].Send(1, Packets.Message(1, 0, 1, [])));  // peer not running
        Assert.False(c[0].Send(9, Packets.Message(9, 0, 1, [])));  // not in the nodes file
        Assert.False(c[0].Send(0, Packets.Message(0, 0, 1, [])));  // ourselves
        Assert.Throws<ArgumentException>(() => c[0].Send(1, new byte[8]));
        await c.StartAsync(1);
        await c.WaitAllConnectedAsync();
        Assert.True(c[0].Send(1, Packets.Message(1, 0, 1, [])));
    }

    [Fact]
    public async Task Bind_FailsClearly_WhenAddressInUseOrNotLocal()
    {
        await using var c = new TransportCluster("127.0.91.85", "127.0.91.86");
        await c.StartAsync(0);
        await using var second = new NodeTransport(c.OptionsFor(0), TestLog.For("dup"));
        var e = await Assert.ThrowsAsync<TransportBindException>(() => second.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("127.0.91.85:4379", e.Message, StringComparison.Ordinal);
        TestLog.Line(e.Message);

        var options = c.OptionsFor(1);
        await using var foreign = new NodeTransport(new NodeTransportOptions
        {
            OwnPnn = 1,
            OwnAddress = IPAddress.Parse("192.0.2.1"), // TEST-NET-1, never local
            Nodes = options.Nodes,
            KeepaliveIntervalSeconds = options.KeepaliveIntervalSeconds,
            KeepaliveLimit = options.KeepaliveLimit,
            UptimeSeconds = options.UptimeSeconds,
        }, TestLog.For("foreign"));
        var e2 = await Assert.ThrowsAsync<TransportBindException>(() => foreign.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("192.0.2.1", e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReloadNodes_AddsAndRemovesPeers()
    {
        await using var c = new TransportCluster("127.0.92.10", "127.0.92.11", "127.0.92.12");
        // Node 0 starts knowing only node 1; node 2 is added later.
        c.Nodes[2] = c.Nodes[2] with { Deleted = true };
        await c.StartAsync(0);
        await c.StartAsync(1);
        await Wait.UntilAsync(() => c[0].IsConnected(1), "0-1 connected");
        c.Nodes[2] = c.Nodes[2] with { Deleted = false };
        await c.StartAsync(2);
        await Task.Yield();
        Assert.False(c[0].IsConnected(2));

        c[0].ReloadNodes(c.Nodes);
        c[1].ReloadNodes(c.Nodes);
        await c.WaitAllConnectedAsync();

        // Delete node 1 at node 0: torn down and reported; node 1 then sees EOF too.
        c[0].ReloadNodes([c.Nodes[0], c.Nodes[1] with { Deleted = true }, c.Nodes[2]]);
        await Wait.UntilAsync(() => c.Events[0].DisconnectedCount(1) == 1 && c.Events[1].DisconnectedCount(0) >= 1, "node 1 removed", Prompt);
        // Node 1's own report; node 2 may have been reported once while both ends connected at the same moment.
        Assert.Equal("node removed", c.Events[0].Disconnected.Single(d => d.Pnn == 1).Reason);
        Assert.Equal([2u], c[0].ConnectedPeers);
        Assert.False(c[0].Send(1, Packets.Message(1, 0, 1, [])));
    }

    [Fact]
    public async Task SecondIncomingConnection_ReplacesTheHalfOpenOne()
    {
        await using var c = new TransportCluster("127.0.92.20", "127.0.92.21");
        await using var raw = new RawPeer("127.0.92.21");
        await c.StartAsync(0);
        using var first = await raw.ConnectAsync(c.Nodes[0].Address);
        await Wait.UntilAsync(() => c[0].IsConnected(1), "connected");

        // The peer "restarted" without its old socket being closed: a new connection from the same address.
        using var second = await raw.ConnectAsync(c.Nodes[0].Address);
        await Wait.UntilAsync(() => c.Events[0].DisconnectedCount(1) == 1, "old session reported dead", Prompt);
        Assert.Equal("replaced by a new incoming connection", c.Events[0].Disconnected.Single().Reason);
        Assert.True(await Packets.SeesEofAsync(first, Prompt), "old incoming closed");
        await Wait.UntilAsync(() => c[0].IsConnected(1) && c.Events[0].ConnectedCount(1) == 2, "connected again with the new socket");

        // Packets on the new connection are delivered.
        await second.SendAsync(Packets.Message(0, 1, 77, [5]), System.Net.Sockets.SocketFlags.None, TestContext.Current.CancellationToken);
        await Wait.UntilAsync(() => c.Events[0].Packets.Any(p => Packets.Decode(p.Packet).Srvid == 77), "packet over the new connection");
    }

    [Fact]
    public async Task Dispose_ClosesEverySocket_AndRaisesNoMoreEvents()
    {
        await using var c = new TransportCluster("127.0.92.40", "127.0.92.41");
        await using var raw = new RawPeer("127.0.92.41");
        using var toUs = await StartNode0WithRawPeerAsync(c, raw);
        var sw = Stopwatch.StartNew();
        await c.StopAsync(0);
        Assert.True(await Packets.SeesEofAsync(toUs, Prompt));
        await Wait.UntilAsync(() => raw.AcceptedClosed == raw.Accepted.Count, "outgoing closed");
        TestLog.Line($"MEASURED: dispose to EOF at peer: {sw.Elapsed.TotalMilliseconds:0.0} ms");
        Assert.Empty(c.Events[0].Disconnected);
        // The address is free again at once (SO_REUSEADDR).
        await c.StartAsync(0);
    }

    [Fact]
    public async Task PeerThatDropsOurConnections_IsRetriedOncePerSecond_NotInATightLoop()
    {
        await using var c = new TransportCluster("127.0.92.50", "127.0.92.51");
        await using var rude = new RawPeer("127.0.92.51", dropAccepted: true);
        await c.StartAsync(0);
        await Wait.UntilAsync(() => rude.Accepted.Count >= 2, "two connect attempts");
        var sw = Stopwatch.StartNew();
        var before = rude.Accepted.Count;
        await Task.Delay(3000, TestContext.Current.CancellationToken);
        var attempts = rude.Accepted.Count - before;
        TestLog.Line($"connect attempts in {sw.Elapsed.TotalSeconds:0.0} s: {attempts}");
        Assert.InRange(attempts, 1, 6);
        Assert.Empty(c.Events[0].Connected);
    }

    /// <summary>Starts only node 0 and connects <paramref name="raw"/> to it as node 1's outgoing connection.</summary>
    private static async Task<System.Net.Sockets.Socket> StartNode0WithRawPeerAsync(TransportCluster c, RawPeer raw)
    {
        await c.StartAsync(0);
        var toUs = await raw.ConnectAsync(c.Nodes[0].Address);
        await Wait.UntilAsync(() => c[0].IsConnected(1), "connected");
        return toUs;
    }

    private static long After(long timestamp, TimeSpan span) => timestamp + (long)(span.TotalSeconds * TimeProvider.System.TimestampFrequency);

    [Fact]
    public async Task Silence_CountsFromTheLastPacket_ForwardedCallsAreNotTraffic_AndTheLimitIsReadAtEachCheck()
    {
        await using var c = new TransportCluster("127.0.92.60", "127.0.92.61");
        c.KeepaliveInterval = 3600; // the background check never fires: the test passes explicit times
        c.KeepaliveLimit = 3;
        await using var raw = new RawPeer("127.0.92.61");
        using var toUs = await StartNode0WithRawPeerAsync(c, raw);
        int KeepalivesAtPeer() => raw.Received.Count(p => (Operation)BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(16)) == Operation.ReqKeepalive);
        var ct = TestContext.Current.CancellationToken;
        var connectedAt = c[0].LastTrafficFrom(1);

        await toUs.SendAsync(Packets.Message(0, 1, 1, []), System.Net.Sockets.SocketFlags.None, ct);
        await Wait.UntilAsync(() => c.Events[0].Packets.Count == 1, "message received");
        var messageAt = c[0].LastTrafficFrom(1);
        Assert.True(messageAt > connectedAt);

        // A call forwarded by another node (hop count 1) is not proof of life.
        var forwarded = new ReqCall(PacketHeader.Create(Operation.ReqCall, 0, 1, 5), 0, 0x1234, CallId.FetchFunc, 1, [1], []).Encode();
        await toUs.SendAsync(forwarded, System.Net.Sockets.SocketFlags.None, ct);
        await Wait.UntilAsync(() => c.Events[0].Packets.Count == 2, "forwarded call received");
        Assert.Equal(messageAt, c[0].LastTrafficFrom(1));

        var keepalives = KeepalivesAtPeer();
        c[0].SendKeepalives();
        await Wait.UntilAsync(() => KeepalivesAtPeer() == keepalives + 1, "a keepalive");

        // Dead exactly KeepaliveInterval × KeepaliveLimit after the last packet, not a whole interval later.
        c[0].CheckLiveness(After(messageAt, TimeSpan.FromSeconds(3 * 3600)) - 1);
        Assert.True(c[0].IsConnected(1));
        // setvar KeepaliveLimit 2 applies at the next check.
        c.KeepaliveLimit = 2;
        c[0].CheckLiveness(After(messageAt, TimeSpan.FromSeconds(2 * 3600)));
        Assert.False(c[0].IsConnected(1));
        await Wait.UntilAsync(() => c.Events[0].DisconnectedCount(1) == 1, "declared dead");
        Assert.Equal("keepalive limit reached", c.Events[0].Disconnected.Single().Reason);
    }

    [Fact]
    public async Task TimeThisNodeDidNotRun_IsNotHeldAgainstItsPeers()
    {
        await using var c = new TransportCluster("127.0.92.62", "127.0.92.63");
        c.KeepaliveInterval = 3600;
        c.KeepaliveLimit = 3;
        await using var raw = new RawPeer("127.0.92.63");
        using var toUs = await StartNode0WithRawPeerAsync(c, raw);
        var last = c[0].LastTrafficFrom(1);
        var limit = TimeSpan.FromSeconds(3 * 3600);

        // As after a SIGSTOP of 10 s: the peer's deadline moves by those 10 s.
        c[0].CreditStall(TimeSpan.FromSeconds(10));
        c[0].CheckLiveness(After(last, limit + TimeSpan.FromSeconds(9)));
        Assert.True(c[0].IsConnected(1));
        c[0].CheckLiveness(After(last, limit + TimeSpan.FromSeconds(10)));
        Assert.False(c[0].IsConnected(1));
    }

    [Fact]
    public async Task PeerThatStopsReading_OverflowsTheSendQueue_AndIsDropped()
    {
        // Like a SIGSTOPped peer under load: TCP stays up, but nothing is read, so our queue can only grow.
        await using var raw = new RawPeer("127.0.92.71", readAccepted: false);
        var nodes = new List<TransportNode> { new(0, IPAddress.Parse("127.0.92.70"), false), new(1, raw.Address, false) };
        var events = new EventLog();
        await using var t = new NodeTransport(new NodeTransportOptions
        {
            OwnPnn = 0,
            OwnAddress = nodes[0].Address,
            Nodes = nodes,
            KeepaliveIntervalSeconds = () => 3600,
            KeepaliveLimit = () => 5,
            UptimeSeconds = () => 1,
            SendQueueMaxBytes = 8 * 1024 * 1024,
        }, TestLog.For("overflow"));
        events.Attach(t);
        await t.StartAsync(TestContext.Current.CancellationToken);
        using var toUs = await raw.ConnectAsync(nodes[0].Address);
        await Wait.UntilAsync(() => t.IsConnected(1), "connected");

        // Far more than the kernel socket buffers and the 8 MB queue limit can hold. Send never blocks.
        var big = Packets.Message(1, 0, 1, new byte[1024 * 1024]);
        var accepted = 0;
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 200 && t.IsConnected(1); i++)
        {
            if (t.Send(1, big))
                accepted++;
            else
                break;
            if (i % 10 == 9)
                await Task.Delay(20, TestContext.Current.CancellationToken); // let the writer fill the socket buffers
        }
        TestLog.Line($"accepted {accepted} x 1 MB before the overflow, in {sw.ElapsedMilliseconds} ms");
        await Wait.UntilAsync(() => events.DisconnectedCount(1) == 1, "stuck peer dropped", Prompt);
        Assert.Equal("send queue overflow", events.Disconnected.Single().Reason);
        Assert.InRange(accepted, 1, 199);
        Assert.False(t.Send(1, big));
        Assert.True(await Packets.SeesEofAsync(toUs, Prompt));
    }
}
