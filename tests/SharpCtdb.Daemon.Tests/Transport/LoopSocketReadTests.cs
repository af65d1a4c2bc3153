using System.Net.Sockets;
using SharpCtdb.Daemon.Transport;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Tests.Transport;

/// <summary>The cluster loop reading a socket itself (LoopContext.Watch + SocketPacketReader), as for clients and peers.</summary>
public sealed class LoopSocketReadTests
{
    private static byte[] Packet(uint reqId, int bodyBytes) =>
        PacketBuilder.Build(PacketHeader.Create(Operation.ReqCall, 1, 0, reqId), w => w.Bytes(Enumerable.Range(0, bodyBytes).Select(i => (byte)(i + reqId)).ToArray()));

    /// <summary>
    /// Packets split at every possible boundary, many in one write, and one larger than the read buffer must all reach
    /// the handler whole, in order and on the loop thread; the peer's close then reads as a clean end.
    /// </summary>
    [Fact]
    public async Task Packets_ArriveWholeAndInOrder_OnTheLoopThread()
    {
        var ct = TestContext.Current.CancellationToken;
        var (a, b) = SocketSenderTests.Pair();
        using var _a = a;
        using var _b = b;
        var loop = new LoopContext(e => Assert.Fail(e.ToString()));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        loop.Start(stop.Token);
        var sent = new List<byte[]> { Packet(1, 8), Packet(2, 200_000) };
        sent.AddRange(Enumerable.Range(3, 300).Select(i => Packet((uint)i, i % 50)));
        var received = new List<byte[]>();
        var offLoop = 0;
        var ended = new TaskCompletionSource<ReadOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = new SocketPacketReader(b, Wire.MaxPacketSize);
        IDisposable? watch = null;
        watch = loop.Watch(b, () =>
        {
            var outcome = reader.ReadAvailable(p =>
            {
                if (!loop.IsLoopThread)
                    offLoop++;
                received.Add(p);
                return true;
            });
            if (outcome != ReadOutcome.More)
            {
                watch!.Dispose();
                ended.TrySetResult(outcome);
            }
        });
        Assert.NotNull(watch);

        // The first packet a byte at a time (every partial header/body state), the rest in one write.
        foreach (var x in sent[0])
        {
            a.Send([x]);
            await Task.Yield();
        }
        a.Send(sent.Skip(1).SelectMany(p => p).ToArray());
        a.Shutdown(SocketShutdown.Send);

        Assert.Equal(ReadOutcome.Closed, await ended.Task.WaitAsync(TimeSpan.FromSeconds(60), ct));
        var got = await loop.InvokeAsync(() => received.ToList());
        Assert.Equal(0, offLoop);
        Assert.Equal(sent.Count, got.Count);
        for (var i = 0; i < sent.Count; i++)
            Assert.Equal(sent[i], got[i]);
        stop.Cancel();
    }

    [Fact]
    public async Task BadMagic_IsRejected_AndAStreamEndingMidPacket_IsAnError()
    {
        var (a, b) = SocketSenderTests.Pair();
        using var _a = a;
        using var _b = b;
        var reader = new SocketPacketReader(b, Wire.MaxPacketSize);
        var garbage = Packet(1, 8);
        garbage[4] ^= 0xff;
        a.Send(garbage);
        await Wait.UntilAsync(() => b.Available > 0, "data arrived");
        Assert.Throws<ProtocolException>(() => reader.ReadAvailable(_ => true));

        var (c, d) = SocketSenderTests.Pair();
        using var _c = c;
        using var _d = d;
        var half = new SocketPacketReader(d, Wire.MaxPacketSize);
        c.Send(Packet(1, 8).AsSpan(0, 20));
        c.Shutdown(SocketShutdown.Send);
        await Wait.UntilAsync(() => d.Available > 0, "data arrived");
        Assert.Equal(ReadOutcome.More, half.ReadAvailable(_ => true));
        Assert.Throws<ProtocolException>(() => half.ReadAvailable(_ => true));
    }
}
