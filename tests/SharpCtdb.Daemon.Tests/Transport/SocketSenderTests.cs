using System.Net.Sockets;
using SharpCtdb.Daemon.Transport;

namespace SharpCtdb.Daemon.Tests.Transport;

public sealed class SocketSenderTests
{
    /// <summary>
    /// A reader that is not reading fills the kernel buffers, so later sends are queued (some after a partial direct
    /// write); once it reads, every byte must arrive exactly once and in send order, and direct writes must resume.
    /// </summary>
    [Fact]
    public async Task DirectAndQueuedWrites_KeepTheOrder_WhenTheKernelBufferFills()
    {
        var ct = TestContext.Current.CancellationToken;
        var (a, b) = Pair();
        using var _a = a;
        using var _b = b;
        var sender = new SocketSender(a, maxPackets: 10_000);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var writer = sender.RunWriterAsync(stop.Token);

        // Packets of varying sizes whose bytes encode (packet index, offset): any loss, duplicate or reordering shows.
        var sent = new List<byte[]>();
        for (var i = 0; i < 400; i++)
        {
            var p = new byte[1 + (i * 7919 % 20_000)];
            for (var j = 0; j < p.Length; j++)
                p[j] = (byte)(i + j);
            sent.Add(p);
            Assert.Equal(SendOutcome.Accepted, sender.Send(p));
        }
        Assert.True(sender.QueuedBytes > 0, "the test must overflow the kernel buffers to reach the queued path");

        var expected = sent.SelectMany(p => p).ToArray();
        var received = new byte[expected.Length];
        var got = 0;
        while (got < received.Length)
            got += await b.ReceiveAsync(received.AsMemory(got), SocketFlags.None, ct);
        Assert.Equal(expected, received);

        // Backlog drained: the next packet goes out directly, still after everything before it.
        await Wait.UntilAsync(() => sender.QueuedBytes == 0, "queue drained");
        Assert.Equal(SendOutcome.Accepted, sender.Send([42, 43]));
        var tail = new byte[2];
        Assert.Equal(2, await b.ReceiveAsync(tail, SocketFlags.None, ct));
        Assert.Equal([42, 43], tail);

        sender.Complete();
        await writer;
    }

    [Fact]
    public void Send_OnAClosedPeer_Fails()
    {
        var (a, b) = Pair();
        using var _a = a;
        b.Dispose();
        var sender = new SocketSender(a, maxPackets: 10);
        // The first write may still be accepted by the kernel before the reset is seen; a later one must fail.
        var outcomes = Enumerable.Range(0, 20).Select(_ => sender.Send(new byte[1024])).ToList();
        Assert.Contains(SendOutcome.Failed, outcomes);
    }

    internal static (Socket A, Socket B) Pair()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sc-sender-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var a = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        a.Connect(new UnixDomainSocketEndPoint(path));
        var b = listener.Accept();
        File.Delete(path);
        return (a, b);
    }
}
