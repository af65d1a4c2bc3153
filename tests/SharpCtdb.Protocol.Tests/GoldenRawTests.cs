namespace SharpCtdb.Protocol.Tests;

/// <summary>Semantic checks on the recordings made with the small raw clients (Golden/raw-controls.py, fetch-client.py).</summary>
public class GoldenRawTests
{
    private static readonly GoldenRecording Raw = GoldenRecording.Load("raw-controls");

    private static ReplyControl Reply(ControlOpcode op, int index = 0) => Raw.Control(op, index).Reply;

    [Fact]
    public void ErrorRepliesCarryStatusOnlyNeverAnErrorString()
    {
        foreach (var (_, rep) in Raw.Controls())
        {
            Assert.NotNull(rep);
            Assert.Null(rep.ErrorMessage);
            if (rep.Status != 0)
                Assert.Empty(rep.Data);
        }
        Assert.Equal(-1, Reply((ControlOpcode)31).Status);   // obsolete GET_RECMASTER
        Assert.Equal(-1, Reply((ControlOpcode)999).Status);  // unknown opcode
        Assert.Equal(1, Reply(ControlOpcode.SetTunable, 0).Status);   // obsolete tunable
        Assert.Equal(-1, Reply(ControlOpcode.SetTunable, 1).Status);  // unknown tunable
        Assert.Equal(-22, Reply(ControlOpcode.GetTunable).Status);    // unknown tunable: -EINVAL
        Assert.Equal(-1, Reply(ControlOpcode.GetDbSeqnum).Status);    // wrong request size
        Assert.Equal(-1, Reply(ControlOpcode.GetDbName).Status);      // unknown db
    }

    [Fact]
    public void AllTunablesMatchTheDefaultsAndTheSetvarRecording()
    {
        var data = Reply(ControlOpcode.GetAllTunables).Data;
        Assert.Equal(TunableList.Size, data.Length);
        var t = TunableList.FromBytes(data);
        Assert.Equal(60u, t.Get("ControlTimeout"));
        Assert.Equal(15u, t.Get("MonitorInterval"));
        Assert.Equal(100001u, t.Get("DatabaseHashSize"));
        Assert.Equal(1u, t.Get("recoverinterval"));
        Assert.Equal(1000000u, t.Get("RecBufferSizeLimit"));
        Assert.Equal(1024u, t.Get("QueueBufferSize"));
        Assert.Equal(2u, t.Get("IPAllocAlgorithm"));
        Assert.Equal(0u, t.Get("AllowMixedVersions"));
        Assert.Equal(10485760u, t.Get("PullDBPreallocation"));
        Assert.Equal(200u, t.Get("LockProcessesPerDB"));
        Assert.Null(t.Get("NoSuchTunable"));
    }

    [Fact]
    public void NodesFileBanStateEchoAndPidChecks()
    {
        var nodes = NodeMap.FromBytes(Reply(ControlOpcode.GetNodesFile).Data);
        Assert.Equal(["127.0.81.1", "127.0.81.2", "127.0.81.3"], nodes.Nodes.Select(n => n.Addr.ToString()));

        Assert.Equal(new BanState(0, 0), BanState.FromBytes(Reply(ControlOpcode.GetBanState).Data));

        var (echoReq, echoRep) = Raw.Control(ControlOpcode.EchoData);
        Assert.Equal(EchoData.FromBytes(echoReq.Data).Buffer, EchoData.FromBytes(echoRep.Data).Buffer);
        Assert.Equal("hello"u8.ToArray(), EchoData.FromBytes(echoRep.Data).Buffer);

        var (check, _) = Raw.Control(ControlOpcode.CheckPidSrvid);
        Assert.Equal(PidSrvid.Size, check.Data.Length);
        Assert.Equal(0xAE00000000000001UL, PidSrvid.FromBytes(check.Data).Srvid);
        // Through the recording proxy the daemon sees the proxy's pid as the peer, so both checks fail; and
        // PROCESS_EXISTS only succeeds for pids of connected clients, not for any live process.
        Assert.Equal(-1, Reply(ControlOpcode.CheckPidSrvid, 1).Status);
        Assert.Equal(-1, Reply(ControlOpcode.ProcessExists).Status);
    }

    [Fact]
    public void FetchRepliesCarryValueOrHeaderPlusValue()
    {
        foreach (var (name, value) in new[] { ("fetch-calls", "goldenvalue"u8.ToArray()), ("fetch-calls-5", "abcde"u8.ToArray()) })
        {
            var rec = GoldenRecording.Load(name);
            var calls = rec.Packets.Where(p => p.Header.Operation == Operation.ReqCall).Select(p => ReqCall.Decode(p.Bytes)).ToList();
            var replies = rec.Packets.Where(p => p.Header.Operation == Operation.ReplyCall).Select(p => ReplyCall.Decode(p.Bytes)).ToList();
            Assert.Equal(2, calls.Count);
            var fetch = replies.Single(r => r.Header.ReqId == calls.Single(c => c.CallId == CallId.FetchFunc).Header.ReqId);
            Assert.Equal(value, fetch.Data);
            var withHeader = replies.Single(r => r.Header.ReqId == calls.Single(c => c.CallId == CallId.FetchWithHeaderFunc).Header.ReqId);
            Assert.Equal(LtdbHeader.Size + value.Length, withHeader.Data.Length);
            var header = LtdbHeader.FromBytes(withHeader.Data.AsSpan(0, LtdbHeader.Size));
            Assert.Equal(0u, header.Dmaster);
            Assert.Equal(value, withHeader.Data[LtdbHeader.Size..]);
        }
    }

    [Fact]
    public void ReplyCallIsSizedLikeTheCStruct()
    {
        // Empty REPLY_CALL from real ctdbd is 48 bytes (sizeof(struct ctdb_reply_call_old)=44, rounded to 8), not 40.
        var empty = new ReplyCall(PacketHeader.Create(Operation.ReplyCall, 0, 0, 1), 0, []).Encode();
        Assert.Equal(48, empty.Length);
        Assert.Equal(40, new ReplyCall(PacketHeader.Create(Operation.ReplyCall, 0, 0, 1), 0, []).Encode(pad: false).Length);
        var five = new ReplyCall(PacketHeader.Create(Operation.ReplyCall, 0, 0, 1), 0, new byte[5]).Encode();
        Assert.Equal(48, five.Length);
    }
}
