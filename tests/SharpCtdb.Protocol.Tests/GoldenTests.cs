using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace SharpCtdb.Protocol.Tests;

/// <summary>
/// Byte-exact checks against traffic recorded between Debian's ctdb 4.17 tool and Samba's ctdbd 4.17
/// (Golden/*.json, made by scripts/record-ctdb-traffic via Golden/record.sh on a 3-node cluster 127.0.81.1-3).
/// </summary>
public partial class GoldenTests
{
    public static TheoryData<string> Recordings() => new(GoldenRecording.AllFiles());

    [Fact]
    public void RecordingsArePresent()
    {
        var names = GoldenRecording.AllFiles().ToList();
        Assert.True(names.Count >= 30, $"only {names.Count} recordings");
        Assert.Contains("status", names);
        Assert.Contains("catdb", names);
    }

    [Theory]
    [MemberData(nameof(Recordings))]
    public void EveryPacketDecodesAndReencodesIdentically(string name)
    {
        var rec = GoldenRecording.Load(name);
        foreach (var p in rec.Packets)
        {
            var h = p.Header;
            h.Validate();
            Assert.Equal((uint)p.Bytes.Length, h.Length);
            // Both the real daemon and the tool pad every packet to a multiple of 8.
            Assert.Equal(0, p.Bytes.Length % 8);
            byte[] again = h.Operation switch
            {
                Operation.ReqControl => ReqControl.Decode(p.Bytes).Encode(),
                Operation.ReplyControl => ReplyControl.Decode(p.Bytes).Encode(),
                Operation.ReqMessage => ReqMessage.Decode(p.Bytes).Encode(),
                Operation.ReqCall => ReqCall.Decode(p.Bytes).Encode(),
                Operation.ReplyCall => ReplyCall.Decode(p.Bytes).Encode(),
                Operation.ReqKeepalive when p.IsNodeTraffic => ReqKeepalive.Decode(p.Bytes).Encode(),
                _ => throw new Xunit.Sdk.XunitException($"{name}: unexpected operation {h.Operation}"),
            };
            Assert.Equal(Convert.ToHexString(p.Bytes), Convert.ToHexString(again));
            // Client-side ops only go one way.
            if (!p.IsNodeTraffic)
                Assert.Equal(p.ToDaemon, h.Operation is Operation.ReqControl or Operation.ReqCall);
        }
    }

    [Theory]
    [MemberData(nameof(Recordings))]
    public void EveryControlPayloadRoundTripsThroughItsDataType(string name)
    {
        var rec = GoldenRecording.Load(name);
        foreach (var (req, rep) in rec.Controls())
        {
            if (!ControlSchema.Table.TryGetValue(req.Opcode, out var schema))
            {
                // Only the deliberate obsolete/unknown probes in raw-controls have no schema: empty in, -1 out.
                Assert.Empty(req.Data);
                Assert.NotNull(rep);
                Assert.Equal(-1, rep.Status);
                continue;
            }
            byte[] again;
            try
            {
                again = schema.Request(req.Data);
            }
            catch (ProtocolException)
            {
                // A request our decoder rejects must have been rejected by the real daemon too (raw-controls probes).
                Assert.NotNull(rep);
                Assert.Equal(-1, rep.Status);
                continue;
            }
            Assert.Equal(Convert.ToHexString(req.Data), Convert.ToHexString(again));
            if (rep is null)
                continue;
            // The reply goes back to the requester with the same reqid.
            Assert.Equal(req.Header.ReqId, rep.Header.ReqId);
            if (rep.Status == 0)
                Assert.Equal(Convert.ToHexString(rep.Data), Convert.ToHexString(schema.Reply(rep.Data)));
            else
                Assert.Empty(rep.Data); // never data with a non-zero status
        }
    }

    [Theory]
    [MemberData(nameof(Recordings))]
    public void EveryRequestGetsExactlyOneReply(string name)
    {
        var rec = GoldenRecording.Load(name);
        if (rec.Packets.Any(p => p.IsNodeTraffic))
            return; // a capture window cuts request/reply pairs at its edges; see NodeTrafficTests
        var replies = rec.Packets.Where(p => p.Header.Operation == Operation.ReplyControl).Select(p => (p.Conn, p.Header.ReqId)).ToList();
        var requests = rec.Packets.Where(p => p.Header.Operation == Operation.ReqControl).Select(p => (p.Conn, p.Header.ReqId)).ToList();
        Assert.Equal(requests.Order(), replies.Order());
        Assert.Equal(requests.Count, requests.Distinct().Count());
    }

