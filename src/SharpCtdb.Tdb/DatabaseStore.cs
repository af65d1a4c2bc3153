using System.Globalization;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tdb;

/// <summary>Where and how the daemon keeps its database files (ctdb.conf [database] + tunables).</summary>
public sealed record DatabaseStoreOptions(string VolatileDirectory, string PersistentDirectory, string StateDirectory, uint Pnn)
{
    /// <summary>Tunable DatabaseHashSize: hash chains of newly created files.</summary>
    public int HashSize { get; init; } = 100001;

    /// <summary>Tunable DatabaseMaxDead.</summary>
    public int MaxDead { get; init; } = 5;

    /// <summary>ctdb.conf `tdb mutexes`: allow TDB_MUTEX_LOCKING on volatile dbs.</summary>
    public bool TdbMutexes { get; init; } = true;

    /// <summary>Add TDB_NOMMAP to every db (what ctdbd does under valgrind).</summary>
    public bool NoMmap { get; init; }
}

/// <summary>An attach that CTDB refuses (wrong kind for an existing name, id clash, bad name, corrupt file ...).</summary>
public sealed class DatabaseAttachException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A volatile/replicated database still had records after its CLEAR_IF_FIRST open: another process (e.g. a
/// stale smbd) holds the old file open. Real ctdbd aborts the whole daemon in this case.</summary>
public sealed class DatabaseNotEmptyException(string message) : Exception(message);

/// <summary>
/// The databases attached on this node and their tdb files, opened exactly like ctdbd 4.17 opens them (behaviour §12.2),
/// so smbd and the ctdb tool can open the same files with the flags DB_OPEN_FLAGS returns.
/// The attach bookkeeping is thread-safe; each <see cref="LocalDatabase"/> follows the one-owner rule of <see cref="TdbFile"/>.
/// </summary>
public sealed class DatabaseStore : IDisposable
{
    private static readonly Lazy<bool> RobustMutexes = new(TdbFile.RuntimeSupportsRobustMutexes);

    private readonly Lock _lock = new();
    private readonly Dictionary<uint, LocalDatabase> _byId = [];
    private readonly Dictionary<string, LocalDatabase> _byName = new(StringComparer.Ordinal);
    // Attach order; ctdbd lists databases newest first in GET_DBMAP.
    private readonly List<LocalDatabase> _order = [];
    private readonly CtdbLog _log;

    public DatabaseStore(DatabaseStoreOptions options, CtdbLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        HashSize = options.HashSize;
        MaxDead = options.MaxDead;
        _log = log ?? CtdbLog.Null;
    }

    public DatabaseStoreOptions Options { get; }

    /// <summary>Current DatabaseHashSize (the tunable can change at run time; applies to later attaches).</summary>
    public int HashSize { get; set; }

    /// <summary>Current DatabaseMaxDead (applies to later attaches).</summary>
    public int MaxDead { get; set; }

    /// <summary>True if volatile dbs get TDB_MUTEX_LOCKING (`tdb mutexes` on and robust mutexes available).</summary>
    public bool UsesMutexes => Options.TdbMutexes && RobustMutexes.Value;

    /// <summary>Attached databases, newest first (GET_DBMAP order of ctdbd).</summary>
    public IReadOnlyList<LocalDatabase> Databases
    {
        get
        {
            lock (_lock)
            {
                var list = new List<LocalDatabase>(_order);
                list.Reverse();
                return list;
            }
        }
    }

    /// <summary>libtdb flags ctdbd 4.17 uses for a kind (observed: volatile 0x1c41 / 0x0c41 without mutexes,
    /// replicated 0x0c41, persistent 0x0400).</summary>
    public static int TdbFlagsFor(DatabaseKind kind, bool mutexes, bool noMmap = false)
    {
        var flags = kind switch
        {
            DatabaseKind.Persistent => TdbFlags.Default,
            DatabaseKind.Replicated => TdbFlags.NoSync | TdbFlags.ClearIfFirst | TdbFlags.IncompatibleHash,
            _ => TdbFlags.NoSync | TdbFlags.ClearIfFirst | TdbFlags.IncompatibleHash | (mutexes ? TdbFlags.MutexLocking : 0),
        };
        flags |= TdbFlags.DisallowNesting;
        if (noMmap)
            flags |= TdbFlags.NoMmap;
        return flags;
    }

    /// <summary>Flags this store uses for <paramref name="kind"/>.</summary>
    public int TdbFlagsFor(DatabaseKind kind) => TdbFlagsFor(kind, UsesMutexes, Options.NoMmap);

    /// <summary>`&lt;dir&gt;/&lt;name&gt;.&lt;pnn&gt;`; volatile and replicated dbs live in the volatile directory.</summary>
    public string PathFor(string name, DatabaseKind kind)
    {
        var dir = kind == DatabaseKind.Persistent ? Options.PersistentDirectory : Options.VolatileDirectory;
        return System.IO.Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"{name}.{Options.Pnn}"));
    }

    public static DbFlags DbFlagsFor(DatabaseKind kind) => kind switch
    {
        DatabaseKind.Persistent => DbFlags.Persistent,
        DatabaseKind.Replicated => DbFlags.Replicated,
        _ => DbFlags.None,
    };

    public bool TryGet(uint dbId, out LocalDatabase database)
    {
        lock (_lock)
            return _byId.TryGetValue(dbId, out database!);
    }

    public bool TryGetByName(string name, out LocalDatabase database)
    {
        lock (_lock)
            return _byName.TryGetValue(name, out database!);
    }

    /// <summary>Attaches (opening/creating the file) or returns the already attached db.</summary>
    public LocalDatabase Attach(string name, DatabaseKind kind) => Attach(name, kind, out _);

    /// <summary>
    /// DB_ATTACH / _PERSISTENT / _REPLICATED on this node. An existing name is returned when its flags contain the
    /// requested kind bit (so a volatile attach of a persistent db succeeds); otherwise, and when the name's id
    /// collides with another db, <see cref="DatabaseAttachException"/>. A new volatile/replicated db that still has
    /// records after opening throws <see cref="DatabaseNotEmptyException"/>; a corrupt persistent file throws
    /// <see cref="DatabaseAttachException"/>.
    /// </summary>
    /// <param name="isNew">true if the db was attached by this call (the daemon then broadcasts the attach).</param>
    public LocalDatabase Attach(string name, DatabaseKind kind, out bool isNew)
    {
        ValidateName(name);
        var id = DatabaseId.FromName(name);
        lock (_lock)
        {
            if (_byName.TryGetValue(name, out var existing))
            {
                var requested = DbFlagsFor(kind);
                if ((existing.Flags & requested) != requested)
                    throw new DatabaseAttachException($"database '{name}' is already attached as {existing.Kind}, cannot attach as {kind}");
                isNew = false;
                return existing;
            }
            if (_byId.TryGetValue(id, out var clash))
                throw new DatabaseAttachException($"database '{name}' has id 0x{id:x8}, already used by '{clash.Name}'");

            var db = Open(name, kind);
            _byId.Add(id, db);
            _byName.Add(name, db);
            _order.Add(db);
            isNew = true;
            return db;
        }
    }

    /// <summary>Forgets a db and closes its file (the file stays on disk). False if unknown.</summary>
    public bool Detach(uint dbId)
    {
        LocalDatabase? db;
        lock (_lock)
        {
            if (!_byId.Remove(dbId, out db))
                return false;
            _byName.Remove(db.Name);
            _order.Remove(db);
        }
        db.Dispose();
        return true;
    }

    /// <summary>
    /// Start-up step 1: attach every `&lt;name&gt;.tdb.&lt;pnn&gt;` file of the persistent directory that belongs to this
    /// node. Any attach failure (e.g. a corrupt file) propagates: the daemon must not start.
    /// </summary>
    public IReadOnlyList<LocalDatabase> AttachPersistentDatabases()
    {
        var attached = new List<LocalDatabase>();
        var dir = Options.PersistentDirectory;
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"persistent database directory '{dir}' does not exist");
        foreach (var path in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
        {
            var file = System.IO.Path.GetFileName(path);
            if (!TryParsePersistentFileName(file, out var name, out var pnn))
            {
                _log.Info($"Ignoring persistent database '{file}'");
                continue;
            }
            if (pnn != Options.Pnn)
                continue;
            attached.Add(Attach(name, DatabaseKind.Persistent));
        }
        return attached;
    }

    /// <summary>Splits `&lt;name&gt;.tdb.&lt;digits&gt;` into the db name (ending in .tdb) and the pnn.</summary>
    public static bool TryParsePersistentFileName(string fileName, out string name, out uint pnn)
    {
        name = "";
        pnn = 0;
        var marker = fileName.LastIndexOf(".tdb.", StringComparison.Ordinal);
        if (marker <= 0)
            return false;
        var digits = fileName.AsSpan(marker + ".tdb.".Length);
        if (digits.IsEmpty || digits.ContainsAnyExceptInRange('0', '9') ||
            !uint.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out pnn))
            return false;
        name = fileName[..(marker + ".tdb".Length)];
        return true;
    }

    public void Dispose()
    {
        List<LocalDatabase> all;
        lock (_lock)
        {
            all = [.. _order];
            _byId.Clear();
            _byName.Clear();
            _order.Clear();
        }
        foreach (var db in all)
            db.Dispose();
    }

    private LocalDatabase Open(string name, DatabaseKind kind)
    {
        var path = PathFor(name, kind);
        var tdbFlags = TdbFlagsFor(kind);
        TdbFile file;
        try
        {
            file = TdbFile.Open(path, HashSize, tdbFlags, OpenFlags.ReadWrite | OpenFlags.Create, TdbFile.DefaultMode);
        }
        catch (TdbException e)
        {
            throw new DatabaseAttachException($"Failed to open tdb '{path}': {e.Message}", e);
        }

        try
        {
            file.SetMaxDead(MaxDead);
            if (kind == DatabaseKind.Persistent)
            {
                try
                {
                    file.CheckIntegrity();
                }
                catch (TdbException e)
                {
                    throw new DatabaseAttachException($"database '{path}' is corrupt: {e.Message}", e);
                }
            }
            else
            {
                // CLEAR_IF_FIRST only wipes when nobody else has the file open; leftover records mean a stale opener.
                var count = file.Count();
                if (count > 0)
                    throw new DatabaseNotEmptyException($"database '{path}' not empty on attach ({count} records)");
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }

        _log.Notice($"Attached to database '{path}' with flags 0x{file.Flags:x}");
        return new LocalDatabase(name, kind, path, file);
    }

    private static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('/') || name.Contains('\0') || name is "." or "..")
            throw new DatabaseAttachException($"invalid database name '{name}'");
    }
}
