using System.Text;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tdb.Tests;

public sealed class DatabaseStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _volatile;
    private readonly string _persistent;
    private readonly string _state;

    public DatabaseStoreTests()
    {
        _volatile = _dir.Sub("volatile");
        _persistent = _dir.Sub("persistent");
        _state = _dir.Sub("state");
    }

    public void Dispose() => _dir.Dispose();

    private DatabaseStore NewStore(uint pnn = 0, bool mutexes = true, CtdbLog? log = null) =>
        new(new DatabaseStoreOptions(_volatile, _persistent, _state, pnn) { HashSize = 1009, TdbMutexes = mutexes }, log);

    private static int ExpectedVolatileFlags => TdbFile.RuntimeSupportsRobustMutexes() ? 0x1c41 : 0x0c41;

    [Fact]
    public void FlagsPerKindMatchRealCtdbd()
    {
        // Observed DB_OPEN_FLAGS of real ctdbd 4.17 on this machine: volatile 0x1c41, replicated 0x0c41, persistent 0x0400.
        Assert.Equal(0x1c41, DatabaseStore.TdbFlagsFor(DatabaseKind.Volatile, mutexes: true));
        Assert.Equal(0x0c41, DatabaseStore.TdbFlagsFor(DatabaseKind.Volatile, mutexes: false));
        Assert.Equal(0x0c41, DatabaseStore.TdbFlagsFor(DatabaseKind.Replicated, mutexes: true));
        Assert.Equal(0x0400, DatabaseStore.TdbFlagsFor(DatabaseKind.Persistent, mutexes: true));
        Assert.Equal(0x0c49, DatabaseStore.TdbFlagsFor(DatabaseKind.Replicated, mutexes: false, noMmap: true));
    }

    [Fact]
    public void AttachOpensFilesLikeCtdbd()
    {
        using var store = NewStore(pnn: 2);
        var vol = store.Attach("foo.tdb", DatabaseKind.Volatile, out var isNew);
        Assert.True(isNew);
        var per = store.Attach("bar.tdb", DatabaseKind.Persistent);
        var rep = store.Attach("rep.tdb", DatabaseKind.Replicated);

        Assert.Equal(Path.Combine(_volatile, "foo.tdb.2"), vol.Path);
        Assert.Equal(Path.Combine(_persistent, "bar.tdb.2"), per.Path);
        Assert.Equal(Path.Combine(_volatile, "rep.tdb.2"), rep.Path);
        Assert.True(File.Exists(vol.Path) && File.Exists(per.Path) && File.Exists(rep.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(vol.Path));

        // DB_OPEN_FLAGS = tdb_get_flags of the open handle.
        Assert.Equal(ExpectedVolatileFlags, vol.OpenFlags);
        Assert.Equal(0x0400, per.OpenFlags);
        Assert.Equal(0x0c41, rep.OpenFlags);
        Assert.Equal(1009, vol.File.HashSize);

        Assert.Equal(0x88127240u, vol.Id);
        Assert.Equal(DbFlags.None, vol.Flags);
        Assert.Equal(DbFlags.Persistent, per.Flags);
        Assert.Equal(DbFlags.Replicated, rep.Flags);

        // GET_DBMAP order of ctdbd: newest first.
        Assert.Equal(["rep.tdb", "bar.tdb", "foo.tdb"], store.Databases.Select(d => d.Name));
        Assert.True(store.TryGet(per.Id, out var byId) && ReferenceEquals(per, byId));
        Assert.True(store.TryGetByName("rep.tdb", out var byName) && ReferenceEquals(rep, byName));
        Assert.False(store.TryGet(0x12345678, out _));
    }

    [Fact]
    public void MutexesCanBeDisabled()
    {
        using var store = NewStore(mutexes: false);
        Assert.False(store.UsesMutexes);
        Assert.Equal(0x0c41, store.Attach("foo.tdb", DatabaseKind.Volatile).OpenFlags);
    }

    [Fact]
    public void AttachLogsLikeCtdbd()
    {
        var sink = new ListSink();
        using var store = NewStore(log: new CtdbLog("ctdbd", sink, (int)DebugLevel.Notice));
        var db = store.Attach("foo.tdb", DatabaseKind.Volatile);
        Assert.Contains(sink.Lines, l => l.Contains($"Attached to database '{db.Path}' with flags 0x{ExpectedVolatileFlags:x}"));
    }

    [Fact]
    public void ReattachFollowsFlagContainment()
    {
        using var store = NewStore();
        var per = store.Attach("p.tdb", DatabaseKind.Persistent);
        var vol = store.Attach("v.tdb", DatabaseKind.Volatile);

        Assert.Same(per, store.Attach("p.tdb", DatabaseKind.Persistent, out var again));
        Assert.False(again);
        // A volatile attach of a persistent db succeeds and returns it; the reverse fails.
        Assert.Same(per, store.Attach("p.tdb", DatabaseKind.Volatile));
        Assert.Throws<DatabaseAttachException>(() => store.Attach("v.tdb", DatabaseKind.Persistent));
        Assert.Throws<DatabaseAttachException>(() => store.Attach("v.tdb", DatabaseKind.Replicated));
        Assert.Throws<DatabaseAttachException>(() => store.Attach("p.tdb", DatabaseKind.Replicated));
        Assert.Throws<DatabaseAttachException>(() => store.Attach("../evil.tdb", DatabaseKind.Volatile));
        Assert.Same(vol, store.Attach("v.tdb", DatabaseKind.Volatile));
        Assert.Equal(2, store.Databases.Count);
    }

    [Fact]
    public void VolatileAttachWipesOldContentWhenNobodyElseHasItOpen()
    {
        using (var store = NewStore())
        {
            var vol = store.Attach("foo.tdb", DatabaseKind.Volatile);
            var rep = store.Attach("rep.tdb", DatabaseKind.Replicated);
            var per = store.Attach("bar.tdb", DatabaseKind.Persistent);
            foreach (var db in new[] { vol, rep, per })
                db.Store("key"u8, new LtdbHeader(1, 0), "data"u8);
        }

        using var again = NewStore();
        Assert.Equal(0, again.Attach("foo.tdb", DatabaseKind.Volatile).CountRecords());
        Assert.Equal(0, again.Attach("rep.tdb", DatabaseKind.Replicated).CountRecords());
        var kept = again.Attach("bar.tdb", DatabaseKind.Persistent).Fetch("key"u8);
        Assert.NotNull(kept);
        Assert.Equal("data"u8.ToArray(), kept.Data);
    }

    [Fact]
    public void VolatileAttachRefusesAFileStillHeldByAnotherProcess()
    {
        var path = Path.Combine(_volatile, "foo.tdb.0");
        var flags = DatabaseStore.TdbFlagsFor(DatabaseKind.Volatile, TdbFile.RuntimeSupportsRobustMutexes());
        // A "stale smbd" keeps the file open, so CLEAR_IF_FIRST will not wipe it at the daemon's next open.
        using var stale = TdbChildProcess.Start(path, flags, OpenFlags.ReadWrite | OpenFlags.Create);
        Assert.Equal("OK", stale.Send("store 6B " + TdbChildProcess.Hex(LtdbRecord.Build(new LtdbHeader(1, 0), "x"u8))));

        using var store = NewStore();
        var e = Assert.Throws<DatabaseNotEmptyException>(() => store.Attach("foo.tdb", DatabaseKind.Volatile));
        Assert.Contains("not empty on attach", e.Message);
        Assert.Empty(store.Databases);

        // Once the stale opener is gone the attach works and starts empty.
        stale.Dispose();
        Assert.Equal(0, store.Attach("foo.tdb", DatabaseKind.Volatile).CountRecords());
    }

    [Fact]
    public void ClientsOpenTheFileWithDbOpenFlags()
    {
        using var store = NewStore();
        var db = store.Attach("locking.tdb", DatabaseKind.Volatile);
        // What smbd / the tool do: open with DB_OPEN_FLAGS, O_RDWR, no O_CREAT; then lock and write records.
        using var client = TdbChildProcess.Start(db.Path, db.OpenFlags, OpenFlags.ReadWrite);
        Assert.Equal("OK 0", client.Send("count"));
        var value = LtdbRecord.Build(new LtdbHeader(5, 0), "share-mode"u8);
        Assert.Equal("OK", client.Send("lock 6B6579"));
        Assert.False(db.File.TryChainLock("key"u8));
        Assert.Equal("OK", client.Send($"store 6B6579 {TdbChildProcess.Hex(value)}"));
        Assert.Equal("OK", client.Send("unlock 6B6579"));

        var record = db.Fetch("key"u8);
        Assert.NotNull(record);
        Assert.Equal(5ul, record.Header.Rsn);
        Assert.Equal("share-mode"u8.ToArray(), record.Data);
    }

    [Fact]
    public void RecordsTraverseSequenceNumberAndWipe()
    {
        using var store = NewStore();
        var db = store.Attach("bar.tdb", DatabaseKind.Persistent);
        Assert.Equal(0ul, db.GetSequenceNumber());
        db.Store("a"u8, new LtdbHeader(1, 0), "one"u8);
        db.Store("deleted"u8, new LtdbHeader(2, 0), []);
        db.File.Store("short"u8, "not a ctdb record"u8[..10]);
        db.File.Store(LtdbRecord.SequenceNumberKey, LtdbRecord.BuildSequenceNumber(new LtdbHeader(3, 0), 3));
        Assert.Equal(3ul, db.GetSequenceNumber());

        Assert.Null(db.Fetch("short"u8));
        Assert.Null(db.Fetch("nothing"u8));
        Assert.Null(db.FetchHeader("nothing"u8));
        Assert.Equal(new LtdbHeader(2, 0), db.FetchHeader("deleted"u8));
        Assert.True(db.Fetch("deleted"u8)!.IsEmpty);

        var all = db.ReadRecords().Select(r => Encoding.ASCII.GetString(r.Key).TrimEnd('\0')).Order().ToList();
        Assert.Equal(["__db_sequence_number__", "a", "deleted"], all);
        var nonEmpty = db.ReadRecords(includeEmpty: false).Select(r => Encoding.ASCII.GetString(r.Key).TrimEnd('\0')).Order().ToList();
        Assert.Equal(["__db_sequence_number__", "a"], nonEmpty);
        Assert.Equal(4, db.CountRecords());

        var visited = db.Traverse((key, header, data) =>
        {
            if (key.SequenceEqual("a"u8))
            {
                Assert.Equal(1ul, header.Rsn);
                Assert.Equal("one"u8.ToArray(), data.ToArray());
            }
            return true;
        }, includeEmpty: true, readOnly: false);
        Assert.Equal(3, visited);

        Assert.True(db.Delete("a"u8));
        Assert.False(db.Delete("a"u8));
        db.Wipe();
        Assert.Equal(0, db.CountRecords());
        Assert.Equal(0ul, db.GetSequenceNumber());
    }

    [Fact]
    public void EnableSequenceNumberShowsInOpenFlags()
    {
        using var store = NewStore();
        var db = store.Attach("foo.tdb", DatabaseKind.Volatile);
        db.EnableSequenceNumber();
        // Real ctdbd answers DB_OPEN_FLAGS 0x1cc1 after ENABLE_SEQNUM (checked on 4.17).
        Assert.Equal(ExpectedVolatileFlags | TdbFlags.Seqnum, db.OpenFlags);
        var before = db.TdbSequenceNumber;
        db.Store("k"u8, new LtdbHeader(1, 0), "v"u8);
        Assert.True(db.TdbSequenceNumber > before);
    }

    [Fact]
    public void ReadOnlyAndStickyOnlyForVolatile()
    {
        using var store = NewStore();
        var vol = store.Attach("v.tdb", DatabaseKind.Volatile);
        var per = store.Attach("p.tdb", DatabaseKind.Persistent);
        var rep = store.Attach("r.tdb", DatabaseKind.Replicated);
        Assert.True(vol.SetReadOnly());
        Assert.True(vol.SetReadOnly());
        Assert.True(vol.SetSticky());
        Assert.Equal(DbFlags.ReadOnly | DbFlags.Sticky, vol.Flags);
        Assert.False(per.SetReadOnly());
        Assert.False(rep.SetSticky());
        Assert.Equal(DbFlags.Persistent, per.Flags);
        Assert.Equal(DbFlags.Replicated, rep.Flags);
    }

    [Fact]
    public void HealthIsTracked()
    {
        using var store = NewStore();
        var db = store.Attach("p.tdb", DatabaseKind.Persistent);
        Assert.True(db.IsHealthy);
        Assert.Null(db.UnhealthyReason);
        Assert.False(db.MarkHealthy());
        db.MarkUnhealthy("recovery failed");
        Assert.False(db.IsHealthy);
        Assert.Equal("recovery failed", db.UnhealthyReason);
        Assert.True(db.MarkHealthy());
        Assert.True(db.IsHealthy);
    }

    [Fact]
    public void StartupAttachesOwnPersistentFiles()
    {
        using (var first = NewStore(pnn: 1))
        {
            first.Attach("ctdb.tdb", DatabaseKind.Persistent).Store("x"u8, new LtdbHeader(1, 1), "y"u8);
            first.Attach("secrets.tdb", DatabaseKind.Persistent);
        }
        // Another node's file in a shared directory, and junk.
        TdbFile.Open(Path.Combine(_persistent, "other.tdb.0"), 131, 0, OpenFlags.ReadWrite | OpenFlags.Create).Dispose();
        File.WriteAllText(Path.Combine(_persistent, "README"), "not a db");
        File.WriteAllText(Path.Combine(_persistent, "weird.tdb.x1"), "not a db");

        var sink = new ListSink();
        using var store = NewStore(pnn: 1, log: new CtdbLog("ctdbd", sink, (int)DebugLevel.Info));
        var attached = store.AttachPersistentDatabases();
        Assert.Equal(["ctdb.tdb", "secrets.tdb"], attached.Select(d => d.Name));
        Assert.All(attached, d => Assert.Equal(DatabaseKind.Persistent, d.Kind));
        Assert.Equal("y"u8.ToArray(), store.Databases.Single(d => d.Name == "ctdb.tdb").Fetch("x"u8)!.Data);
        Assert.Contains(sink.Lines, l => l.Contains("Ignoring persistent database 'README'"));
    }

    [Fact]
    public void CorruptPersistentFileFailsTheAttach()
    {
        var path = Path.Combine(_persistent, "bad.tdb.0");
        using (var tdb = TdbFile.Open(path, 131, 0, OpenFlags.ReadWrite | OpenFlags.Create))
        {
            for (var i = 0; i < 20; i++)
                tdb.Store(Encoding.ASCII.GetBytes($"k{i}"), Enumerable.Repeat((byte)0x5a, 64).ToArray());
        }
        var bytes = File.ReadAllBytes(path);
        var at = bytes.AsSpan().IndexOf(Enumerable.Repeat((byte)0x5a, 64).ToArray());
        bytes.AsSpan(at - 40, 600).Fill(0xee);
        File.WriteAllBytes(path, bytes);

        using var store = NewStore();
        var e = Assert.Throws<DatabaseAttachException>(store.AttachPersistentDatabases);
        Assert.Contains("corrupt", e.Message);
        Assert.Empty(store.Databases);
    }

    [Fact]
    public void PersistentFileNameParsing()
    {
        Assert.True(DatabaseStore.TryParsePersistentFileName("ctdb.tdb.0", out var name, out var pnn));
        Assert.Equal(("ctdb.tdb", 0u), (name, pnn));
        Assert.True(DatabaseStore.TryParsePersistentFileName("a.b.tdb.12", out name, out pnn));
        Assert.Equal(("a.b.tdb", 12u), (name, pnn));
        Assert.False(DatabaseStore.TryParsePersistentFileName("ctdb.tdb", out _, out _));
        Assert.False(DatabaseStore.TryParsePersistentFileName("ctdb.tdb.", out _, out _));
        Assert.False(DatabaseStore.TryParsePersistentFileName(".tdb.0", out _, out _));
        Assert.False(DatabaseStore.TryParsePersistentFileName("x.tdb.-1", out _, out _));
        Assert.False(DatabaseStore.TryParsePersistentFileName("x.db.1", out _, out _));
    }

    [Fact]
    public void DetachClosesTheFileButKeepsIt()
    {
        using var store = NewStore();
        var db = store.Attach("foo.tdb", DatabaseKind.Volatile);
        Assert.True(store.Detach(db.Id));
        Assert.True(db.File.IsDisposed);
        Assert.True(File.Exists(db.Path));
        Assert.False(store.TryGet(db.Id, out _));
        Assert.False(store.Detach(db.Id));
        // The same process can open it again now that the handle is closed.
        Assert.NotSame(db, store.Attach("foo.tdb", DatabaseKind.Volatile));
    }

    private sealed class ListSink : ILogSink
    {
        private readonly Lock _lock = new();
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lock)
                    return [.. _lines];
            }
        }

        public void Write(DebugLevel level, string line)
        {
            lock (_lock)
                _lines.Add(line);
        }
    }
}
