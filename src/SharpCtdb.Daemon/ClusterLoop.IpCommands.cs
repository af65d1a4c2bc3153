using SharpCtdb.Config;
using SharpCtdb.Daemon.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>
/// Run-time changes of the public address list (ADD_PUBLIC_IP, DEL_PUBLIC_IP, RELOAD_PUBLIC_IPS, behaviour.md §6.10),
/// SEND_GRATUITOUS_ARP (§6.7) and the per-node verification of §6.8 that asks the leader for a takeover run when an
/// address this node could host is hosted nowhere (how an added address gets hosted).
/// </summary>
internal sealed partial class ClusterLoop
{
    /// <summary>Started once the setup event has succeeded: local IP verification and the tickle list updates.</summary>
    private void StartIpPeriodicTasks()
    {
        StartPeriodic(TimeSpan.FromSeconds(Math.Max(1u, Tunables.RecoverInterval)), VerifyLocalIps);
        StartTickleUpdates();
    }

    // ---- ADD / DEL ----

    private ControlResult AddPublicIp(byte[] d)
    {
        var info = AddrInfo.FromBytes(d);
        var addr = Unmapped(info.Addr.Address);
        _log.Notice($"Add IP {addr}");
        var ifaces = info.Iface.Split(',', StringSplitOptions.RemoveEmptyEntries);
        if (ifaces.Length == 0)
        {
            _log.Error($"No interface specified for public address {addr}");
            return ControlResult.Fail("no interface");
        }
        foreach (var name in ifaces)
        {
            if (name.Length > PublicAddressesFile.MaxInterfaceNameLength || !InterfaceExistsOnHost(name))
            {
                _log.Error($"Unknown interface {name} for public address {addr}");
                _log.Error("Failed to add public address");
                return ControlResult.Fail($"unknown interface {name}");
            }
        }
        if (_ips.Find(addr) is not null)
        {
            _log.Error($"Same ip '{addr}' specified multiple times in the public address list");
            _log.Error("Failed to add public address");
            return ControlResult.Fail($"duplicate public address {addr}");
        }
        _ips.Add(addr, info.Mask, ifaces);
        return ControlResult.Ok();
    }

    private static bool InterfaceExistsOnHost(string name) =>
        name.Length > 0 && !name.Contains('/', StringComparison.Ordinal) && name != "." && name != ".."
        && Directory.Exists(Path.Combine("/sys/class/net", name));

    private ControlResult DelPublicIp(byte[] d)
    {
        var info = AddrInfo.FromBytes(d);
        if (_ips.Find(info.Addr.Address) is not { } v)
        {
            _log.Error($"Delete IP of unknown public IP address {Unmapped(info.Addr.Address)}");
            return ControlResult.Fail("unknown public address");
        }
        DeleteAddress(v);
        return ControlResult.Ok();
    }

    /// <summary>
    /// A hosted address only becomes "delete pending" (no longer available here): the next takeover run releases
    /// it and the release deletes it, as 4.17 does. An address not on an interface here is deleted at once.
    /// </summary>
    private void DeleteAddress(PublicAddress v)
    {
        _log.Notice($"Delete IP {v.Address}");
        if (v.CurrentInterface is not null)
        {
            v.DeletePending = true;
            return;
        }
        _ips.Remove(v);
        _tickles.Drop(v.Address);
    }

    /// <summary>Called after every local release: finishes a pending delete.</summary>
    private void AfterAddressReleased(PublicAddress v)
    {
        ForgetClientConnections(v.Address);
        if (v.DeletePending && v.CurrentInterface is null)
        {
            _ips.Remove(v);
            _tickles.Drop(v.Address);
        }
    }

    // ---- RELOAD_PUBLIC_IPS ----

    /// <summary>
    /// Re-reads public_addresses: deletes addresses no longer listed, then adds new ones (REBALANCE_NODE for this
    /// node broadcast once before the first add). Mask or interface changes of a kept address are not applied
    /// (as 4.17). Done inline on the loop (4.17 forks a child); the file is small. Reply 0, or 1 on failure.
    /// </summary>
    private ControlResult ReloadPublicIps()
    {
        var path = _settings.Paths.PublicAddressesFile;
        var file = PublicAddressesFile.Load(path);
        if (file.FileExists && !file.Ok)
        {
            foreach (var e in file.Errors)
                _log.Error(e.ToString());
            _log.Error($"Failed to re-read public addresses file {path}");
            return ControlResult.Value(1);
        }
        if (!file.FileExists)
            _log.Warning($"Missing public address list {path}; removing all public IP addresses");
        var wanted = file.Entries.Select(e => Unmapped(e.Address)).ToHashSet();
        foreach (var v in _ips.Addresses.ToList())
        {
            if (!wanted.Contains(v.Address) && !v.DeletePending)
            {
                _log.Notice($"IP {v.Address} no longer configured, deleting it");
                DeleteAddress(v);
            }
        }
        var rebalanceSent = false;
        foreach (var e in file.Entries)
        {
            if (_ips.Find(e.Address) is not null)
                continue;
            if (!rebalanceSent)
            {
                SendMessage(Pnn.BroadcastConnected, Srvid.RebalanceNode, U32(OwnPnn));
                rebalanceSent = true;
            }
            _log.Notice($"New IP {Unmapped(e.Address)} configured, adding it");
            var r = AddPublicIp(new AddrInfo(new SockAddr(e.Address), (uint)e.MaskBits, string.Join(',', e.Interfaces)).ToBytes());
            if (!r.Success)
                return ControlResult.Value(1);
        }
        return ControlResult.Ok();
    }

