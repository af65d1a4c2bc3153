using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Transport;

/// <summary>
/// CTDB's node-to-node TCP transport: one outgoing connection to every other node (we only write to it) and one
/// incoming connection from every other node (we only read from it). A peer is connected while both exist;
/// EOF, a reset, a bad packet, a stuck send queue or KeepaliveInterval × KeepaliveLimit of silence make it dead: both
/// sockets are closed and reconnection starts at once. Events are delivered one at a time, in order, from a
/// single dispatcher task (or through <see cref="NodeTransportOptions.EventSink"/>), never while a lock is held.
/// Sends are written straight to the socket when nothing is queued before them (<see cref="SocketSender"/>).
/// </summary>
public sealed class NodeTransport : IAsyncDisposable
{
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;
    private const int ListenBacklog = 10;

    private readonly NodeTransportOptions _options;
    private readonly CtdbLog _log;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, Peer> _peers = [];
    private readonly Channel<Action> _events = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _keepaliveLoop = Task.CompletedTask;
    private Task _eventLoop = Task.CompletedTask;
    private bool _started;
    private volatile bool _disposed;
    private volatile bool _keepalivesPaused;
    private volatile int _dispatcherThread = -1;

    public NodeTransport(NodeTransportOptions options, CtdbLog log, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _log = log ?? CtdbLog.Null;
        _time = time ?? TimeProvider.System;
        foreach (var node in options.Nodes)
        {
            if (IsPeer(node))
                _peers[node.Pnn] = new Peer(node.Pnn, Normalize(node.Address), _stop.Token);
        }
    }

    /// <summary>Both directions to the peer are up (raised by whichever completes second).</summary>
    public event Action<uint>? PeerConnected;

    /// <summary>A connected peer died: pnn and reason ("connection closed", "keepalive limit reached", "bad packet: ...").</summary>
    public event Action<uint, string>? PeerDisconnected;

    /// <summary>Every validated non-keepalive packet read from the peer's incoming connection, in order.</summary>
    public event Action<uint, byte[]>? PacketReceived;

    public event Action<uint, ReqKeepalive>? KeepaliveReceived;

    /// <summary>Keepalives queued in one tick (for STATISTICS keepalive_packets_sent).</summary>
    public event Action<int>? KeepalivesSent;

    /// <summary>The endpoint the listener is bound to (useful when <see cref="NodeTransportOptions.Port"/> is 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    public IReadOnlyCollection<uint> ConnectedPeers
    {
        get
        {
            lock (_lock)
                return _peers.Values.Where(p => p.Connected).Select(p => p.Pnn).OrderBy(p => p).ToArray();
        }
    }

    /// <summary>Test hook: stop sending keepalives (as if this node were SIGSTOPped) while sockets stay open.</summary>
    internal bool KeepalivesPaused
    {
        get => _keepalivesPaused;
        set => _keepalivesPaused = value;
    }

    public bool IsConnected(uint pnn)
    {
        lock (_lock)
            return _peers.TryGetValue(pnn, out var p) && p.Connected;
    }

