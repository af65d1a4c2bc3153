using System.Net;
using System.Net.Sockets;

namespace SharpCtdb.Daemon.Transport;

/// <summary>Transport state of one other node. Mutable fields are guarded by the transport's lock.</summary>
internal sealed class Peer(uint pnn, IPAddress address, CancellationToken transportStopping)
{
    public uint Pnn { get; } = pnn;
    public IPAddress Address { get; } = address;

    /// <summary>Cancelled when the node is removed by reloadnodes or the transport stops.</summary>
    public CancellationTokenSource Life { get; } = CancellationTokenSource.CreateLinkedTokenSource(transportStopping);

    public OutgoingConnection? Out { get; set; }
    public IncomingConnection? In { get; set; }
    public bool Connected { get; set; }

    /// <summary>TimeProvider timestamp of the last packet that proves the peer alive (or of the connect).</summary>
    public long LastRx { get; set; }

    public Task ConnectLoop { get; set; } = Task.CompletedTask;
    public bool Removed { get; set; }

    public override string ToString() => $"node {Pnn} ({Address})";
}

/// <summary>The socket we connected to a peer; we only ever write to it.</summary>
internal sealed class OutgoingConnection
{
    public OutgoingConnection(Socket socket, int maxPackets, long maxBytes)
    {
        Socket = socket;
        Sender = new SocketSender(socket, maxPackets, maxBytes);
    }

    public Socket Socket { get; }
    public SocketSender Sender { get; }

    /// <summary>Completed when the connection is torn down, so the connect loop starts the next attempt.</summary>
    public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CancellationTokenSource Stop { get; } = new();

    /// <summary>TimeProvider timestamp of the connect; used to throttle peers that accept and drop us at once.</summary>
    public long EstablishedAt { get; init; }

    /// <summary>The peer became connected (both directions) while this socket was its outgoing connection.</summary>
    public bool EverConnected { get; set; }

    public Task Writer { get; set; } = Task.CompletedTask;
    public Task Watcher { get; set; } = Task.CompletedTask;

    /// <summary>Closes the socket at once (the peer reads EOF) and stops both tasks.</summary>
    public void Close()
    {
        Sender.Complete();
        Stop.Cancel();
        Socket.Dispose();
        Closed.TrySetResult();
    }
}

/// <summary>The socket a peer connected to us; we only ever read from it.</summary>
internal sealed class IncomingConnection(Socket socket, EndPoint? remote)
{
    public Socket Socket { get; } = socket;
    public EndPoint? Remote { get; } = remote;
    public CancellationTokenSource Stop { get; } = new();
    public Task Reader { get; set; } = Task.CompletedTask;

    /// <summary>The event loop's watch when the loop reads this socket (<see cref="NodeTransportOptions.ReadOn"/>).</summary>
    public IDisposable? Watch { get; set; }

    public void Close()
    {
        Watch?.Dispose(); // before the descriptor is closed: its number may be reused at once
        Stop.Cancel();
        Socket.Dispose();
    }
}
