using SharpCtdb.Daemon.Transport;

namespace SharpCtdb.Daemon;

/// <summary>Adapts D1's <see cref="NodeTransport"/> to the loop: every transport event is posted into the loop.</summary>
internal sealed class PeerNetwork : IPeerNetwork
{
    private readonly NodeTransport _transport;
    private readonly ClusterLoop _cluster;

    public PeerNetwork(NodeTransport transport, ClusterLoop cluster)
    {
        _transport = transport;
        _cluster = cluster;
        var loop = cluster.Loop;
        transport.PeerConnected += pnn => loop.Post(() => cluster.OnPeerConnected(pnn));
        transport.PeerDisconnected += (pnn, reason) => loop.Post(() => cluster.OnPeerDisconnected(pnn, reason));
        transport.PacketReceived += (pnn, packet) => loop.Post(() => cluster.OnPeerPacket(pnn, packet));
        transport.KeepaliveReceived += (pnn, keepalive) => loop.Post(() => cluster.OnKeepalive(pnn, keepalive));
        transport.KeepalivesSent += n => loop.Post(() => cluster.CountKeepalivesOut(n));
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
