using System.Net;

namespace SharpCtdb.Daemon.Transport;

/// <summary>One line of the nodes file as the transport sees it.</summary>
public sealed record TransportNode(uint Pnn, IPAddress Address, bool Deleted);

/// <summary>Settings of the node-to-node TCP transport. The Func members are read at every use so that
/// `ctdb setvar` changes apply without a restart.</summary>
public sealed class NodeTransportOptions
{
    public required uint OwnPnn { get; init; }
    public required IPAddress OwnAddress { get; init; }

    /// <summary>Every node of the nodes file (index = pnn); deleted nodes are kept with <c>Deleted = true</c>.</summary>
    public required IReadOnlyList<TransportNode> Nodes { get; init; }

    public int Port { get; init; } = 4379;
    public required Func<uint> KeepaliveIntervalSeconds { get; init; }
    public required Func<uint> KeepaliveLimit { get; init; }

    /// <summary>(major &lt;&lt; 16) | minor of the Samba version we claim; 4.17 by default.</summary>
    public uint KeepaliveVersion { get; init; } = 0x00040011;

    public required Func<uint> UptimeSeconds { get; init; }

    /// <summary>vnnmap generation written into the header of packets the transport originates (keepalives).</summary>
    public Func<uint> Generation { get; init; } = () => 0;

    /// <summary>Packets that may wait in one peer's send queue before the connection is dropped as stuck.</summary>
    public int SendQueueMaxPackets { get; init; } = 100_000;

    /// <summary>Bytes that may wait in one peer's send queue before the connection is dropped as stuck.</summary>
    public long SendQueueMaxBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>A connect attempt that has not completed by then is abandoned and retried at once.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Pause after a failed connect attempt (refused, unreachable) before the next one.</summary>
    public TimeSpan ConnectRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Where events run. Null: on the transport's own dispatcher task. Otherwise each event is handed, in order, to
    /// this (the daemon passes its loop's Post, saving one thread hand-off per received packet); it must not block.
    /// </summary>
    public Action<Action>? EventSink { get; init; }

    /// <summary>
    /// Who reads incoming connections. Null: a task per connection. Otherwise the event loop that owns
    /// <see cref="EventSink"/>: this registers a socket and a callback it runs on its thread whenever the socket has
    /// input (returns the registration, disposed before the socket is closed; null when the loop has ended). Received
    /// packets then reach the loop with no thread hand-off at all.
    /// </summary>
    public Func<System.Net.Sockets.Socket, Action, IDisposable?>? ReadOn { get; init; }

    /// <summary>Largest packet accepted from a peer; larger declared lengths mark the peer as dead.</summary>
    public int MaxPacketSize { get; init; } = SharpCtdb.Protocol.Wire.MaxPacketSize;
}

/// <summary>The listening socket could not be bound (address not local, or already in use).</summary>
public sealed class TransportBindException(string message, Exception? inner = null) : IOException(message, inner);