    /// <summary>Binds the listener (throws <see cref="TransportBindException"/> if it can't), then starts the accept
    /// loop, one connect loop per peer and the keepalive timer.</summary>
    public Task StartAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started)
                throw new InvalidOperationException("the node transport is already started");
            _started = true;
        }

        var endpoint = new IPEndPoint(_options.OwnAddress, _options.Port);
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Plain SO_REUSEADDR (restart while old connections sit in TIME_WAIT). The managed ReuseAddress option
            // also sets SO_REUSEPORT on Linux, which would let a second daemon bind the same node address.
            listener.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
            listener.Bind(endpoint);
            listener.Listen(ListenBacklog);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new TransportBindException($"Unable to bind the node transport to {endpoint}: {e.Message}", e);
        }
        _listener = listener;
        LocalEndPoint = (IPEndPoint?)listener.LocalEndPoint;
        _log.Notice($"Node transport listening on {LocalEndPoint}");

        var stop = _stop.Token;
        if (_options.EventSink == null)
            _eventLoop = Task.Run(() => DispatchEventsAsync(stop), CancellationToken.None);
        _acceptLoop = Task.Run(() => AcceptLoopAsync(listener, stop), CancellationToken.None);
        lock (_lock)
        {
            foreach (var peer in _peers.Values)
                StartConnectLoop(peer);
        }
        _keepaliveLoop = Task.Run(() => KeepaliveLoopAsync(stop), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Queues a packet on the outgoing connection of a connected peer. Never blocks. Returns false (packet
    /// dropped) when the peer is not connected or its send queue overflowed (the connection is then dropped).</summary>
    public bool Send(uint pnn, byte[] packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        if (packet.Length < Wire.HeaderSize)
            throw new ArgumentException($"a packet needs at least the {Wire.HeaderSize}-byte header, got {packet.Length} bytes", nameof(packet));
        packet = PadTo8(packet);

        OutgoingConnection? conn;
        Peer? peer;
        lock (_lock)
        {
            if (_disposed || !_peers.TryGetValue(pnn, out peer) || !peer.Connected)
                return false;
            conn = peer.Out;
        }
        if (conn == null)
            return false;

        switch (conn.Sender.Send(packet))
        {
            case SendOutcome.Accepted:
                return true;
            case SendOutcome.Failed:
                PeerDead(peer, conn, $"write failed: {conn.Sender.LastError}");
                return false;
            default:
                if (conn.Closed.Task.IsCompleted)
                    return false;
                _log.Error($"Send queue to {peer} overflowed ({conn.Sender.QueuedBytes} bytes queued): dropping the connection");
                PeerDead(peer, conn, "send queue overflow");
                return false;
        }
    }

    /// <summary>Applies a new nodes list: peers that disappeared or became deleted are torn down, new ones get a
    /// connect loop; a changed address counts as remove + add.</summary>
    public void ReloadNodes(IReadOnlyList<TransportNode> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var wanted = new Dictionary<uint, IPAddress>();
        foreach (var node in nodes)
        {
            if (IsPeer(node))
                wanted[node.Pnn] = Normalize(node.Address);
        }

        List<Peer> removed = [];
        lock (_lock)
        {
            if (_disposed)
                return;
            foreach (var peer in _peers.Values.ToArray())
            {
                if (wanted.TryGetValue(peer.Pnn, out var addr) && addr.Equals(peer.Address))
                    continue;
                _log.Notice($"Removing {peer} from the node transport (reloadnodes)");
                TearDownLocked(peer, "node removed");
                peer.Removed = true;
                removed.Add(peer);
                _peers.Remove(peer.Pnn);
            }
            foreach (var (pnn, addr) in wanted)
            {
                if (_peers.ContainsKey(pnn))
                    continue;
                var peer = new Peer(pnn, addr, _stop.Token);
                _peers[pnn] = peer;
                _log.Notice($"Adding {peer} to the node transport (reloadnodes)");
                if (_started)
                    StartConnectLoop(peer);
            }
        }
        // Outside the lock: cancellation may run the connect loop's continuation inline.
        foreach (var peer in removed)
            peer.Life.Cancel();
    }

    /// <summary>Closes every socket at once (peers see EOF) and stops all loops. No events are raised afterwards.</summary>
    public async ValueTask DisposeAsync()
    {
        List<Task> tasks = [];
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        // Stop dialling and listening before closing the sessions: otherwise a peer that sees our EOF reconnects
        // at once into our still-open listener (or our connect loop redials it), and it sees us come back and die
        // a second time. Outside the lock: cancellation may run a loop's continuation inline.
        _stop.Cancel();
        _listener?.Dispose();
        lock (_lock)
        {
            foreach (var peer in _peers.Values)
            {
                if (peer.Out != null)
                    tasks.Add(Task.WhenAll(peer.Out.Writer, peer.Out.Watcher));
                if (peer.In != null)
                    tasks.Add(peer.In.Reader);
                peer.Out?.Close();
                peer.In?.Close();
                peer.Out = null;
                peer.In = null;
                peer.Connected = false;
                tasks.Add(peer.ConnectLoop);
            }
        }
        _events.Writer.TryComplete();
        tasks.Add(_acceptLoop);
        tasks.Add(_keepaliveLoop);
        // Disposing from inside an event handler must not wait for the dispatcher that is running it.
        if (_dispatcherThread != Environment.CurrentManagedThreadId)
            tasks.Add(_eventLoop);
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Every loop handles its own errors; anything arriving here is a bug worth seeing in the log.
            _log.Error($"Node transport shutdown: {e.Message}");
        }
        _stop.Dispose();
    }

    // ---------------------------------------------------------------- connections

    private bool IsPeer(TransportNode node) => !node.Deleted && node.Pnn != _options.OwnPnn;

    private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    private void StartConnectLoop(Peer peer)
    {
        var life = peer.Life.Token;
        peer.ConnectLoop = Task.Run(() => ConnectLoopAsync(peer, life), CancellationToken.None);
    }

    /// <summary>Keeps exactly one outgoing connection to the peer for as long as it is in the nodes list.</summary>
    private async Task ConnectLoopAsync(Peer peer, CancellationToken ct)
    {
        var remote = new IPEndPoint(peer.Address, _options.Port);
        while (!ct.IsCancellationRequested)
        {
            var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            bool failed;
            try
            {
                // Bound to our node address so that the peer recognises us by source IP.
                socket.Bind(new IPEndPoint(_options.OwnAddress, 0));
                socket.NoDelay = true;
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
                await socket.ConnectAsync(remote, linked.Token).ConfigureAwait(false);
                failed = false;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // Not connected within the timeout: abandon this attempt and start the next one at once.
                _log.Debug($"Connect to {peer} timed out; retrying");
                socket.Dispose();
                continue;
            }
            catch (OperationCanceledException)
            {
                socket.Dispose();
                break;
            }
            catch (SocketException e)
            {
                _log.Debug($"Connect to {peer} failed: {e.Message}");
                socket.Dispose();
                failed = true;
            }
            if (failed)
            {
                try
                {
                    await Task.Delay(_options.ConnectRetryDelay, _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }

            var conn = new OutgoingConnection(socket, _options.SendQueueMaxPackets, _options.SendQueueMaxBytes) { EstablishedAt = _time.GetTimestamp() };
            lock (_lock)
            {
                if (_disposed || peer.Removed || ct.IsCancellationRequested)
                {
                    conn.Close();
                    break;
                }
                // A stale connection here would be a bug: the loop only runs again after the previous one closed.
                peer.Out?.Close();
                peer.Out = conn;
                conn.Writer = Task.Run(() => WriteLoopAsync(peer, conn), CancellationToken.None);
                conn.Watcher = Task.Run(() => WatchOutgoingAsync(peer, conn), CancellationToken.None);
                _log.Info($"Outgoing connection to {peer} established from {socket.LocalEndPoint}");
                MarkConnectedIfCompleteLocked(peer);
            }

            try
            {
                await conn.Closed.Task.WaitAsync(ct).ConfigureAwait(false);
                // Reconnect at once after a real session; but a peer that accepts and drops us straight away (it
                // doesn't know our address, or it is still tearing down the old pair) would make this loop spin.
                bool shortLived;
                lock (_lock)
                    shortLived = !conn.EverConnected && _time.GetElapsedTime(conn.EstablishedAt) < _options.ConnectRetryDelay;
                if (shortLived)
                    await Task.Delay(_options.ConnectRetryDelay, _time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Drains what the direct sends left queued (see <see cref="SocketSender"/>).</summary>
    private async Task WriteLoopAsync(Peer peer, OutgoingConnection conn)
    {
        var ct = conn.Stop.Token;
        try
        {
            await conn.Sender.RunWriterAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Torn down by someone else.
        }
        catch (ObjectDisposedException)
        {
            // Socket closed by a teardown.
        }
        catch (SocketException e)
        {
            PeerDead(peer, conn, $"write failed: {e.Message}");
        }
    }

    /// <summary>Nothing is ever sent to us on our outgoing connection: EOF or any data there means the peer is dead.</summary>
    private async Task WatchOutgoingAsync(Peer peer, OutgoingConnection conn)
    {
        var ct = conn.Stop.Token;
        var buf = new byte[64];
        string reason;
        try
        {
            var n = await conn.Socket.ReceiveAsync(buf.AsMemory(), SocketFlags.None, ct).ConfigureAwait(false);
            reason = n == 0 ? "connection closed" : "unexpected data on the outgoing connection";
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        catch (SocketException e)
        {
            reason = $"connection error: {e.Message}";
        }
        PeerDead(peer, conn, reason);
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                // The client gave up before we accepted it: nothing wrong with the listener.
                continue;
            }
            catch (SocketException e)
            {
                // Out of descriptors and the like: don't spin.
                _log.Error($"Node transport accept failed: {e.Message}");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            try
            {
                OnAccepted(socket);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _log.Warning($"Dropping incoming connection: {e.Message}");
                socket.Dispose();
            }
        }
    }

    private void OnAccepted(Socket socket)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        var source = remote == null ? null : Normalize(remote.Address);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        lock (_lock)
        {
            var peer = source == null ? null : _peers.Values.FirstOrDefault(p => p.Address.Equals(source));
            if (_disposed || peer == null)
            {
                if (!_disposed)
                    _log.Error($"Refused connection from {remote}: not a node address");
                socket.Dispose();
                return;
            }
            if (peer.In != null)
            {
                // The peer made a new outgoing connection, so it considers the old pair dead (it restarted or
                // declared us dead). Keeping the old, possibly half-open, socket would lock it out until our
                // keepalives noticed; take the new one and rebuild our direction too.
                _log.Warning($"Incoming connection from {peer.Address} while one is active: replacing the old one");
                TearDownLocked(peer, "replaced by a new incoming connection");
            }
            var conn = new IncomingConnection(socket, remote);
            peer.In = conn;
            if (_options.ReadOn is { } readOn)
            {
                var reader = new SocketPacketReader(socket, _options.MaxPacketSize);
                conn.Watch = readOn(socket, () => OnReadable(peer, conn, reader));
            }
            else
            {
                conn.Reader = Task.Run(() => ReadLoopAsync(peer, conn), CancellationToken.None);
            }
            _log.Info($"Incoming connection from {peer} accepted");
            MarkConnectedIfCompleteLocked(peer);
        }
    }

    /// <summary>Reads packets from the peer's incoming connection until it closes or misbehaves.</summary>
    private async Task ReadLoopAsync(Peer peer, IncomingConnection conn)
    {
        var ct = conn.Stop.Token;
        string reason;
        try
        {
            await using var stream = new NetworkStream(conn.Socket, ownsSocket: false);
            var reader = new PacketStreamReader(stream, _options.MaxPacketSize);
            while (true)
            {
                var packet = await reader.ReadPacketAsync(ct).ConfigureAwait(false);
                if (packet == null)
                {
                    reason = "connection closed";
                    break;
                }
                if (packet.Length % 8 != 0)
                {
                    reason = $"bad packet: length {packet.Length} is not a multiple of 8";
                    break;
                }
                if (!Deliver(peer, conn, packet))
                    return;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        catch (Exception e) when (e is ProtocolException or IOException or SocketException)
        {
            reason = ReadFailure(e);
        }
        PeerDead(peer, conn, reason);
    }

    /// <summary>Why a peer's connection is torn down after a read failed (the same text for both read paths).</summary>
    private static string ReadFailure(Exception e) => e switch
    {
        ProtocolException => $"bad packet: {e.Message}",
        IOException => $"connection error: {(e.InnerException ?? e).Message}",
        _ => $"connection error: {e.Message}",
    };

    /// <summary>Input on an incoming connection read by the event loop (<see cref="NodeTransportOptions.ReadOn"/>; its thread).</summary>
    private void OnReadable(Peer peer, IncomingConnection conn, SocketPacketReader reader)
    {
        string reason;
        try
        {
            var outcome = reader.ReadAvailable(packet => packet.Length % 8 != 0
                ? throw new ProtocolException($"length {packet.Length} is not a multiple of 8")
                : Deliver(peer, conn, packet));
            if (outcome != ReadOutcome.Closed)
                return;
            reason = "connection closed";
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        catch (Exception e) when (e is ProtocolException or SocketException)
        {
            reason = ReadFailure(e);
        }
        PeerDead(peer, conn, reason);
    }

    /// <summary>Counts the packet as traffic and queues its event; false when this connection was replaced.</summary>
    private bool Deliver(Peer peer, IncomingConnection conn, byte[] packet)
    {
        var op = (Operation)BinaryPrimitives.ReadUInt32LittleEndian(packet.AsSpan(16));
        ReqKeepalive? keepalive = null;
        if (op == Operation.ReqKeepalive)
            keepalive = ReqKeepalive.Decode(packet);
        lock (_lock)
        {
            if (peer.In != conn)
                return false;
            if (!IsForwardedCall(op, packet))
                peer.LastRx = _time.GetTimestamp();
            var pnn = peer.Pnn;
            if (keepalive != null)
                Raise(() => KeepaliveReceived?.Invoke(pnn, keepalive));
            else
                Raise(() => PacketReceived?.Invoke(pnn, packet));
        }
        return true;
    }

    /// <summary>A call request passed on by another node (hop count > 0) is not proof that the sender is alive.</summary>
    private static bool IsForwardedCall(Operation op, byte[] packet) =>
        op == Operation.ReqCall && packet.Length >= 48 && BinaryPrimitives.ReadUInt32LittleEndian(packet.AsSpan(44)) > 0;

    // ---------------------------------------------------------------- state changes (under _lock)

    private void MarkConnectedIfCompleteLocked(Peer peer)
    {
        if (peer.Connected || peer.In == null || peer.Out == null)
            return;
        peer.Connected = true;
        peer.Out.EverConnected = true;
        peer.LastRx = _time.GetTimestamp();
        // Same wording as ctdbd so that admins' log greps keep working.
        _log.Notice($"{Endpoint(_options.OwnAddress)}: connected to {Endpoint(peer.Address)} - {CountConnectedLocked()} connected");
        var pnn = peer.Pnn;
        Raise(() => PeerConnected?.Invoke(pnn));
    }

    /// <summary>Declares the peer dead if <paramref name="conn"/> is still one of its current connections
    /// (errors from connections already replaced are ignored).</summary>
    private void PeerDead(Peer peer, object conn, string reason)
    {
        lock (_lock)
        {
            if (_disposed || (peer.Out != conn && peer.In != conn))
                return;
            TearDownLocked(peer, reason);
        }
    }

    /// <summary>Closes both sockets (the connect loop reconnects at once) and reports the loss if it was connected.</summary>
    private void TearDownLocked(Peer peer, string reason)
    {
        var wasConnected = peer.Connected;
        peer.Out?.Close();
        peer.In?.Close();
        peer.Out = null;
        peer.In = null;
        peer.Connected = false;
        if (wasConnected)
        {
            _log.Notice($"Tearing down connection to dead node :{peer.Pnn} ({reason})");
            _log.Notice($"{Endpoint(_options.OwnAddress)}: node {Endpoint(peer.Address)} is dead: {CountConnectedLocked()} connected");
            var pnn = peer.Pnn;
            Raise(() => PeerDisconnected?.Invoke(pnn, reason));
        }
        else
        {
            _log.Info($"Dropped the connections of {peer}: {reason}");
        }
    }

    private int CountConnectedLocked() => _peers.Values.Count(p => p.Connected);

    private string Endpoint(IPAddress address) => new IPEndPoint(address, _options.Port).ToString();

    // ---------------------------------------------------------------- keepalives

    /// <summary>How often silence is measured. Detection is KeepaliveInterval × KeepaliveLimit after the last packet,
    /// give or take one period (4.17 counts whole silent intervals, so it detects up to one interval later).</summary>
    internal static readonly TimeSpan LivenessCheckPeriod = TimeSpan.FromMilliseconds(100);

    private async Task KeepaliveLoopAsync(CancellationToken ct)
    {
        var lastCheck = _time.GetTimestamp();
        var nextKeepalive = lastCheck;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(LivenessCheckPeriod, _time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var now = _time.GetTimestamp();
            // Time this process did not run (SIGSTOP, starved) is not the peers' silence: their packets wait unread.
            var stalled = _time.GetElapsedTime(lastCheck, now) - LivenessCheckPeriod;
            if (stalled > TimeSpan.FromSeconds(1))
                CreditStall(stalled);
            lastCheck = now;
            try
            {
                CheckLiveness(now);
                if (now >= nextKeepalive)
                {
                    SendKeepalives();
                    // Re-read at every keepalive so that setvar applies; a zero interval would spin.
                    nextKeepalive = now + (long)(KeepaliveInterval().TotalSeconds * _time.TimestampFrequency);
                }
            }
            catch (Exception e)
            {
                _log.Error($"Keepalive tick failed: {e}");
            }
        }
    }

    private TimeSpan KeepaliveInterval()
    {
        try
        {
            return TimeSpan.FromSeconds(Math.Max(1u, _options.KeepaliveIntervalSeconds()));
        }
        catch (Exception e)
        {
            _log.Error($"Cannot read KeepaliveInterval, using 5 s: {e.Message}");
            return TimeSpan.FromSeconds(5);
        }
    }

    /// <summary>Declares dead every connected peer silent for KeepaliveInterval × KeepaliveLimit at
    /// <paramref name="now"/> (a <see cref="TimeProvider"/> timestamp). Forwarded calls are not traffic.</summary>
    internal void CheckLiveness(long now)
    {
        var interval = KeepaliveInterval();
        var limit = Math.Max(1u, _options.KeepaliveLimit());
        var allowed = interval * limit;
        lock (_lock)
        {
            if (_disposed)
                return;
            foreach (var peer in _peers.Values)
            {
                if (!peer.Connected)
                    continue;
                var silent = _time.GetElapsedTime(peer.LastRx, now);
                if (silent < allowed)
                    continue;
                _log.Error($"Node {peer.Address} (pnn {peer.Pnn}): no traffic for {silent.TotalSeconds:0.0} s"
                    + $" (KeepaliveInterval {interval.TotalSeconds:0} s × KeepaliveLimit {limit})");
                TearDownLocked(peer, "keepalive limit reached");
            }
        }
    }

    /// <summary>Moves every peer's last-traffic time forward by <paramref name="stall"/>.</summary>
    internal void CreditStall(TimeSpan stall)
    {
        var ticks = (long)(stall.TotalSeconds * _time.TimestampFrequency);
        lock (_lock)
        {
            foreach (var peer in _peers.Values)
                peer.LastRx += ticks;
        }
        _log.Warning($"This node did not run for {stall.TotalSeconds:0.0} s: peers' silence in that time is not held against them");
    }

    /// <summary>Test hook: the timestamp of the last packet that counted as traffic from <paramref name="pnn"/>.</summary>
    internal long LastTrafficFrom(uint pnn)
    {
        lock (_lock)
            return _peers[pnn].LastRx;
    }

    /// <summary>Sends a keepalive to every connected peer (every KeepaliveInterval, as 4.17).</summary>
    internal void SendKeepalives()
    {
        if (_keepalivesPaused)
            return;
        List<uint> alive;
        lock (_lock)
        {
            if (_disposed)
                return;
            alive = [.. _peers.Values.Where(p => p.Connected).Select(p => p.Pnn)];
        }
        var generation = _options.Generation();
        var uptime = _options.UptimeSeconds();
        var sent = 0;
        foreach (var pnn in alive)
        {
            var header = PacketHeader.Create(Operation.ReqKeepalive, pnn, _options.OwnPnn, 0, generation);
            if (Send(pnn, new ReqKeepalive(header, _options.KeepaliveVersion, uptime, false).Encode()))
                sent++;
        }
        if (sent > 0)
            Raise(() => KeepalivesSent?.Invoke(sent));
    }

    // ---------------------------------------------------------------- events

    private void Raise(Action action)
    {
        if (_disposed)
            return;
        if (_options.EventSink is { } sink)
            sink(() => RunEvent(action)); // in order: Raise is always called under _lock
        else
            _events.Writer.TryWrite(action);
    }

    private void RunEvent(Action action)
    {
        if (_disposed)
            return;
        try
        {
            action();
        }
        catch (Exception e)
        {
            _log.Error($"Node transport event handler failed: {e}");
        }
    }

    private async Task DispatchEventsAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var action in _events.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (_disposed)
                    break;
                try
                {
                    _dispatcherThread = Environment.CurrentManagedThreadId;
                    action();
                }
                catch (Exception e)
                {
                    _log.Error($"Node transport event handler failed: {e}");
                }
                finally
                {
                    _dispatcherThread = -1;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    /// <summary>Peers that talk to real ctdbd must pad to 8 (it kills the connection otherwise).</summary>
    private static byte[] PadTo8(byte[] packet)
    {
        var padded = Wire.Align8(packet.Length);
        var declared = BinaryPrimitives.ReadUInt32LittleEndian(packet);
        if (padded == packet.Length && declared == packet.Length)
            return packet;
        var copy = new byte[padded];
        packet.CopyTo(copy, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(copy, (uint)padded);
        return copy;
    }
}
