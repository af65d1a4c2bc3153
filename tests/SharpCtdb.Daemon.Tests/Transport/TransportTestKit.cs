using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SharpCtdb.Config.Logging;
using SharpCtdb.Daemon.Transport;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Tests.Transport;

/// <summary>Collects a transport's events for assertions.</summary>
internal sealed class EventLog
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public ConcurrentQueue<(uint Pnn, TimeSpan At)> Connected { get; } = new();
    public ConcurrentQueue<(uint Pnn, string Reason, TimeSpan At)> Disconnected { get; } = new();
    public ConcurrentQueue<(uint Pnn, byte[] Packet)> Packets { get; } = new();
    public ConcurrentQueue<(uint Pnn, ReqKeepalive Keepalive)> Keepalives { get; } = new();

    /// <summary>Every event in arrival order, e.g. "C1", "D1:connection closed".</summary>
    public ConcurrentQueue<string> Sequence { get; } = new();

    public TimeSpan Now => _clock.Elapsed;

    public void Attach(NodeTransport t)
    {
        t.PeerConnected += pnn =>
        {
            Connected.Enqueue((pnn, Now));
            Sequence.Enqueue($"C{pnn}");
        };
        t.PeerDisconnected += (pnn, reason) =>
        {
            Disconnected.Enqueue((pnn, reason, Now));
            Sequence.Enqueue($"D{pnn}:{reason}");
        };
        t.PacketReceived += (pnn, p) => Packets.Enqueue((pnn, p));
        t.KeepaliveReceived += (pnn, k) => Keepalives.Enqueue((pnn, k));
    }

    public int ConnectedCount(uint pnn) => Connected.Count(c => c.Pnn == pnn);
    public int DisconnectedCount(uint pnn) => Disconnected.Count(c => c.Pnn == pnn);
}

/// <summary>A set of in-process transports on loopback addresses of one test.</summary>
internal sealed class TransportCluster : IAsyncDisposable
{
    public const int Port = 4379;

    private readonly List<NodeTransport?> _transports = [];

    public TransportCluster(params string[] addresses)
    {
        Nodes = addresses.Select((a, i) => new TransportNode((uint)i, IPAddress.Parse(a), false)).ToList();
        foreach (var _ in Nodes)
        {
            _transports.Add(null);
            Events.Add(new EventLog());
        }
    }

    public List<TransportNode> Nodes { get; }
    public List<EventLog> Events { get; } = [];
    public uint KeepaliveInterval { get; set; } = 1;
    public uint KeepaliveLimit { get; set; } = 10;

    public NodeTransport this[int pnn] => _transports[pnn] ?? throw new InvalidOperationException($"node {pnn} not running");

    public NodeTransportOptions OptionsFor(int pnn) => new()
    {
        OwnPnn = (uint)pnn,
        OwnAddress = Nodes[pnn].Address,
        Nodes = Nodes,
        Port = Port,
        KeepaliveIntervalSeconds = () => KeepaliveInterval,
        KeepaliveLimit = () => KeepaliveLimit,
        UptimeSeconds = () => 42,
        Generation = () => 0x1234,
    };

    public async Task<NodeTransport> StartAsync(int pnn, EventLog? events = null)
    {
        var t = new NodeTransport(OptionsFor(pnn), TestLog.For($"node{pnn}"));
        (events ?? Events[pnn]).Attach(t);
        await t.StartAsync(TestContext.Current.CancellationToken);
        _transports[pnn] = t;
        return t;
    }

    public async Task StartAllAsync()
    {
        for (var i = 0; i < Nodes.Count; i++)
            await StartAsync(i);
    }

    public async Task StopAsync(int pnn)
    {
        var t = _transports[pnn];
        _transports[pnn] = null;
        if (t != null)
            await t.DisposeAsync();
    }

    public async Task WaitAllConnectedAsync()
    {
        await Wait.UntilAsync(() => Enumerable.Range(0, Nodes.Count).All(i =>
            _transports[i] == null || _transports[i]!.ConnectedPeers.Count == Nodes.Count - 1),
            "every node connected to every other node");
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _transports.Count; i++)
            await StopAsync(i);
    }
}

