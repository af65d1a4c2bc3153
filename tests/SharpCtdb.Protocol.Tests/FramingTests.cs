namespace SharpCtdb.Protocol.Tests;

public class FramingTests
{
    // Bytes the real 4.17 tool sends for `ctdb pnn` (GET_PNN to CTDB_CURRENT_NODE), from protocol.md §1.7.
    private static readonly byte[] GetPnnFromTool = Convert.FromHexString(
        "40000000424454430100000000000000070000000100" + "00f0ffffffff38ffff7f" +
        "23000000000000000000000000000000000000000000000000000000" + "00000000");

    [Fact]
    public void DecodesRealToolGetPnn()
    {
        var c = ReqControl.Decode(GetPnnFromTool);
        Assert.Equal(64u, c.Header.Length);
        Assert.Equal(Operation.ReqControl, c.Header.Operation);
        Assert.Equal(Pnn.CurrentNode, c.Header.DestNode);
        Assert.Equal(Pnn.Unknown, c.Header.SrcNode);
        Assert.Equal(0x7FFFFF38u, c.Header.ReqId);
        Assert.Equal(ControlOpcode.GetPnn, c.Opcode);
        Assert.Empty(c.Data);
    }

    [Fact]
    public void EncodesTheSameBytesWithPadding()
    {
        var c = ReqControl.Decode(GetPnnFromTool);
        Assert.Equal(GetPnnFromTool, c.Encode());
    }

    [Fact]
    public void UnpaddedEncodingMatchesSmbdStyleLength()
    {
        var c = ReqControl.Decode(GetPnnFromTool);
        Assert.Equal(60, c.Encode(pad: false).Length);
    }

    [Fact]
    public void TruncatedControlIsRejected()
    {
        var bad = GetPnnFromTool.AsSpan(0, 40).ToArray();
        Assert.Throws<ProtocolException>(() => ReqControl.Decode(bad));
    }

    [Fact]
    public void DatalenBeyondPacketIsRejected()
    {
        var bad = (byte[])GetPnnFromTool.Clone();
        bad[56] = 0xFF; // datalen
        Assert.Throws<ProtocolException>(() => ReqControl.Decode(bad));
    }

    [Fact]
    public async Task StreamReaderSplitsPacketsAndRejectsBadMagic()
    {
        var two = GetPnnFromTool.Concat(GetPnnFromTool).ToArray();
        var r = new PacketStreamReader(new MemoryStream(two));
        Assert.Equal(64, (await r.ReadPacketAsync())!.Length);
        Assert.Equal(64, (await r.ReadPacketAsync())!.Length);
        Assert.Null(await r.ReadPacketAsync());

        var bad = (byte[])GetPnnFromTool.Clone();
        bad[4] = 0;
        var r2 = new PacketStreamReader(new MemoryStream(bad));
        await Assert.ThrowsAsync<ProtocolException>(async () => await r2.ReadPacketAsync());
    }

    [Fact]
    public async Task StreamReaderRejectsAbsurdLengthBeforeReadingBody()
    {
        var bad = (byte[])GetPnnFromTool.Clone();
        bad[0] = 0xFF; bad[1] = 0xFF; bad[2] = 0xFF; bad[3] = 0x7F;
        var r = new PacketStreamReader(new MemoryStream(bad));
        var ex = await Assert.ThrowsAsync<ProtocolException>(async () => await r.ReadPacketAsync());
        Assert.Contains("exceeds", ex.Message);
    }
}
