using SharpCtdb.Config;
using SharpCtdb.Config.Logging;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon.Databases;

/// <summary>
/// The databases attached on this node, as the cluster loop sees them (behaviour §12.1–12.2).
/// </summary>
/// <remarks>
/// API note (stable; db-a owns this file, db-b builds persistent transactions and recovery on it):
/// <list type="bullet">
/// <item><b>Loop-owned.</b> Create one per daemon (<see cref="Create"/>); use it only on the ClusterLoop thread. The tdb
/// handles follow TdbFile's one-owner rule, which the loop thread satisfies.</item>
/// <item><see cref="Attach"/>(name, kind, generation, out isNew) → <see cref="ClusterDatabase"/>; throws
/// <see cref="DatabaseAttachException"/> (wrong kind for an existing name, id clash, bad name, corrupt persistent file)
/// or <see cref="DatabaseNotEmptyException"/> (volatile/replicated file still had records: 4.17 aborts the daemon).</item>
/// <item><see cref="Find"/>(dbId) / <see cref="FindByName"/>(name) → db or null; <see cref="All"/> newest first (GET_DBMAP
/// order); <see cref="Detach"/>(dbId) closes the file (left on disk).</item>
/// <item><see cref="AttachPersistentDatabases"/>(generation): start-up step of §12.2 (every `name.tdb.PNN` file).</item>
/// <item>Per-db state lives on <see cref="ClusterDatabase"/>, a <c>partial</c> class: db-b adds its own fields in
/// <c>ClusterDatabase.Persistent.cs</c> / <c>ClusterDatabase.Freeze.cs</c> / <c>ClusterDatabase.Recovery.cs</c>. The
/// freeze placeholder is <see cref="ClusterDatabase.FreezeState"/>; the call path refuses to touch a frozen db and
/// re-runs queued calls when <see cref="ClusterDatabase.FreezeState"/> goes back to Thawed (call
/// <c>ClusterLoop.OnDatabaseThawed(db)</c> after thawing).</item>
/// </list>
/// </remarks>
internal sealed class DatabaseRegistry : IDisposable
{
    private readonly Dictionary<uint, ClusterDatabase> _byId = [];
    private readonly CtdbLog _log;

    public DatabaseRegistry(DatabaseStore store, CtdbLog log)
    {
        Store = store;
        _log = log;
    }

    /// <summary>A registry over the `[database]` directories of ctdb.conf with the current tunables.</summary>
    public static DatabaseRegistry Create(DatabaseConfig config, uint pnn, TunableSet tunables, CtdbLog log)
    {
        var options = new DatabaseStoreOptions(config.VolatileDirectory, config.PersistentDirectory, config.StateDirectory, pnn)
        {
            HashSize = (int)Math.Clamp(tunables.DatabaseHashSize, 1u, int.MaxValue),
            MaxDead = (int)Math.Min(tunables.DatabaseMaxDead, int.MaxValue),
            TdbMutexes = config.TdbMutexes,
        };
        return new DatabaseRegistry(new DatabaseStore(options, log), log);
    }

    /// <summary>The underlying file store (paths, flags, hash size).</summary>
    public DatabaseStore Store { get; }

    public int Count => _byId.Count;

    /// <summary>Attached databases, newest first (GET_DBMAP order).</summary>
    public IReadOnlyList<ClusterDatabase> All => [.. Store.Databases.Select(l => _byId[l.Id])];

    public ClusterDatabase? Find(uint dbId) => _byId.GetValueOrDefault(dbId);

    public ClusterDatabase? FindByName(string name) =>
        Store.TryGetByName(name, out var local) ? _byId.GetValueOrDefault(local.Id) : null;

    /// <summary>Checks the three directories exist (4.17 refuses to start otherwise); returns the first missing one.</summary>
    public string? MissingDirectory()
    {
        var o = Store.Options;
        foreach (var d in new[] { o.VolatileDirectory, o.PersistentDirectory, o.StateDirectory })
        {
            if (!Directory.Exists(d))
                return d;
        }
        return null;
    }

    /// <summary>Attach (or return the attached) db; <paramref name="generation"/> becomes a new db's generation.</summary>
    public ClusterDatabase Attach(string name, DatabaseKind kind, uint generation, out bool isNew)
    {
        var local = Store.Attach(name, kind, out isNew);
        if (!isNew)
            return _byId[local.Id];
        var db = new ClusterDatabase(local, generation);
        _byId.Add(db.Id, db);
        return db;
    }

    /// <summary>Forgets the db and closes its file; false if unknown.</summary>
    public bool Detach(uint dbId)
    {
        if (!_byId.Remove(dbId, out var db))
            return false;
        db.Detached = true;
        Store.Detach(dbId);
        return true;
    }

    /// <summary>Start-up: attach every persistent file of this node (failures propagate: the daemon must not start).</summary>
    public IReadOnlyList<ClusterDatabase> AttachPersistentDatabases(uint generation)
    {
        var list = new List<ClusterDatabase>();
        foreach (var local in Store.AttachPersistentDatabases())
            list.Add(_byId.TryGetValue(local.Id, out var known) ? known : Adopt(local, generation));
        _log.Info($"Attached {list.Count} persistent database(s)");
        return list;
    }

    private ClusterDatabase Adopt(LocalDatabase local, uint generation)
    {
        var db = new ClusterDatabase(local, generation);
        _byId.Add(db.Id, db);
        return db;
    }

    public void Dispose()
    {
        foreach (var db in _byId.Values)
            db.Detached = true;
        _byId.Clear();
        Store.Dispose();
    }
}