    // ---- SEND_GRATUITOUS_ARP ----

    /// <summary>
    /// `ctdb gratarp ADDR IFACE`: three rounds, 1 s apart, off the loop (the sender only does syscalls and logs).
    /// No check that the address is public; a bad interface is logged, the control still succeeds (as 4.17).
    /// </summary>
    private ControlResult SendGratuitousArp(byte[] d)
    {
        var info = AddrInfo.FromBytes(d);
        var addr = Unmapped(info.Addr.Address);
        var iface = info.Iface;
        var log = _log;
        RepeatOffLoop(3, TimeSpan.FromSeconds(1), () =>
        {
            if (GratuitousArp.Send(iface, addr, log))
                return true;
            log.Error($"send_gratious_arp: Failed to send gratuitous ARP on iface {iface}");
            return false;
        });
        return ControlResult.Ok();
    }

    /// <summary>
    /// Runs <paramref name="send"/> up to <paramref name="rounds"/> times, <paramref name="gap"/> apart, off the loop
    /// (raw sends are system calls the loop should not wait for); stops early when it returns false or at shutdown.
    /// </summary>
    private void RepeatOffLoop(int rounds, TimeSpan gap, Func<bool> send)
    {
        var time = _time;
        var token = _stopping.Token;
        _ = Task.Run(async () =>
        {
            try
            {
                for (var round = 0; round < rounds; round++)
                {
                    if (round > 0)
                        await Task.Delay(gap, time, token).ConfigureAwait(false);
                    if (!send())
                        return;
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
    }

    // ---- local verification (§6.8, the "unassigned IP" part) ----

    /// <summary>Addresses found missing at the previous check (a release in flight removes one for a moment).</summary>
    private readonly HashSet<System.Net.IPAddress> _missingLastCheck = [];

    /// <summary>
    /// With real IP handling, an address assigned here must be on an interface: something outside ctdbd (an admin,
    /// another script, the kernel dropping secondaries with their primary) may have removed it, and no takeover run
    /// would notice, so clients would time out on it for good. Missing at two checks in a row = ask the leader for a
    /// takeover run, whose TAKEOVER_IP finds it gone (<see cref="StillHosted"/>) and takes it again.
    /// </summary>
    private bool VerifyHostedAddressesPresent()
    {
        if (!LeaseEnabled)
            return false;
        var hosted = _ips.Addresses.Where(v => v.Pnn == OwnPnn && v.CurrentInterface is not null).Select(v => v.Address).ToList();
        var local = hosted.Count == 0 ? null : LocalAddresses();
        var missing = local is null ? [] : hosted.Where(a => !local.Any(l => SameAddress(l, a))).ToList();
        var persistent = missing.Where(_missingLastCheck.Contains).ToList();
        _missingLastCheck.Clear();
        _missingLastCheck.UnionWith(missing);
        foreach (var a in persistent)
            _log.Warning($"Public IP {a} is assigned to us but not on an interface");
        return persistent.Count > 0;
    }

    private void VerifyLocalIps()
    {
        if (_shuttingDown || _recMode != RecoveryMode.Normal || Own.Flags != NodeFlags.None || _runState != RunState.Running)
            return;
        if (_settings.Config.Failover.Disabled || _takeoverRunsDisabledUntil > _time.GetUtcNow())
            return;
        var trigger = false;
        foreach (var v in _ips.Addresses)
        {
            if (v.Pnn == Pnn.Unknown && !v.DeletePending && _ips.HasUsableInterface(v))
            {
                _log.Notice($"Unassigned IP {v.Address} can be served by this node");
                trigger = true;
            }
        }
        if (VerifyHostedAddressesPresent())
            trigger = true;
        if (trigger)
        {
            _log.Notice("Trigger takeoverrun");
            RequestTakeoverRunFromLeader();
        }
    }

}
