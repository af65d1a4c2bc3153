namespace SharpCtdb.Daemon;

/// <summary>Additions to the shutdown sequence (§2.4).</summary>
internal sealed partial class ClusterLoop
{
    private TaskCompletionSource? _shutdownDrops;

    /// <summary>
    /// Real IP handling: before the shutdown event, the IP watchdog removes every address hosted here at once and
    /// the leader is asked for a takeover run, so the other nodes serve them while our (slow) shutdown event runs.
    /// Safe for the same reason as any release: the address is off this node before the leader gives it away, and
    /// runstate SHUTDOWN already keeps the allocation from giving anything back to us. 4.17 keeps the addresses
    /// until its shutdown event removes them and the peers take them only after they see the daemon gone.
    /// </summary>
    private async Task HandOverAddressesAtShutdownAsync()
    {
        if (!LeaseEnabled || _watchdog is not { } watchdog || !HostsAnyAddress)
            return;
        _log.Notice("Shutdown: removing this node's public addresses now, so that other nodes take them over");
        _shutdownDrops = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        watchdog.Send("drop");
        try
        {
            await _shutdownDrops.Task.WaitAsync(TimeSpan.FromSeconds(2), _time);
        }
        catch (TimeoutException)
        {
            // Left to the shutdown event and the releases after it, as without a watchdog.
            _log.Warning("Shutdown: the IP watchdog did not drop every public address in time");
        }
        _shutdownDrops = null;
    }

    private bool HostsAnyAddress => _ips.Addresses.Any(a => a.CurrentInterface is not null);

    /// <summary>
    /// Releases every public address this node still hosts (releaseip events) after the shutdown event, so that the
    /// address is gone here before the peers, which see our connections close a moment later, take it over.
    /// 4.17 leaves this to the shutdown event scripts; bounded by EventScriptTimeout per address as usual. With real
    /// IP handling an address the shutdown event already removed is only forgotten: its releaseip would fail anyway.
    /// </summary>
    private async Task ReleaseAddressesAtShutdownAsync()
    {
        try
        {
            if (LeaseEnabled && LocalAddresses() is { } local)
            {
                foreach (var v in _ips.Addresses.Where(a => a.CurrentInterface is not null && !local.Any(l => SameAddress(l, a.Address))).ToList())
                    ForgetRemovedAddress(v, "removed by the shutdown event");
            }
            await ReleaseAllAddressesAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.Error($"Releasing public addresses at shutdown failed: {e.Message}");
        }
    }
}