internal static class Wait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        var sw = Stopwatch.StartNew();
        var limit = deadline ?? Deadline;
        while (!condition())
        {
            if (sw.Elapsed > limit)
                throw new TimeoutException($"timed out after {limit.TotalSeconds:0} s waiting for: {what}");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>For conditions that are expensive to check (they run a process): polled every 500 ms.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan deadline)
    {
        var sw = Stopwatch.StartNew();
        while (!await condition())
        {
            if (sw.Elapsed > deadline)
                throw new TimeoutException($"timed out after {deadline.TotalSeconds:0} s waiting for: {what}");
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
    }
}

internal static class TestLog
{
    /// <summary>Transport log lines go to the test output, which helps when a timing test fails.</summary>
    public static CtdbLog For(string name) => new(name, new OutputSink(), (int)DebugLevel.Info);

    public static void Line(string text) => TestContext.Current.TestOutputHelper?.WriteLine(text);

    private sealed class OutputSink : ILogSink
    {
        private readonly ITestOutputHelper? _output = TestContext.Current.TestOutputHelper;

        public void Write(DebugLevel level, string line)
        {
            try
            {
                _output?.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
                // The test already finished; late background lines are dropped.
            }
        }
    }
}

/// <summary>A hand-driven peer made of raw sockets: it accepts the transport's outgoing connection and opens its
/// own connection to the transport, and sends only what the test tells it to.</summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    public RawPeer(string address, int port = TransportCluster.Port, bool dropAccepted = false, bool readAccepted = true)
    {
        _dropAccepted = dropAccepted;
        _readAccepted = readAccepted;
        Address = IPAddress.Parse(address);
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(Address, port));
        _listener.Listen(10);
        _acceptLoop = AcceptLoopAsync();
    }

    public IPAddress Address { get; }

    /// <summary>Connections the transport made to us, and the packets it sent on them.</summary>
    public ConcurrentQueue<Socket> Accepted { get; } = new();
    public ConcurrentQueue<byte[]> Received { get; } = new();

    /// <summary>Number of accepted connections that the transport has closed (we read EOF).</summary>
    public int AcceptedClosed => _acceptedClosed;

    private readonly bool _dropAccepted;
    private readonly bool _readAccepted;
    private int _acceptedClosed;

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var s = await _listener.AcceptAsync(_stop.Token);
                Accepted.Enqueue(s);
                if (_dropAccepted)
                {
                    s.Dispose();
                    Interlocked.Increment(ref _acceptedClosed);
                    continue;
                }
                if (_readAccepted)
                    _ = ReadAsync(s);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ReadAsync(Socket s)
    {
        try
        {
            await using var stream = new NetworkStream(s, ownsSocket: false);
            var reader = new PacketStreamReader(stream);
            while (await reader.ReadPacketAsync(_stop.Token) is { } p)
                Received.Enqueue(p);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException or ProtocolException)
        {
        }
        Interlocked.Increment(ref _acceptedClosed);
    }

    /// <summary>Opens a connection to <paramref name="target"/> from our address, as a node's outgoing connection would.</summary>
    public async Task<Socket> ConnectAsync(IPAddress target, IPAddress? from = null, int port = TransportCluster.Port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(from ?? Address, 0));
        await s.ConnectAsync(new IPEndPoint(target, port), TestContext.Current.CancellationToken);
        return s;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        await _acceptLoop;
        while (Accepted.TryDequeue(out var s))
            s.Dispose();
    }
}

internal static class Packets
{
    /// <summary>A REQ_MESSAGE carrying <paramref name="payload"/>; srvid = sequence number for order checks.</summary>
    public static byte[] Message(uint dest, uint src, ulong seq, byte[] payload) =>
        new ReqMessage(PacketHeader.Create(Operation.ReqMessage, dest, src, 0), seq, payload).Encode();

    public static ReqMessage Decode(byte[] p) => ReqMessage.Decode(p);

    /// <summary>True when the peer closed the socket (we read EOF or a reset) within the deadline.</summary>
    public static async Task<bool> SeesEofAsync(Socket s, TimeSpan deadline)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(deadline);
        var buf = new byte[4096];
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
}
