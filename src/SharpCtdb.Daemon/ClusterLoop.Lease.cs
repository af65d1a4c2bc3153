using System.Buffers.Binary;
using System.Globalization;
using System.Net.NetworkInformation;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>
/// One-address-one-node safety (docs/failover-safety.md): an ownership lease granted by the leader and renewed by
/// every node every LeaseTime/4, a watchdog process that drops the node's public addresses when the lease is not
/// renewed (daemon hung or cut off) or ctdbd dies (pipe EOF), and a leader that defers a takeover run while a
/// disconnected node's lease may still be running. Active only with real IP handling (not CTDB_TEST_MODE, unless
/// CTDB_IP_LEASE_MS is set); the lease time is CTDB_IP_LEASE_MS (default 1000).
/// </summary>
internal sealed partial class ClusterLoop
{
    /// <summary>SharpCTDB-private srvids (a 4.17 node ignores messages nobody registered for).</summary>
    internal const ulong LeaseRequestSrvid = 0xF9A0000000000001;
    internal const ulong LeaseGrantSrvid = 0xF9A0000000000002;

    /// <summary>How long after a peer's connection closed (its process died) its watchdog surely dropped everything.</summary>
    private static readonly TimeSpan PeerGoneMargin = TimeSpan.FromMilliseconds(100);

    private TimeSpan _leaseTime;
    private long _leaseExpiry; // own lease, TimeProvider timestamps
    private long _watchdogDeadline;
    private ulong _leaseSeq;
    private readonly Dictionary<ulong, long> _leaseRequests = [];
    private readonly Dictionary<uint, long> _leaseGrants = []; // leader: latest time each node may still hold addresses
    private readonly Dictionary<uint, long> _peerGone = []; // connection closed by the peer (process gone) at
    private readonly List<TaskCompletionSource<bool>> _leaseWaiters = [];
    private bool _wasLeader;
    private LoopTimer? _leaseRetryTimer; // created on first use, on the loop
    private LeaseWatchdog? _watchdog;
    private int _watchdogRestarts;

    /// <summary>Real IP handling: addresses really added/removed, announced, checked, and protected by the lease.</summary>
    internal bool LeaseEnabled => _leaseTime > TimeSpan.Zero;

    private long Now => _time.GetTimestamp();

