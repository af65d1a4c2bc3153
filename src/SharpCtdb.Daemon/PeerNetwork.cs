using SharpCtdb.Daemon.Transport;

namespace SharpCtdb.Daemon;

/// <summary>Adapts D1's <see cref="NodeTransport"/> to the loop: every transport event runs on the loop.</summary>
internal sealed class PeerNetwork : IPeerNetwork
{
    private readonly NodeTransport _transport;
    private readonly ClusterLoop _cluster;

    public PeerNetwork(NodeTransport transport, ClusterLoop cluster)
    {
        _transport = transport;
        _cluster = cluster;
        transport.PeerConnected += pnn => OnLoop(() => cluster.OnPeerConnected(pnn));
        transport.PeerDisconnected += (pnn, reason) => OnLoop(() => cluster.OnPeerDisconnected(pnn, reason));
        transport.PacketReceived += (pnn, packet) => OnLoop(() => cluster.OnPeerPacket(pnn, packet));
        transport.KeepaliveReceived += (pnn, keepalive) => OnLoop(() => cluster.OnKeepalive(pnn, keepalive));
        transport.KeepalivesSent += n => OnLoop(() => cluster.CountKeepalivesOut(n));
    }

    /// <summary>The transport's events arrive on the loop already when its EventSink is the loop; else post them.</summary>
    private void OnLoop(Action action)
    {
        if (_cluster.Loop.IsLoopThread)
            action();
        else
            _cluster.Loop.Post(action);
    }

    public Task StartAsync(CancellationToken ct) => _transport.StartAsync(ct);

    /// <summary>Sends on the loop thread; counted for STATISTICS when the transport took it.</summary>
    public bool Send(uint pnn, byte[] packet)
    {
        var sent = _transport.Send(pnn, packet);
        if (sent)
            _cluster.CountNodePacketOut();
        return sent;
    }

    public void ReloadNodes(IReadOnlyList<TransportNode> nodes) => _transport.ReloadNodes(nodes);

    public bool IsConnected(uint pnn) => _transport.IsConnected(pnn);

    public ValueTask DisposeAsync() => _transport.DisposeAsync();
}
