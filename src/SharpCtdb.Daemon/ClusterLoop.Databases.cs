using SharpCtdb.Daemon.Databases;

namespace SharpCtdb.Daemon;

/// <summary>Databases (behaviour §12): the registry, attach/detach and the database controls.</summary>
internal sealed partial class ClusterLoop
{
    private DatabaseRegistry? _databases;

    /// <summary>The node's databases (loop thread only); created at start-up.</summary>
    internal DatabaseRegistry Databases => _databases ??= DatabaseRegistry.Create(_settings.Config.Database, OwnPnn, Tunables, _log);

    /// <summary>Called by the freeze/thaw code after <paramref name="db"/> went back to Thawed: queued calls run again.</summary>
    internal void OnDatabaseThawed(ClusterDatabase db) => _ = db;
}
