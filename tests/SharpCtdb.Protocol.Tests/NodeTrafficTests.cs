namespace SharpCtdb.Protocol.Tests;

/// <summary>
/// Node-to-node traffic of the real 3-node cluster (Golden/node-traffic.json), sniffed on lo while the leader
/// (node 0) was killed and restarted: keepalives, leader broadcasts, recovery (DB_PULL/PUSH), takeover controls.
/// </summary>
public class NodeTrafficTests
{
    private static readonly GoldenRecording Rec = GoldenRecording.Load("node-traffic");

    private static uint PnnOf(string address) => uint.Parse(address.Split('.')[3], System.Globalization.CultureInfo.InvariantCulture) - 1;

    public static TheoryData<string> NodeRecordings() => new(["node-traffic", "node-startup-election"]);

    [Theory]
    [MemberData(nameof(NodeRecordings))]
    public void HeadersNameTheSendingAndReceivingNodes(string name)
    {
        var rec = GoldenRecording.Load(name);
        Assert.True(rec.Packets.Count > 100);
        foreach (var p in rec.Packets)
        {
            Assert.True(p.IsNodeTraffic);
            var h = p.Header;
            Assert.Equal(PnnOf(p.From!), h.SrcNode);
            // Replies and messages name the receiving node; nothing on the wire is a broadcast address.
            Assert.Equal(PnnOf(p.To!), h.DestNode);
        }
    }

    [Fact]
    public void KeepalivesCarryVersionAndUptime()
    {
        var keepalives = Rec.Packets.Where(p => p.Header.Operation == Operation.ReqKeepalive).ToList();
        Assert.NotEmpty(keepalives);
        foreach (var p in keepalives)
        {
            Assert.Equal(40, p.Bytes.Length);
            var k = ReqKeepalive.Decode(p.Bytes);
            Assert.False(k.Bare);
            Assert.Equal(0x00040011u, k.Version); // (4 << 16) | 17
            Assert.Equal(0u, k.Header.ReqId);
            Assert.True(k.Uptime > 0);
        }
        // Consecutive keepalives on one connection are KeepaliveInterval (5 s) apart in uptime.
        var stream = keepalives.GroupBy(p => p.Conn).First(g => g.Count() >= 2).Select(p => ReqKeepalive.Decode(p.Bytes).Uptime).ToList();
        Assert.Equal(5u, stream[1] - stream[0]);
    }

    [Theory]
    [MemberData(nameof(NodeRecordings))]
    public void MessagesDecodeWithTheTypeTheirSrvidUses(string name)
    {
        var rec = GoldenRecording.Load(name);
        var kinds = new HashSet<string>();
        foreach (var p in rec.Packets.Where(p => p.Header.Operation == Operation.ReqMessage))
        {
            var m = ReqMessage.Decode(p.Bytes);
            Assert.Equal(0u, m.Header.ReqId);
            switch (m.Srvid)
            {
                case Srvid.Leader:
                    var leader = ControlPayloads.ReadU32(m.Data);
                    // Only the leader broadcasts its pnn; any node may broadcast UNKNOWN when it starts an election.
                    if (leader != Pnn.Unknown)
                        Assert.Equal(leader, m.Header.SrcNode);
                    kinds.Add("leader");
                    break;
                case Srvid.Reconfigure:
                    Assert.Empty(m.Data);
                    kinds.Add("reconfigure");
                    break;
                case Srvid.DisableTakeoverRuns:
                    var dm = DisableMessage.FromBytes(m.Data);
                    Assert.Equal(dm.ToBytes(), m.Data);
                    kinds.Add("disable");
                    break;
                case Srvid.Election:
                    var e = ElectionMessage.FromBytes(m.Data);
                    Assert.Equal(m.Data, e.ToBytes());
                    Assert.Equal(m.Header.SrcNode, e.Pnn);
                    kinds.Add("election");
                    break;
                case Srvid.TakeoverRun:
                    var t = SrvidMessage.FromBytes(m.Data);
                    Assert.Equal(m.Data, t.ToBytes());
                    kinds.Add("takeover");
                    break;
                case var s when (s & 0xFFFF000000000000) == Srvid.Recovery:
                    var buf = RecBuffer.FromBytes(m.Data);
                    Assert.Equal(m.Data, buf.ToBytes());
                    Assert.All(buf.Records, r => Assert.True(r.TrySplitHeader(out _, out _))); // recovery records carry ltdb headers
                    kinds.Add("recovery");
                    break;
                default:
                    Assert.Fail($"unexpected srvid 0x{m.Srvid:x16}");
                    break;
            }
        }
        Assert.Contains("leader", kinds);
        Assert.Contains(name == "node-traffic" ? "recovery" : "election", kinds);
    }

