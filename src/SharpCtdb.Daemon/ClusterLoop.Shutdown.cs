namespace SharpCtdb.Daemon;

/// <summary>Additions to the shutdown sequence (§2.4).</summary>
internal sealed partial class ClusterLoop
{
    /// <summary>
    /// Releases every public address this node hosts (releaseip events) after the shutdown event, so that the
    /// address is gone here before the peers, which see our connections close a moment later, take it over.
    /// 4.17 leaves this to the shutdown event scripts; bounded by EventScriptTimeout per address as usual.
    /// </summary>
    private async Task ReleaseAddressesAtShutdownAsync()
    {
        try
        {
            await ReleaseAllAddressesAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.Error($"Releasing public addresses at shutdown failed: {e.Message}");
        }
    }
}
