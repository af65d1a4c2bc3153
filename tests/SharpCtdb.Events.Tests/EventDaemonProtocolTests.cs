using SharpCtdb.Protocol;
using SharpCtdb.Protocol.EventDaemon;

namespace SharpCtdb.Events.Tests;

public sealed class EventDaemonProtocolTests
{
    // Captured with strace from Debian's ctdb-event: `ctdb-event run 10 legacy takeip eth0 1.2.3.4 24`.
    private static readonly byte[] RealRunRequest = Convert.FromHexString(
        "420000000000000038ffff7f01000000070000006c656761637900070000007461" +
        "6b65697000100000006574683020312e322e332e342032340" + "00a00000000000000");

    // `ctdb-event status legacy monitor`.
    private static readonly byte[] RealStatusRequest = Convert.FromHexString(
        "270000000000000038ffff7f02000000070000006c6567616379000800000" + "06d6f6e69746f7200");

    // Real ctdb-eventd's STATUS reply: summary 3, scripts 01.ok (OK, "ok monitor\n") and 02.fail (3, two lines).
    private static readonly byte[] RealStatusReply = Convert.FromHexString(
        "a80000000000000007000000020000000000000003000000020000000600000030312e6f6b00f616046b00000000e9e1050000000000" +
        "f616046b000000003d17060000000000000000000c0000006f6b206d6f6e69746f720a000800000030322e6661696c00f616046b0000" +
        "00002d19060000000000f616046b000000005d39060000000000030000001a0000006661696c696e67206d6f6e69746f720a65727220" +
        "6c696e650a00");

    [Fact]
    public void DecodesRealRunRequestAndReEncodesIdentically()
    {
        var req = Assert.IsType<EventRunRequest>(EventDaemonRequest.Decode(RealRunRequest));
        Assert.Equal(0x7fffff38u, req.ReqId);
        Assert.Equal("legacy", req.Component);
        Assert.Equal("takeip", req.Event);
        Assert.Equal("eth0 1.2.3.4 24", req.Args);
        Assert.Equal(10u, req.TimeoutSeconds);
        Assert.Equal(EventRunFlags.None, req.Flags);
        Assert.Equal(RealRunRequest, req.Encode());
    }

    [Fact]
    public void DecodesRealStatusRequestAndReEncodesIdentically()
    {
        var req = Assert.IsType<EventStatusRequest>(EventDaemonRequest.Decode(RealStatusRequest));
        Assert.Equal("legacy", req.Component);
        Assert.Equal("monitor", req.Event);
        Assert.Equal(RealStatusRequest, req.Encode());
    }

    [Fact]
    public void DecodesRealStatusReplyAndReEncodesIdentically()
    {
        var reply = EventDaemonReply.Decode(RealStatusReply);
        Assert.Equal(7u, reply.ReqId);
        Assert.Equal(EventDaemonCommand.Status, reply.Command);
        Assert.Equal(0, reply.Result);
        var status = Assert.IsType<EventScriptStatusList>(reply.Status);
        Assert.Equal(3, status.Summary);
        Assert.Equal(2, status.Scripts.Count);
        Assert.Equal("01.ok", status.Scripts[0].Name);
        Assert.Equal(0, status.Scripts[0].Result);
        Assert.Equal("ok monitor\n", status.Scripts[0].Output);
        Assert.Equal(0x6b0416f6L, status.Scripts[0].Begin.Sec);
        Assert.Equal(0x05e1e9L, status.Scripts[0].Begin.Usec);
        Assert.Equal("02.fail", status.Scripts[1].Name);
        Assert.Equal(3, status.Scripts[1].Result);
        Assert.Equal("failing monitor\nerr line\n", status.Scripts[1].Output);
        Assert.Equal(RealStatusReply, reply.Encode());
    }

    [Fact]
    public void RunAndScriptRequestsRoundTrip()
    {
        var run = new EventRunRequest(5, "legacy", "monitor", null, 30, EventRunFlags.RunAll);
        var bytes = run.Encode();
        Assert.Equal(12 + 4 + 11 + 12 + 4 + 4 + 4, bytes.Length); // null args = u32 0
        Assert.Equal(run, EventDaemonRequest.Decode(bytes));

        var script = new EventScriptRequest(6, "legacy", "10.interface", EventScriptAction.Enable);
        Assert.Equal(script, EventDaemonRequest.Decode(script.Encode()));
    }

    [Fact]
    public void ShortRepliesHaveNoStatusBody()
    {
        var reply = new EventDaemonReply(9, EventDaemonCommand.Run, 110);
        var bytes = reply.Encode();
        Assert.Equal(Convert.FromHexString("14000000000000000900000001000000" + "6e000000"), bytes);
        Assert.Equal(reply, EventDaemonReply.Decode(bytes));
        // A failed STATUS carries no list either.
        var failed = new EventDaemonReply(9, EventDaemonCommand.Status, 22);
        Assert.Equal(20, failed.Encode().Length);
        Assert.Null(EventDaemonReply.Decode(failed.Encode()).Status);
    }

