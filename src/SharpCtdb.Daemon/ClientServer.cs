using System.Net.Sockets;
using SharpCtdb.Config.Logging;
using SharpCtdb.Daemon.Transport;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>
/// One local client connection: its id, peer pid, srvid registrations and a bounded outgoing queue. The cluster loop
/// reads it when epoll reports input and handles each packet at once (no thread hand-off, as in 4.17's single
/// tevent loop); a client that sends garbage is dropped alone.
/// </summary>
internal sealed class ClientConnection
{
    /// <summary>Outgoing packets a slow client may have queued before it is considered hung and dropped.</summary>
    public const int MaxQueuedPackets = 100_000;

    private readonly Socket _socket;
    private readonly SocketSender _out;
    private SocketPacketReader? _reader;
    private IDisposable? _watch;
    private readonly CancellationTokenSource _life;
    private readonly ClientServer _server;

    public ClientConnection(ClientServer server, Socket socket, uint id, CancellationToken stopping)
    {
        _server = server;
        _socket = socket;
        _out = new SocketSender(socket, MaxQueuedPackets);
        Id = id;
        Pid = Native.PeerPid(socket.Handle);
        _life = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    }

    public uint Id { get; }
    public int Pid { get; }
    /// <summary>Registered srvids (loop thread only).</summary>
    public HashSet<ulong> Srvids { get; } = [];
    public bool Closed { get; private set; }

    public void Enqueue(byte[] packet)
    {
        if (Closed)
            return;
        switch (_out.Send(packet))
        {
            case SendOutcome.Accepted:
                _server.CountSent();
                break;
            case SendOutcome.Overflow:
                _server.Log.Error($"Client {Id} (pid {Pid}) has {MaxQueuedPackets} packets queued; dropping it");
                Close();
                break;
            default:
                // The client went away: its read loop sees that and disconnects it.
                break;
        }
    }

    /// <summary>Drops the connection (loop thread); its removal and clean-up follow as a posted item.</summary>
    public void Close()
    {
        if (Closed)
            return;
        Closed = true;
        _watch?.Dispose(); // before the descriptor is closed: its number may be reused at once
        _out.Complete();
        _life.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Dispose();
        _server.Disconnected(this);
    }

    /// <summary>Starts reading on the loop (loop thread); the writer task runs until the connection closes.</summary>
    public Task Start(LoopContext loop)
    {
        _reader = new SocketPacketReader(_socket, _server.MaxPacketSize);
        _watch = loop.Watch(_socket, OnReadable);
        if (_watch is null)
            Close(); // the loop has ended: we are shutting down
        return WriteLoopAsync();
    }

    /// <summary>Input or an error on the socket (loop thread): handle every whole packet that arrived.</summary>
    private void OnReadable()
    {
        if (Closed)
            return;
        try
        {
            if (_reader!.ReadAvailable(packet =>
                {
                    _server.Handle(this, packet);
                    return !Closed;
                }) == ReadOutcome.Closed)
                Close();
        }
        catch (ProtocolException e)
        {
            _server.Log.Error($"Client {Id} (pid {Pid}) sent a bad packet ({e.Message}); dropping the client");
            Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Close();
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await _out.RunWriterAsync(_life.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}

/// <summary>The Unix-socket server for local clients (the ctdb tool, smbd, scripts).</summary>
internal sealed class ClientServer
{
    private readonly Socket _listener;
    private readonly ClusterLoop _cluster;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<uint, ClientConnection> _clients = []; // loop thread only
    private uint _nextId;
    private int _count;

    private ClientServer(Socket listener, ClusterLoop cluster, string path)
    {
        _listener = listener;
        _cluster = cluster;
        SocketPath = path;
    }

    public string SocketPath { get; }
    public CtdbLog Log => _cluster.Log;
    public int MaxPacketSize { get; init; } = Wire.MaxPacketSize;
    /// <summary>Connected clients (any thread; used by PING and STATISTICS).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Removes a stale socket file, binds, sets mode 0700 and listens (§1.2). Throws on failure.</summary>
    public static ClientServer Bind(string path, ClusterLoop cluster)
    {
        var dir = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);
        File.Delete(path); // a stale socket from an earlier run; no error when absent
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            s.Listen(100);
        }
        catch
        {
            s.Dispose();
            throw;
        }
        return new ClientServer(s, cluster, path);
    }

    public Task RunAcceptLoopAsync() => Task.Run(async () =>
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket sock;
            try
            {
                sock = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e)
            {
                Log.Error($"accept on the client socket failed: {e.Message}");
                continue;
            }
            var id = Interlocked.Increment(ref _nextId);
            if (id == 0)
                id = Interlocked.Increment(ref _nextId);
            ClientConnection client;
            try
            {
                client = new ClientConnection(this, sock, id, _stopping.Token);
            }
            catch (SocketException e)
            {
                Log.Error($"Dropping a new client: {e.Message}");
                sock.Dispose();
                continue;
            }
            Interlocked.Increment(ref _count);
            _cluster.Loop.Post(() =>
            {
                _clients[client.Id] = client;
                _ = client.Start(_cluster.Loop);
            });
        }
    });

    /// <summary>A packet was queued for a client (loop thread): STATISTICS client_packets_sent.</summary>
    internal void CountSent() => _cluster.CountClientPacketOut();

    /// <summary>A packet from a client (loop thread).</summary>
    internal void Handle(ClientConnection client, byte[] packet)
    {
        try
        {
            _cluster.OnClientPacket(client, packet);
        }
        catch (ProtocolException e)
        {
            Log.Error($"Client {client.Id} (pid {client.Pid}) sent a malformed packet ({e.Message}); dropping the client");
            client.Close();
        }
    }

    /// <summary>The client was closed (loop thread); posted so that callers iterating the clients are not disturbed.</summary>
    internal void Disconnected(ClientConnection client)
    {
        Interlocked.Decrement(ref _count);
        if (_stopping.IsCancellationRequested)
            return; // shutting down: the databases may be gone already
        _cluster.Loop.Post(() =>
        {
            _clients.Remove(client.Id);
            _cluster.OnClientDisconnected(client);
        });
    }

    /// <summary>Delivers a message to every client that registered <paramref name="srvid"/> (or CTDB_SRVID_ALL). Loop thread.</summary>
    public void DeliverMessage(uint srcNode, uint ownPnn, ulong srvid, byte[] data)
    {
        byte[]? packet = null;
        foreach (var c in _clients.Values)
        {
            if (!c.Srvids.Contains(srvid) && !c.Srvids.Contains(Srvid.All))
                continue;
            packet ??= new ReqMessage(PacketHeader.Create(Operation.ReqMessage, ownPnn, srcNode, 0), srvid, data).Encode();
            c.Enqueue(packet);
        }
    }

    /// <summary>Loop thread.</summary>
    public IEnumerable<ClientConnection> Clients => _clients.Values;

    public void Stop()
    {
        _stopping.Cancel();
        _listener.Dispose();
        foreach (var c in _clients.Values.ToList())
            c.Close();
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
        }
    }
}