    [Fact]
    public void StartupElectionMessage()
    {
        var rec = GoldenRecording.Load("node-startup-election");
        var elections = rec.Packets.Where(p => p.Header.Operation == Operation.ReqMessage).Select(p => ReqMessage.Decode(p.Bytes))
            .Where(m => m.Srvid == Srvid.Election).ToList();
        Assert.NotEmpty(elections);
        foreach (var m in elections)
        {
            Assert.Equal(ElectionMessage.Size, m.Data.Length);
            var e = ElectionMessage.FromBytes(m.Data);
            Assert.Equal(3u, e.NumConnected);
            // At start-up every node is still UNHEALTHY; priority_time is the recovery daemon's start time.
            Assert.Equal(NodeFlags.Unhealthy, e.NodeFlags);
            Assert.InRange(e.PriorityTime.Usec, 0, 999_999);
            Assert.True(e.PriorityTime.Sec > 1_600_000_000);
        }
        // The election is broadcast to all other nodes; the winner then broadcasts itself as leader.
        var winner = elections[0].Header.SrcNode;
        var leaders = rec.Packets.Where(p => p.Header.Operation == Operation.ReqMessage).Select(p => ReqMessage.Decode(p.Bytes))
            .Where(m => m.Srvid == Srvid.Leader).Select(m => ControlPayloads.ReadU32(m.Data)).Where(l => l != Pnn.Unknown).Distinct();
        Assert.Equal([winner], leaders);
    }

    [Fact]
    public void StartupKeepalivesAndTakeoverRuns()
    {
        var rec = GoldenRecording.Load("node-startup-election");
        var ka = rec.Packets.Where(p => p.Header.Operation == Operation.ReqKeepalive).Select(p => ReqKeepalive.Decode(p.Bytes)).ToList();
        Assert.NotEmpty(ka);
        Assert.All(ka, k => Assert.Equal(0x00040011u, k.Version));
        Assert.Contains(ka, k => k.Uptime < 30); // freshly started daemons report small uptimes
        var controls = rec.Controls().ToList();
        Assert.Contains(controls, c => c.Request.Opcode == ControlOpcode.Startup);
        // TAKEOVER_IP / RELEASE_IP carry a public_ip; the pnn is the new owner.
        foreach (var (req, _) in controls.Where(c => c.Request.Opcode is ControlOpcode.TakeoverIp or ControlOpcode.ReleaseIp))
        {
            var ip = PublicIp.FromBytes(req.Data);
            Assert.StartsWith("198.51.100.", ip.Addr.ToString());
            if (req.Opcode == ControlOpcode.TakeoverIp)
                Assert.Equal(req.Header.DestNode, ip.Pnn);
        }
    }

    [Fact]
    public void LeaderChangesFromZeroToAnotherNodeAndBack()
    {
        var leaders = Rec.Packets.Where(p => p.Header.Operation == Operation.ReqMessage)
            .Select(p => ReqMessage.Decode(p.Bytes)).Where(m => m.Srvid == Srvid.Leader).Select(m => ControlPayloads.ReadU32(m.Data)).ToList();
        Assert.Contains(0u, leaders.Take(3));
        Assert.Contains(leaders, l => l != 0);
    }

    [Fact]
    public void RecoveryUsesGenerationInTransactionsAndPullCounts()
    {
        var controls = Rec.Controls().ToList();
        var setVnn = controls.Where(c => c.Request.Opcode == ControlOpcode.SetVnnMap).Select(c => VnnMap.FromBytes(c.Request.Data)).ToList();
        Assert.NotEmpty(setVnn);
        Assert.All(setVnn, v => Assert.NotEqual(Wire.InvalidGeneration, v.Generation));
        var starts = controls.Where(c => c.Request.Opcode == ControlOpcode.DbTransactionStart).Select(c => TransDb.FromBytes(c.Request.Data)).ToList();
        Assert.NotEmpty(starts);
        Assert.All(starts, t => Assert.Contains(setVnn, v => v.Generation == t.Tid));
        foreach (var (req, rep) in controls.Where(c => c.Request.Opcode == ControlOpcode.DbPull && c.Reply is not null))
        {
            var pull = PullDbExt.FromBytes(req.Data);
            Assert.Equal(Srvid.Recovery, pull.Srvid & 0xFFFF000000000000);
            ControlPayloads.ReadU32(rep!.Data);
        }
        // A control forwarded for a local client (here: the recovery daemon, the first client, id 0x7FFFFF38) keeps that
        // client's id on the node-to-node leg; only the daemon's own controls (DB_ATTACH, GET_RECLOCK_FILE here) carry 0.
        Assert.Contains(controls, c => c.Request.ClientId == 0x7FFFFF38);
        Assert.All(controls.Where(c => c.Request.ClientId == 0),
            c => Assert.Contains(c.Request.Opcode, new[] { ControlOpcode.DbAttach, ControlOpcode.GetReclockFile }));
    }
}
