using System.Buffers.Binary;
using System.Net.Sockets;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Tests.Cluster;

/// <summary>A one-node cluster (127.0.97.0/24) whose client socket is attacked with bad packets.</summary>
public sealed class SingleNodeCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; } = new(1, "127.0.97");

    public async ValueTask InitializeAsync()
    {
        Cluster.StartAll();
        await Cluster.WaitHealthyAsync([0], 1);
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}

public sealed class ClientSocketTests(SingleNodeCluster fixture) : IClassFixture<SingleNodeCluster>
{
    private readonly TestCluster _c = fixture.Cluster;

    private Socket Connect()
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(_c.SocketPath(0)));
        return s;
    }

    private static byte[] GetPnnRequest(uint reqid) => new ReqControl(
        PacketHeader.Create(Operation.ReqControl, Pnn.CurrentNode, Pnn.Unknown, reqid), ControlOpcode.GetPnn, 0, 0, 0, []).Encode();

    private static async Task<byte[]?> ReadPacketAsync(Socket s, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await using var stream = new NetworkStream(s, ownsSocket: false);
        try
        {
            return await new PacketStreamReader(stream).ReadPacketAsync(cts.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ProtocolException)
        {
            return null;
        }
    }

    /// <summary>True once the daemon has closed the connection (read returns EOF or reset).</summary>
    private static async Task<bool> ClosedByDaemonAsync(Socket s)
    {
        var buf = new byte[64];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            while (true)
            {
                var n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token);
                if (n == 0)
                    return true;
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task AssertStillServesAsync(Socket other)
    {
        await other.SendAsync(GetPnnRequest(77), SocketFlags.None);
        var reply = await ReadPacketAsync(other, TimeSpan.FromSeconds(20));
        Assert.NotNull(reply);
        var r = ReplyControl.Decode(reply);
        Assert.Equal(77u, r.Header.ReqId);
        Assert.Equal(0, r.Status); // GET_PNN of node 0
        Assert.Equal("0\n", (await _c.CtdbAsync(0, "pnn")).Stdout);
    }

    public static TheoryData<string, byte[]> BadPackets()
    {
        var wrongMagic = GetPnnRequest(1);
        BinaryPrimitives.WriteUInt32LittleEndian(wrongMagic.AsSpan(4), 0xDEADBEEF);
        var absurd = GetPnnRequest(2);
        BinaryPrimitives.WriteUInt32LittleEndian(absurd, 0x7FFFFFF0);
        var tooShortLength = GetPnnRequest(3);
        BinaryPrimitives.WriteUInt32LittleEndian(tooShortLength, 8);
        var lyingDatalen = GetPnnRequest(4);
        BinaryPrimitives.WriteUInt32LittleEndian(lyingDatalen.AsSpan(56), 100_000); // control datalen beyond the packet
        var garbage = new byte[64];
        new Random(42).NextBytes(garbage);
        return new TheoryData<string, byte[]>
        {
            { "garbage", garbage },
            { "wrong magic", wrongMagic },
            { "absurd length", absurd },
            { "length shorter than header", tooShortLength },
            { "control datalen beyond packet", lyingDatalen },
        };
    }

    [Theory]
    [MemberData(nameof(BadPackets))]
    public async Task BadClientIsDroppedOthersAreServed(string what, byte[] packet)
    {
        using var good = Connect();
        using var bad = Connect();
        await bad.SendAsync(packet, SocketFlags.None);
        Assert.True(await ClosedByDaemonAsync(bad), $"daemon kept a client that sent {what}");
        await AssertStillServesAsync(good);
    }

    [Fact]
    public async Task TruncatedPacketThenCloseDoesNotDisturbOthers()
    {
        using var good = Connect();
        using (var bad = Connect())
        {
            var p = GetPnnRequest(5);
            await bad.SendAsync(p.AsMemory(0, 40), SocketFlags.None); // header promises 64 bytes
            bad.Shutdown(SocketShutdown.Send);
            Assert.True(await ClosedByDaemonAsync(bad));
        }
        await AssertStillServesAsync(good);
    }

    [Fact]
    public async Task NodeOnlyOperationFromClientIsIgnoredNotAnswered()
    {
        using var s = Connect();
        var keepalive = new ReqKeepalive(PacketHeader.Create(Operation.ReqKeepalive, 0, 0, 9), 0x00040011, 1, false).Encode();
        await s.SendAsync(keepalive, SocketFlags.None);
        await AssertStillServesAsync(s); // same connection still works, no reply to the keepalive arrived first
    }

    [Fact]
    public void SocketIsOwnerOnly()
    {
        var mode = File.GetUnixFileMode(_c.SocketPath(0));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, mode);
    }

    [Fact]
    public async Task PingCountsConnectedClients()
    {
        using var a = Connect();
        using var b = Connect();
        await AssertStillServesAsync(a);
        await AssertStillServesAsync(b);
        var ping = await _c.CtdbAsync(0, "ping");
        // a, b and the tool itself at least
        var m = System.Text.RegularExpressions.Regex.Match(ping.Stdout, @"\((\d+) clients\)");
        Assert.True(m.Success, ping.Stdout);
        Assert.True(int.Parse(m.Groups[1].Value) >= 3, ping.Stdout);
    }

    [Fact]
    public async Task ProcessExistsUsesPeerPids()
    {
        var own = await _c.CtdbAsync(0, "process-exists", Environment.ProcessId.ToString());
        Assert.Equal($"PID {Environment.ProcessId} exists\n", own.Stdout);
        var none = await _c.CtdbAsync(0, "process-exists", "999999");
        Assert.Equal("PID 999999 does not exist\n", none.Stdout);
        Assert.Equal(1, none.ExitCode);
    }
}