    private long Ticks(TimeSpan t) => (long)(t.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Lease time from CTDB_IP_LEASE_MS (0 = off); default 1 s, off in test mode.</summary>
    internal static TimeSpan LeaseTimeFromEnvironment(bool testMode)
    {
        var env = Environment.GetEnvironmentVariable("CTDB_IP_LEASE_MS");
        if (env is { Length: > 0 } && uint.TryParse(env, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            return TimeSpan.FromMilliseconds(ms);
        return testMode ? TimeSpan.Zero : TimeSpan.FromSeconds(1);
    }

    private void StartLease()
    {
        _leaseTime = LeaseTimeFromEnvironment(_settings.Paths.TestMode);
        if (!LeaseEnabled)
            return;
        var detection = TimeSpan.FromSeconds(Tunables.KeepaliveInterval * (double)Tunables.KeepaliveLimit);
        if (_leaseTime * 2 > detection)
            _log.Warning($"IP ownership lease {_leaseTime.TotalMilliseconds} ms is more than half the keepalive detection time ({detection.TotalSeconds} s)");
        _log.Notice($"IP ownership lease: {_leaseTime.TotalMilliseconds} ms, renewed every {_leaseTime.TotalMilliseconds / 4} ms");
        StartWatchdog();
        StartPeriodic(_leaseTime / 4, RenewLease);
        RenewLease();
    }

    private void StartWatchdog()
    {
        if (LeaseWatchdog.Locate() is not { } path)
        {
            _log.Error("IP watchdog ctdb_ip_watchdog not found: a dead or hung ctdbd's addresses will not be dropped");
            return;
        }
        _watchdog = LeaseWatchdog.Start(path, line => _loop.Post(() => OnWatchdogLine(line)), _log);
        if (_watchdog is null)
            return;
        _log.Notice($"Started IP watchdog {path} (pid {_watchdog.Pid})");
        _watchdogDeadline = 0;
        PushWatchdogLease();
        foreach (var v in _ips.Addresses.Where(a => a.CurrentInterface is not null && a.Pnn == OwnPnn))
            _watchdog.Send($"add {v.CurrentInterface} {v.Address} {v.MaskBits}");
    }

    private void OnWatchdogLine(string? line)
    {
        if (line is null)
        {
            if (_shuttingDown || _watchdog is null)
                return;
            _watchdog.Dispose();
            _watchdog = null;
            if (++_watchdogRestarts > 10)
            {
                _log.Error("IP watchdog keeps exiting; running without it");
                return;
            }
            _log.Error("IP watchdog exited unexpectedly, restarting it");
            StartWatchdog();
            return;
        }
        if (line.StartsWith("log ", StringComparison.Ordinal))
        {
            _log.Warning($"IP watchdog: {line[4..]}");
            return;
        }
        var f = line.Split(' ', 4);
        if (f is ["dropped", var addr, ..] && System.Net.IPAddress.TryParse(addr, out var ip))
        {
            var why = f.Length > 3 ? $" ({f[3]})" : "";
            if (_shutdownDrops is not null)
                _log.Notice($"IP watchdog removed {addr}{why}");
            else
                _log.Warning($"IP watchdog dropped {addr}{why}");
            if (_ips.Find(ip) is { CurrentInterface: not null } v)
            {
                ForgetRemovedAddress(v, "removed by the IP watchdog");
                RequestTakeoverRunFromLeader();
            }
            if (_shutdownDrops is { } drops && !HostsAnyAddress)
                drops.TrySetResult();
        }
    }

    private async Task StopLeaseAsync()
    {
        if (_watchdog is { } w)
        {
            _watchdog = null;
            await w.StopAsync(TimeSpan.FromSeconds(5));
            w.Dispose();
        }
    }

    // ---------------- renewal (every node) ----------------

    private void RenewLease()
    {
        if (!LeaseEnabled || _shuttingDown)
            return;
        var now = Now;
        NoteLeadership(now);
        if (_leader == OwnPnn)
        {
            Grant(OwnPnn, now);
            ExtendOwnLease(now + Ticks(_leaseTime));
        }
        else if (_leader != Pnn.Unknown && NodeOrNull(_leader) is { Connected: true })
        {
            var seq = ++_leaseSeq;
            _leaseRequests[seq] = now;
            foreach (var old in _leaseRequests.Keys.Where(k => k + 16 < seq).ToList())
                _leaseRequests.Remove(old);
            var data = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(data, seq);
            SendMessage(_leader, LeaseRequestSrvid, data);
        }
        // Without a watchdog the daemon itself stops serving when its lease is gone (cut off, nobody renews).
        if (_watchdog is null && now >= _leaseExpiry && _ips.Addresses.Any(a => a.CurrentInterface is not null) && !_releasingForLease)
            _ = ReleaseForLapsedLeaseAsync();
    }

    private bool _releasingForLease;

    private async Task ReleaseForLapsedLeaseAsync()
    {
        _releasingForLease = true;
        try
        {
            _log.Warning("IP ownership lease expired: releasing all public addresses");
            await ReleaseAllAddressesAsync();
        }
        finally
        {
            _releasingForLease = false;
        }
    }

    private void ExtendOwnLease(long expiry)
    {
        if (expiry <= _leaseExpiry)
            return;
        _leaseExpiry = expiry;
        PushWatchdogLease();
        foreach (var w in _leaseWaiters)
            w.TrySetResult(true);
        _leaseWaiters.Clear();
    }

    /// <summary>The watchdog drops a quarter lease early, so the leader's view (grant time + lease) is never too short.</summary>
    private void PushWatchdogLease()
    {
        var deadline = _leaseExpiry == 0 ? 0 : _leaseExpiry - Ticks(_leaseTime / 4);
        if (_watchdog is null || deadline == _watchdogDeadline)
            return;
        _watchdogDeadline = deadline;
        _watchdog.Send($"lease {deadline.ToString(CultureInfo.InvariantCulture)}");
    }

    private void OnLeaseRequest(uint src, byte[] data)
    {
        if (!LeaseEnabled || _leader != OwnPnn || data.Length < 8 || NodeOrNull(src) is null)
            return;
        var now = Now;
        NoteLeadership(now);
        Grant(src, now);
        var reply = new byte[12];
        data.AsSpan(0, 8).CopyTo(reply);
        BinaryPrimitives.WriteUInt32LittleEndian(reply.AsSpan(8), (uint)_leaseTime.TotalMilliseconds);
        SendMessage(src, LeaseGrantSrvid, reply);
    }

    private void OnLeaseGrant(uint src, byte[] data)
    {
        if (!LeaseEnabled || src != _leader || data.Length < 12)
            return;
        var seq = BinaryPrimitives.ReadUInt64LittleEndian(data);
        var ms = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(8));
        if (!_leaseRequests.Remove(seq, out var sent))
            return;
        // Counted from when we asked, so our expiry is never later than the leader's record of the grant.
        ExtendOwnLease(sent + Ticks(TimeSpan.FromMilliseconds(ms)));
    }

    private void Grant(uint pnn, long now)
    {
        var until = now + Ticks(_leaseTime);
        if (_leaseGrants.GetValueOrDefault(pnn) < until)
            _leaseGrants[pnn] = until;
    }

    /// <summary>
    /// A new leader does not know what the previous one granted: any such grant was given before now and lasts at most
    /// one lease time, so it assumes every node may hold addresses until now + LeaseTime.
    /// </summary>
    private void NoteLeadership(long now)
    {
        if (_leader != OwnPnn)
        {
            _wasLeader = false;
            return;
        }
        if (_wasLeader)
            return;
        _wasLeader = true;
        foreach (var n in _nodes)
            Grant(n.Pnn, now);
    }

    /// <summary>Hook: a peer's connection went away; "connection closed" means its process (and pipe) is gone.</summary>
    private void NoteLeasePeerGone(uint pnn, string reason)
    {
        if (reason.StartsWith("connection closed", StringComparison.Ordinal) || reason.Contains("reset", StringComparison.OrdinalIgnoreCase))
            _peerGone[pnn] = Now;
        else
            _peerGone.Remove(pnn);
    }

    // ---------------- leader: hold takeover runs while a lost node may still serve ----------------

    /// <summary>
    /// True (and a retry scheduled) while some disconnected node may still hold its addresses: its lease (as granted
    /// by us, or assumed since we became leader) has not run out, unless its connection was closed by its death.
    /// </summary>
    private bool LeaseDefersTakeover()
    {
        if (!LeaseEnabled)
            return false;
        var now = Now;
        NoteLeadership(now);
        long until = 0;
        var who = Pnn.Unknown;
        foreach (var n in _nodes)
        {
            if (n.Pnn == OwnPnn || n.Deleted || n.Connected)
                continue;
            var t = _leaseGrants.GetValueOrDefault(n.Pnn);
            if (_peerGone.TryGetValue(n.Pnn, out var gone))
                t = Math.Min(t, gone + Ticks(PeerGoneMargin));
            if (t > now && t > until)
                (until, who) = (t, n.Pnn);
        }
        if (until == 0)
            return false;
        var wait = TimeSpan.FromSeconds((until - now) / (double)_time.TimestampFrequency) + TimeSpan.FromMilliseconds(10);
        _log.Notice($"Takeover run deferred {wait.TotalMilliseconds:F0} ms: node {who} may still hold public IPs (ownership lease)");
        _leaseRetryTimer ??= new LoopTimer(_time, _loop);
        if (!_leaseRetryTimer.Armed)
            _leaseRetryTimer.Arm(wait, RequestLeaderCheck);
        return true;
    }

    // ---------------- the node taking an address ----------------

    /// <summary>
    /// Before a takeip: make sure we hold a lease (asking the leader once more and waiting up to one lease time if
    /// not), then tell the watchdog first, so that a crash right after the script still gets the address dropped.
    /// </summary>
    private async Task<bool> PrepareTakeAsync(PublicAddress v, string iface)
    {
        if (!LeaseEnabled)
            return true;
        if (Now >= _leaseExpiry - Ticks(_leaseTime / 4))
        {
            var tcs = new TaskCompletionSource<bool>();
            _leaseWaiters.Add(tcs);
            RenewLease();
            try
            {
                await tcs.Task.WaitAsync(_leaseTime, _time);
            }
            catch (TimeoutException)
            {
                _leaseWaiters.Remove(tcs);
                _log.Error($"Cannot take {v.Address}: no valid IP ownership lease");
                return false;
            }
        }
        _watchdog?.Send($"add {iface} {v.Address} {v.MaskBits}");
        return true;
    }

    /// <summary>
    /// An address that left this node's interfaces without a releaseip event: the same bookkeeping as a release
    /// (owner unknown, announcements stop, clients such as smbd get the release message).
    /// </summary>
    private void ForgetRemovedAddress(PublicAddress v, string how)
    {
        var iface = v.CurrentInterface;
        _ips.Unassign(v, Pnn.Unknown);
        LeaseAddressReleased(v);
        _log.Notice($"Release of IP {v.Address}/{v.MaskBits} on interface {iface}  node:-1 ({how})");
        _clients?.DeliverMessage(OwnPnn, OwnPnn, Srvid.ReleaseIp, CString(v.Address.ToString()));
        AfterAddressReleased(v);
    }

    /// <summary>Hook after a release: the watchdog forgets it and announcements stop.</summary>
    private void LeaseAddressReleased(PublicAddress v)
    {
        StopAnnouncing(v);
        _watchdog?.Send($"del {v.Address}");
    }

    /// <summary>
    /// Redundant TAKEOVER_IP (we already host it): true if the address really is on an interface (it is announced
    /// again, so a client whose ARP entry points elsewhere comes back); false = it is gone, take it again.
    /// </summary>
    private bool StillHosted(PublicAddress v, string iface)
    {
        if (!LeaseEnabled)
            return true;
        if (!AddressOnAnyInterface(v.Address))
        {
            _log.Warning($"Public IP {v.Address} is assigned here but not on an interface: taking it again");
            StopAnnouncing(v);
            _ips.Unassign(v, Pnn.Unknown);
            return false;
        }
        AnnounceAddress(v, iface);
        return true;
    }

    private static bool AddressOnAnyInterface(System.Net.IPAddress addr) =>
        LocalAddresses() is not { } local || local.Any(l => SameAddress(l, addr)); // cannot tell: do not disturb it

    /// <summary>Every address on this node's interfaces, or null when they cannot be read.</summary>
    private static List<System.Net.IPAddress>? LocalAddresses()
    {
        try
        {
            return [.. NetworkInterface.GetAllNetworkInterfaces().SelectMany(ni => ni.GetIPProperties().UnicastAddresses).Select(ua => ua.Address)];
        }
        catch (NetworkInformationException)
        {
            return null;
        }
    }
}