    [Fact]
    public void ToolReqidsCountUpFromNearIntMaxAndFirstGetPnnIsFromUnknownNode()
    {
        var rec = GoldenRecording.Load("status");
        var reqs = rec.Controls().Select(c => c.Request).ToList();
        Assert.Equal(0x7FFFFF38u, reqs[0].Header.ReqId);
        for (var i = 1; i < reqs.Count; i++)
            Assert.Equal(reqs[i - 1].Header.ReqId + 1, reqs[i].Header.ReqId);
        Assert.Equal(ControlOpcode.GetPnn, reqs[0].Opcode);
        Assert.Equal(Pnn.CurrentNode, reqs[0].Header.DestNode);
        Assert.Equal(Pnn.Unknown, reqs[0].Header.SrcNode);
        Assert.All(reqs.Skip(1), r => Assert.Equal(0u, r.Header.SrcNode));
        Assert.All(reqs, r => Assert.Equal(0u, r.Header.Generation));
        Assert.Equal(ControlOpcode.RegisterSrvid, reqs[1].Opcode);
        Assert.Equal(Srvid.Leader, reqs[1].Srvid);
    }

    [Fact]
    public void DaemonRepliesCarryGenerationAndAnswerToItsOwnPnn()
    {
        var rec = GoldenRecording.Load("status");
        var generation = uint.Parse(Regex.Match(rec.Stdout, @"Generation:(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        foreach (var (req, rep) in rec.Controls())
        {
            Assert.NotNull(rep);
            Assert.Equal(generation, rep.Header.Generation);
            Assert.Equal(0u, rep.Header.SrcNode);
            // Even the first GET_PNN (srcnode 0xFFFFFFFF) is answered with destnode = the daemon's pnn.
            Assert.Equal(0u, rep.Header.DestNode);
        }
    }

    [Fact]
    public void StatusNodeMapVnnMapAndLeader()
    {
        var rec = GoldenRecording.Load("status");
        var (pnnReq, pnnRep) = rec.Control(ControlOpcode.GetPnn);
        Assert.Equal(0, pnnRep.Status);
        Assert.Empty(pnnRep.Data);

        var nodemap = NodeMap.FromBytes(rec.Control(ControlOpcode.GetNodeMap).Reply.Data);
        Assert.Equal(3, nodemap.Nodes.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal((uint)i, nodemap.Nodes[i].Pnn);
            Assert.Equal(NodeFlags.None, nodemap.Nodes[i].Flags);
            Assert.Equal(IPAddress.Parse($"127.0.81.{i + 1}"), nodemap.Nodes[i].Addr.Address);
            Assert.Equal($"127.0.81.{i + 1}", nodemap.Nodes[i].Addr.ToString());
            Assert.Contains($"pnn:{i} 127.0.81.{i + 1}", rec.Stdout);
        }
        // The nodes carry the node port in their addresses.
        Assert.All(nodemap.Nodes, n => Assert.Equal(Wire.DefaultPort, n.Addr.Port));

        var vnn = VnnMap.FromBytes(rec.Control(ControlOpcode.GetVnnMap).Reply.Data);
        Assert.Contains($"Generation:{vnn.Generation}\n", rec.Stdout);
        Assert.Equal([0u, 1u, 2u], vnn.Map);

        var (_, recmode) = rec.Control(ControlOpcode.GetRecMode);
        Assert.Equal((int)RecoveryMode.Normal, recmode.Status);

        var leader = Assert.Single(rec.MessagesToClient(), m => m.Srvid == Srvid.Leader);
        Assert.Equal(0u, ControlPayloads.ReadU32(leader.Data));
        Assert.Equal(0u, leader.Header.ReqId);
        Assert.Contains("Leader:0\n", rec.Stdout);

        var runstate = ControlPayloads.ReadU32(rec.Control(ControlOpcode.GetRunState).Reply.Data);
        Assert.Equal((uint)RunState.Running, runstate);

        // status asks every node for its interfaces (PARTIALLYONLINE check).
        var ifaceDests = rec.Controls().Where(c => c.Request.Opcode == ControlOpcode.GetIfaces).Select(c => c.Request.Header.DestNode);
        Assert.Equal([0u, 1u, 2u], ifaceDests);
    }

    [Fact]
    public void LeaderCommandUsesOnlyTheBroadcast()
    {
        var rec = GoldenRecording.Load("leader");
        Assert.Equal([ControlOpcode.GetPnn, ControlOpcode.RegisterSrvid], rec.Controls().Select(c => c.Request.Opcode));
        var leader = Assert.Single(rec.MessagesToClient());
        Assert.Equal(Srvid.Leader, leader.Srvid);
        Assert.Equal(Pnn.Unknown, 0xFFFFFFFFu);
        Assert.Equal(uint.Parse(rec.Stdout.Trim(), CultureInfo.InvariantCulture), ControlPayloads.ReadU32(leader.Data));
    }

    [Fact]
    public void PingPidAndProcessExistsReturnValuesInStatus()
    {
        var ping = GoldenRecording.Load("ping");
        var clients = int.Parse(Regex.Match(ping.Stdout, @"\((\d+) clients\)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(clients, ping.Control(ControlOpcode.Ping).Reply.Status);

        var pid = GoldenRecording.Load("getpid");
        Assert.Equal(int.Parse(pid.Stdout.Trim(), CultureInfo.InvariantCulture), pid.Control(ControlOpcode.GetPid).Reply.Status);

        var pe = GoldenRecording.Load("process-exists");
        var (req, rep) = pe.Control(ControlOpcode.ProcessExists);
        Assert.Equal(1, ControlPayloads.ReadI32(req.Data));
        Assert.Equal(-1, rep.Status);
        Assert.Null(rep.ErrorMessage);
    }

    [Fact]
    public void UptimeReply()
    {
        var rec = GoldenRecording.Load("uptime");
        var up = UptimeInfo.FromBytes(rec.Control(ControlOpcode.Uptime).Reply.Data);
        var m = Regex.Match(rec.Stdout, @"Ctdbd start time\s+: \((\d+) (\d+):(\d+):(\d+)\)");
        var shown = (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * 86400) + (int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) * 3600)
            + (int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) * 60) + int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
        Assert.Equal(shown, up.CurrentTime.Sec - up.CtdbdStartTime.Sec);
        Assert.True(up.LastRecoveryFinished.TotalSeconds >= up.LastRecoveryStarted.TotalSeconds);
        Assert.InRange(up.CurrentTime.Usec, 0, 999_999);
        Assert.Equal(up.CurrentTime, Timeval.FromDateTimeOffset(up.CurrentTime.ToDateTimeOffset()));
    }

    [Fact]
    public void UptimeOnAnotherNodeChecksTheNodeMapFirst()
    {
        var rec = GoldenRecording.Load("n1-uptime");
        var ops = rec.Controls().Select(c => (c.Request.Opcode, c.Request.Header.DestNode)).ToList();
        Assert.Equal((ControlOpcode.GetPnn, Pnn.CurrentNode), ops[0]);
        Assert.Contains((ControlOpcode.GetNodeMap, 0u), ops);
        Assert.Contains((ControlOpcode.Uptime, 1u), ops);
        // The reply comes back through node 0, which rebuilds the header: srcnode is 0, not 1.
        var (_, rep) = rec.Control(ControlOpcode.Uptime);
        Assert.Equal(0u, rep.Header.SrcNode);
        Assert.Equal(0u, rep.Header.DestNode);
    }

    [Fact]
    public void CapabilitiesRunstateDebug()
    {
        var caps = (Capabilities)ControlPayloads.ReadU32(GoldenRecording.Load("getcapabilities").Control(ControlOpcode.GetCapabilities).Reply.Data);
        Assert.Equal(Capabilities.Default, caps);

        var dbg = GoldenRecording.Load("getdebug");
        var level = ControlPayloads.ReadI32(dbg.Control(ControlOpcode.GetDebug).Reply.Data);
        Assert.Equal(dbg.Stdout.Trim(), DebugLevels.NameOf(level));

        var set = GoldenRecording.Load("setdebug-NOTICE");
        Assert.Equal((int)DebugLevel.Notice, ControlPayloads.ReadI32(set.Control(ControlOpcode.SetDebug).Request.Data));
    }

    [Fact]
    public void Tunables()
    {
        var get = GoldenRecording.Load("getvar-MonitorInterval");
        var (req, rep) = get.Control(ControlOpcode.GetTunable);
        Assert.Equal("MonitorInterval", ControlPayloads.ReadStringN(req.Data));
        Assert.Equal(15u, ControlPayloads.ReadU32(rep.Data));

        var set = GoldenRecording.Load("setvar-RecoverInterval");
        Assert.Equal(new TunableValue(1, "RecoverInterval"), TunableValue.FromBytes(set.Control(ControlOpcode.SetTunable).Request.Data));
        Assert.Equal(0, set.Control(ControlOpcode.SetTunable).Reply.Status);

        var list = GoldenRecording.Load("listvars");
        var names = VarList.FromBytes(list.Control(ControlOpcode.ListTunables).Reply.Data).Names;
        var shown = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=')[0].Trim()).ToList();
        Assert.Equal(shown, names);
        Assert.DoesNotContain("MaxRedirectCount", names); // obsolete tunables are not listed
        // listvars then asks for each value by name, in list order.
        var asked = list.Controls().Where(c => c.Request.Opcode == ControlOpcode.GetTunable).Select(c => ControlPayloads.ReadStringN(c.Request.Data));
        Assert.Equal(names, asked);

        // An unknown name is rejected by the tool from the list; the daemon is never asked.
        var unknown = GoldenRecording.Load("getvar-unknown");
        Assert.DoesNotContain(unknown.Controls(), c => c.Request.Opcode == ControlOpcode.GetTunable);
        Assert.Equal(1, unknown.Exit);
    }

    [Fact]
    public void PublicIpsAndInfo()
    {
        var ip = GoldenRecording.Load("ip");
        var list = PublicIpList.FromBytes(ip.Control(ControlOpcode.GetPublicIps).Reply.Data);
        Assert.Equal(6, list.Ips.Count);
        foreach (var p in list.Ips)
            Assert.Contains($"{p.Addr} {p.Pnn}\n", ip.Stdout);
        Assert.Equal(Enumerable.Range(1, 6).Select(i => $"198.51.100.{i}"), list.Ips.Select(p => p.Addr.ToString()).Order(StringComparer.Ordinal));
        Assert.All(list.Ips, p => Assert.Equal(0, p.Addr.Port));

        var info = GoldenRecording.Load("ipinfo");
        var (req, rep) = info.Control(ControlOpcode.GetPublicIpInfo);
        Assert.Equal("198.51.100.1", SockAddr.FromBytes(req.Data).ToString());
        var pii = PublicIpInfo.FromBytes(rep.Data);
        Assert.Equal("198.51.100.1", pii.Ip.Addr.ToString());
        Assert.Contains($"CurrentNode:{pii.Ip.Pnn}\n", info.Stdout);
        var lo = Assert.Single(pii.Ifaces.Ifaces);
        Assert.Equal("lo", lo.Name);
        Assert.True(lo.IsUp);
        Assert.Contains($"Name:lo Link:up References:{lo.References}", info.Stdout);

        var missing = GoldenRecording.Load("ipinfo-unknown");
        var (_, err) = missing.Control(ControlOpcode.GetPublicIpInfo);
        Assert.Equal(-1, err.Status);
        Assert.Null(err.ErrorMessage);
        Assert.Equal("Control GET_PUBLIC_IP_INFO failed, ret=-1\n", missing.Stderr);

        var verbose = GoldenRecording.Load("ip-v");
        // -v asks GET_PUBLIC_IP_INFO for every address.
        Assert.Equal(6, verbose.Controls().Count(c => c.Request.Opcode == ControlOpcode.GetPublicIpInfo));
        var all = GoldenRecording.Load("ip-all");
        // "ip all" asks every node for its list.
        Assert.Equal([0u, 1u, 2u], all.Controls().Where(c => c.Request.Opcode == ControlOpcode.GetPublicIps).Select(c => c.Request.Header.DestNode));
    }

    [Fact]
    public void IfacesAndTickles()
    {
        var rec = GoldenRecording.Load("ifaces");
        var list = IfaceList.FromBytes(rec.Control(ControlOpcode.GetIfaces).Reply.Data);
        var lo = Assert.Single(list.Ifaces);
        Assert.Contains($"name:{lo.Name} link:up references:{lo.References}", rec.Stdout);

        var t = GoldenRecording.Load("gettickles");
        var (req, rep) = t.Control(ControlOpcode.GetTcpTickleList);
        Assert.Equal("198.51.100.1", SockAddr.FromBytes(req.Data).ToString());
        var tl = TickleList.FromBytes(rep.Data);
        Assert.Equal("198.51.100.1", tl.Addr.ToString());
        Assert.Empty(tl.Connections);
    }

    [Fact]
    public void ReclockPathIsAPlainString()
    {
        var rec = GoldenRecording.Load("getreclock");
        var data = rec.Control(ControlOpcode.GetReclockFile).Reply.Data;
        Assert.Equal(0, data[^1]);
        Assert.Equal(rec.Stdout.Trim(), ControlPayloads.ReadString(data));
    }

    [Fact]
    public void AttachAndDbMap()
    {
        var attach = GoldenRecording.Load("attach-x");
        var ops = attach.Controls().Select(c => c.Request.Opcode).ToList();
        // Observed: `ctdb attach` does not send GET_DBMAP first (protocol.md §4.4 says it does).
        Assert.Equal([ControlOpcode.GetPnn, ControlOpcode.RegisterSrvid, ControlOpcode.DbAttach,
            ControlOpcode.GetDbPath, ControlOpcode.DbGetHealth, ControlOpcode.DbOpenFlags], ops);
        var (req, rep) = attach.Control(ControlOpcode.DbAttach);
        Assert.Equal("x.tdb", ControlPayloads.ReadStringStrict(req.Data));
        Assert.Equal([.. "x.tdb"u8, (byte)0], req.Data);
        var xId = ControlPayloads.ReadU32(rep.Data);
        Assert.Equal(0x51846878u, xId);
        Assert.Null(ControlPayloads.ReadString(attach.Control(ControlOpcode.DbGetHealth).Reply.Data)); // empty = healthy

        var persistent = GoldenRecording.Load("attach-persistent");
        var pId = ControlPayloads.ReadU32(persistent.Control(ControlOpcode.DbAttachPersistent).Reply.Data);

        var map = GoldenRecording.Load("getdbmap");
        var dbs = DbIdMap.FromBytes(map.Control(ControlOpcode.GetDbMap).Reply.Data).Dbs;
        Assert.Contains(new DbIdEntry(xId, DbFlags.None), dbs);
        Assert.Contains(new DbIdEntry(pId, DbFlags.Persistent), dbs);
        Assert.Contains($"dbid:0x{pId:x8} name:sc_golden_p.tdb", map.Stdout);

        var status = GoldenRecording.Load("getdbstatus-x");
        var path = ControlPayloads.ReadString(status.Control(ControlOpcode.GetDbPath).Reply.Data);
        Assert.Contains($"path: {path}\n", status.Stdout);
        Assert.EndsWith("/x.tdb.0", path);
    }

    [Fact]
    public void Statistics()
    {
        var rec = GoldenRecording.Load("statistics");
        var data = rec.Control(ControlOpcode.Statistics).Reply.Data;
        Assert.Equal(CtdbStatistics.Size, data.Length);
        var s = CtdbStatistics.FromBytes(data);
        int Shown(string field) =>
            int.Parse(Regex.Match(rec.Stdout, $@"\n\s+{field}\s+(\d+)\n").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(Shown("num_clients"), (int)s.NumClients);
        Assert.Equal(Shown("num_recoveries"), (int)s.NumRecoveries);
        Assert.Equal(Shown("client_packets_sent"), (int)s.ClientPacketsSent);
        Assert.Equal(Shown("keepalive_packets_recv"), (int)s.KeepalivePacketsRecv);
        Assert.Equal(Shown("total_calls"), (int)s.TotalCalls);
        Assert.True(s.StatisticsCurrentTime.Sec > s.StatisticsStartTime.Sec);

        var hist = GoldenRecording.Load("stats");
        var list = StatisticsList.FromBytes(hist.Control(ControlOpcode.GetStatHistory).Reply.Data);
        Assert.NotEmpty(list.Stats);

        var db = GoldenRecording.Load("dbstatistics-x");
        var (dreq, drep) = db.Control(ControlOpcode.GetDbStatistics);
        Assert.Equal(0x51846878u, ControlPayloads.ReadU32(dreq.Data));
        var ds = DbStatistics.FromBytes(drep.Data);
        Assert.Equal(DbStatistics.FixedSize, drep.Data.Length);
        Assert.Equal(0u, ds.LocksNumCalls);
        Assert.All(ds.HotKeys, k => Assert.Empty(k.Key));
    }

    [Fact]
    public void ReadAndWriteKeyUseCalls()
    {
        var w = GoldenRecording.Load("writekey");
        var call = ReqCall.Decode(w.Packets.Single(p => p.Header.Operation == Operation.ReqCall).Bytes);
        Assert.Equal(0x51846878u, call.DbId);
        Assert.Equal(Pnn.CurrentNode, call.Header.DestNode);
        Assert.Equal("goldenkey"u8.ToArray(), call.Key);
        var reply = ReplyCall.Decode(w.Packets.Single(p => p.Header.Operation == Operation.ReplyCall).Bytes);
        Assert.Equal(call.Header.ReqId, reply.Header.ReqId);
        Assert.Equal(0, reply.Status);

        var cat = GoldenRecording.Load("catdb");
        var start = TraverseStartExt.FromBytes(cat.Control(ControlOpcode.TraverseStartExt).Request.Data);
        Assert.False(start.WithEmptyRecords);
        Assert.Equal(Srvid.ClientRange, start.Srvid & 0xFF00000000000000);
        var msgs = cat.MessagesToClient().Where(m => m.Srvid == start.Srvid).Select(m => RecData.FromBytes(m.Data)).ToList();
        Assert.Equal(2, msgs.Count);
        Assert.True(msgs[1].IsEndMarker);
        Assert.Equal("goldenkey"u8.ToArray(), msgs[0].Key);
        Assert.True(msgs[0].TrySplitHeader(out var header, out var value));
        Assert.Equal("goldenvalue"u8.ToArray(), value);
        Assert.Contains($"dmaster: {header.Dmaster}\nrsn: {header.Rsn}\n", cat.Stdout);
    }

    [Fact]
    public void PersistentStoreCommitsARecBufferWithSeqnum()
    {
        var rec = GoldenRecording.Load("pstore");
        var buf = RecBuffer.FromBytes(rec.Control(ControlOpcode.Trans3Commit).Request.Data);
        var keys = buf.Records.Select(r => WireReader.DecodeCString(r.Key)).ToList();
        Assert.Contains("pkey", keys);
        Assert.Contains("__db_sequence_number__", keys);
        var pkey = buf.Records.Single(r => r.Key.AsSpan().SequenceEqual("pkey"u8));
        Assert.True(pkey.TrySplitHeader(out _, out var value));
        Assert.Equal("pvalue"u8.ToArray(), value);

        var del = KeyData.FromBytes(rec.Control(ControlOpcode.ScheduleForDeletion).Request.Data);
        // The g_lock key for the transaction includes its trailing NUL.
        var pId = buf.DbId;
        Assert.Equal([.. System.Text.Encoding.ASCII.GetBytes($"transaction_db_0x{pId:x8}"), (byte)0], del.Key);

        var seq = GoldenRecording.Load("getdbseqnum");
        var (sreq, srep) = seq.Control(ControlOpcode.GetDbSeqnum);
        Assert.Equal(pId, ControlPayloads.ReadDbIdPadded(sreq.Data));
        Assert.Equal($"0x{ControlPayloads.ReadU64(srep.Data):x}", seq.Stdout.Trim());
    }

    [Fact]
    public void ListnodesNeedsNoDaemon()
    {
        var rec = GoldenRecording.Load("listnodes");
        Assert.Empty(rec.Packets);
        Assert.Equal("127.0.81.1\n127.0.81.2\n127.0.81.3\n", rec.Stdout);
    }
}