    [Fact]
    public void EmptyOutputIsSentAsNullString()
    {
        var s = new EventScriptStatus("10.x", new Timeval(1, 2), new Timeval(3, 4), -8, "");
        var w = new WireWriter();
        s.Write(w);
        Assert.Equal(4 + 5 + 32 + 4 + 4, w.Length);
        var r = new WireReader(w.WrittenSpan);
        Assert.Null(EventScriptStatus.Read(ref r).Output);
    }

    [Fact]
    public void EveryTruncationOfARequestOrReplyIsRejected()
    {
        foreach (var packet in new[] { RealRunRequest, RealStatusRequest })
        {
            for (var n = 0; n < packet.Length; n++)
            {
                var cut = packet[..n];
                Assert.Throws<ProtocolException>(() => EventDaemonRequest.Decode(cut));
                // Even with the length field patched to match, the body is incomplete.
                if (n >= 4)
                {
                    var patched = (byte[])cut.Clone();
                    BitConverter.TryWriteBytes(patched.AsSpan(0, 4), (uint)n);
                    Assert.Throws<ProtocolException>(() => EventDaemonRequest.Decode(patched));
                }
            }
        }
        for (var n = 0; n < RealStatusReply.Length; n++)
        {
            var patched = RealStatusReply[..n];
            if (n >= 4)
                BitConverter.TryWriteBytes(patched.AsSpan(0, 4), (uint)n);
            Assert.Throws<ProtocolException>(() => EventDaemonReply.Decode(patched));
        }
    }

    [Fact]
    public void MalformedRequestsAreRejected()
    {
        // Unknown command.
        var bad = (byte[])RealStatusRequest.Clone();
        bad[12] = 9;
        Assert.Throws<ProtocolException>(() => EventDaemonRequest.Decode(bad));
        // A string without its NUL (the 4.17 daemon drops such a client too).
        var noNul = (byte[])RealStatusRequest.Clone();
        noNul[^1] = (byte)'x';
        Assert.Throws<ProtocolException>(() => EventDaemonRequest.Decode(noNul));
        // Length field larger than the data.
        var longer = (byte[])RealStatusRequest.Clone();
        longer[0] = 0xff;
        Assert.Throws<ProtocolException>(() => EventDaemonRequest.Decode(longer));
        // Absurd script count in a reply.
        var reply = (byte[])RealStatusReply.Clone();
        reply[24] = 0xff;
        reply[25] = 0xff;
        Assert.Throws<ProtocolException>(() => EventDaemonReply.Decode(reply));
    }

    [Fact]
    public void TrailingBytesAndAnyVersionAreToleratedLike417()
    {
        var extra = new byte[RealStatusRequest.Length + 4];
        RealStatusRequest.CopyTo(extra, 0);
        BitConverter.TryWriteBytes(extra.AsSpan(0, 4), (uint)extra.Length);
        extra[4] = 99; // version
        var req = Assert.IsType<EventStatusRequest>(EventDaemonRequest.Decode(extra));
        Assert.Equal("monitor", req.Event);
    }

    [Fact]
    public void NullComponentDecodesSoTheServerCanAnswerEinval()
    {
        var req = new EventStatusRequest(1, null, "monitor");
        var decoded = Assert.IsType<EventStatusRequest>(EventDaemonRequest.Decode(req.Encode()));
        Assert.Null(decoded.Component);
    }

    [Fact]
    public async Task FramingReadsWholePacketsAndRejectsBadLengths()
    {
        var two = RealStatusRequest.Concat(RealRunRequest).ToArray();
        using var ms = new MemoryStream(two);
        Assert.Equal(RealStatusRequest, await EventDaemonFraming.ReadPacketAsync(ms, EventDaemonRequest.MinimumSize, TestContext.Current.CancellationToken));
        Assert.Equal(RealRunRequest, await EventDaemonFraming.ReadPacketAsync(ms, EventDaemonRequest.MinimumSize, TestContext.Current.CancellationToken));
        Assert.Null(await EventDaemonFraming.ReadPacketAsync(ms, EventDaemonRequest.MinimumSize, TestContext.Current.CancellationToken));

        using var huge = new MemoryStream([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]);
        await Assert.ThrowsAsync<ProtocolException>(async () => await EventDaemonFraming.ReadPacketAsync(huge, 16, TestContext.Current.CancellationToken));
        using var tiny = new MemoryStream([3, 0, 0, 0]);
        await Assert.ThrowsAsync<ProtocolException>(async () => await EventDaemonFraming.ReadPacketAsync(tiny, 16, TestContext.Current.CancellationToken));
        using var cut = new MemoryStream(RealRunRequest[..20]);
        await Assert.ThrowsAsync<ProtocolException>(async () => await EventDaemonFraming.ReadPacketAsync(cut, 16, TestContext.Current.CancellationToken));
    }
}
