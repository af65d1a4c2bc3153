using System.Buffers.Binary;
using SharpCtdb.Daemon.Databases;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon.Tests.DbRecovery;

/// <summary>The pure parts of database recovery and replicated writes (behaviour §12.6.3, §12.7.2).</summary>
public sealed class RecoveryLogicTests
{
    private const uint Leader = 1;

    private static RecData Rec(string key, ulong rsn, uint dmaster, string value, uint flags = 0) =>
        RecData.WithHeader(0, System.Text.Encoding.ASCII.GetBytes(key), new LtdbHeader(rsn, dmaster, flags), System.Text.Encoding.ASCII.GetBytes(value));

    private static string Value(RecoveryRecordSet set, string key) =>
        set.TryGet(System.Text.Encoding.ASCII.GetBytes(key), out _, out var v) ? System.Text.Encoding.ASCII.GetString(v) : "<missing>";

    [Fact]
    public void VolatileMergeKeepsTheHighestRsn()
    {
        var set = new RecoveryRecordSet(7, isVolatile: true, Leader);
        set.Add(Rec("a", 5, 0, "from0"));
        set.Add(Rec("a", 3, 2, "from2-older"));
        set.Add(Rec("b", 1, 0, "b-old"));
        set.Add(Rec("b", 2, 2, "b-new"));
        Assert.Equal("from0", Value(set, "a"));
        Assert.Equal("b-new", Value(set, "b"));
    }

    [Fact]
    public void VolatileTieGoesToTheLeadersOwnCopy()
    {
        var set = new RecoveryRecordSet(7, isVolatile: true, Leader);
        set.Add(Rec("a", 4, Leader, "leader"));
        set.Add(Rec("a", 4, 2, "other"));
        Assert.Equal("leader", Value(set, "a"));
        // Equal rsn and the stored copy is not the leader's: the later pull wins.
        set.Add(Rec("c", 4, 0, "first"));
        set.Add(Rec("c", 4, 2, "second"));
        Assert.Equal("second", Value(set, "c"));
    }

    [Fact]
    public void PersistentPullReplacesWithoutRsnRule()
    {
        var set = new RecoveryRecordSet(7, isVolatile: false, Leader);
        set.Add(Rec("a", 9, 0, "x"));
        set.Add(Rec("a", 1, 0, "y"));
        Assert.Equal("y", Value(set, "a"));
    }

    [Fact]
    public void PushDropsEmptyRecordsAndMakesTheLeaderDmasterOfVolatileRecords()
    {
        var set = new RecoveryRecordSet(7, isVolatile: true, Leader);
        set.Add(Rec("a", 3, 0, "va"));
        set.Add(Rec("gone", 8, 2, ""));
        Assert.False(set.Add(new RecData(0, [1], [1, 2, 3])));
        var buffers = set.ToPushBuffers(1_000_000).Select(b => RecBuffer.FromBytes(b));
        var recs = buffers.SelectMany(b => b.Records).ToList();
        Assert.Equal(1, set.PushCount);
        var only = Assert.Single(recs);
        Assert.True(only.TrySplitHeader(out var h, out var v));
        Assert.Equal(Leader, h.Dmaster);
        Assert.Equal(3ul, h.Rsn);
        Assert.Equal(LtdbHeader.FlagMigratedWithData, h.Flags & LtdbHeader.FlagMigratedWithData);
        Assert.Equal("va"u8.ToArray(), v);

        var persistent = new RecoveryRecordSet(7, isVolatile: false, Leader);
        persistent.Add(Rec("p", 3, 2, "vp"));
        Assert.True(Assert.Single(persistent.ToPushBuffers(1000).SelectMany(b => RecBuffer.FromBytes(b).Records)).TrySplitHeader(out var ph, out _));
        Assert.Equal(2u, ph.Dmaster);
    }

    [Fact]
    public void PushIsSplitIntoBuffersBySize()
    {
        var set = new RecoveryRecordSet(7, isVolatile: false, Leader);
        for (var i = 0; i < 100; i++)
            set.Add(Rec($"key{i}", 1, 0, new string('x', 100)));
        var buffers = set.ToPushBuffers(1000).Select(b => RecBuffer.FromBytes(b)).ToList();
        Assert.True(buffers.Count > 5);
        Assert.Equal(100, buffers.Sum(b => b.Records.Count));
        Assert.All(buffers, b => Assert.Equal(7u, b.DbId));
    }

    [Fact]
    public void PulledBuffersMergeFromTheWireAndMalformedOnesAreRejected()
    {
        var w = new RecBufferWriter(7, 1_000_000);
        var a = Rec("a", 2, 0, "new");
        w.Add(a.Key, a.Data);
        var b = Rec("b", 1, 0, "b");
        w.Add(b.Key, b.Data);
        var bytes = w.Take();
        Assert.Equal(0, w.Count);
        // The writer's output is an ordinary rec_buffer.
        Assert.Equal(2, RecBuffer.FromBytes(bytes).Records.Count);

        var set = new RecoveryRecordSet(7, isVolatile: true, Leader);
        set.Add(Rec("a", 3, 2, "newest"));
        Assert.Equal(2, set.AddBuffer(bytes.AsSpan()));
        Assert.Equal("newest", Value(set, "a"));
        Assert.Equal("b", Value(set, "b"));

        var truncated = bytes.AsSpan(0, bytes.Length - 5).ToArray();
        Assert.Throws<ProtocolException>(() => set.AddBuffer(truncated.AsSpan()));
        var lying = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(lying.AsSpan(8 + 8), 1_000_000);
        Assert.Throws<ProtocolException>(() => set.AddBuffer(lying.AsSpan()));
    }

    private static LocalDatabase OpenDb(string dir, DatabaseKind kind, out DatabaseStore store)
    {
        store = new DatabaseStore(new DatabaseStoreOptions(dir, dir, dir, 0) { HashSize = 131 });
        return store.Attach(kind == DatabaseKind.Persistent ? "p.tdb" : "v.tdb", kind);
    }

    private static string? Apply(LocalDatabase db, params RecData[] records)
    {
        db.File.TransactionStart();
        var why = PersistentStore.ApplyUpdate(db, new RecBuffer(db.Id, records));
        if (why is null)
            db.File.TransactionCommit();
        else
            db.File.TransactionCancel();
        return why;
    }

    [Fact]
    public void UpdateRecordAppliesABatchOrNothing()
    {
        var dir = Directory.CreateTempSubdirectory("sc-dbb-");
        try
        {
            var db = OpenDb(dir.FullName, DatabaseKind.Persistent, out var store);
            using (store)
            {
                Assert.Null(Apply(db, Rec("k1", 1, 0, "v1"), Rec("k2", 1, 0, "v2")));
                Assert.Equal("v1"u8.ToArray(), db.Fetch("k1"u8)!.Data);
                // Same rsn with the same data is accepted (a resent commit).
                Assert.Null(Apply(db, Rec("k1", 1, 0, "v1")));
                // An older/equal rsn with different data fails the whole batch: k3 must not appear.
                Assert.NotNull(Apply(db, Rec("k3", 1, 0, "v3"), Rec("k2", 1, 0, "other")));
                Assert.Null(db.Fetch("k3"u8));
                Assert.Equal("v2"u8.ToArray(), db.Fetch("k2"u8)!.Data);
                Assert.Null(Apply(db, Rec("k2", 2, 1, "newer")));
                Assert.Equal("newer"u8.ToArray(), db.Fetch("k2"u8)!.Data);
                Assert.Equal(1u, db.Fetch("k2"u8)!.Header.Dmaster);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void UpdateRecordOnAVolatileDbOnlyReplacesExistingKeys()
    {
        var dir = Directory.CreateTempSubdirectory("sc-dbb-");
        try
        {
            var db = OpenDb(dir.FullName, DatabaseKind.Volatile, out var store);
            using (store)
            {
                db.Store("have"u8, new LtdbHeader(1, 0), "old"u8);
                Assert.Null(Apply(db, Rec("have", 2, 0, "new"), Rec("nothere", 1, 0, "x")));
                Assert.Equal("new"u8.ToArray(), db.Fetch("have"u8)!.Data);
                Assert.Null(db.Fetch("nothere"u8));
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void RecoveryCommitWipesThenStoresAndStripsReadOnlyFlags()
    {
        var dir = Directory.CreateTempSubdirectory("sc-dbb-");
        try
        {
            var db = OpenDb(dir.FullName, DatabaseKind.Persistent, out var store);
            using (store)
            {
                db.Store("stale"u8, new LtdbHeader(5, 0), "x"u8);
                var seq = RecData.WithHeader(0, LtdbRecord.SequenceNumberKey.ToArray(), new LtdbHeader(2, 0), BitConverter.GetBytes(9UL));
                db.File.TransactionStart();
                PersistentStore.ApplyRecovery(db, wipe: true, [seq, Rec("k", 3, 1, "v", LtdbHeader.FlagRoHaveDelegations | 0x10000)]);
                db.File.TransactionCommit();
                Assert.Null(db.Fetch("stale"u8));
                Assert.Equal(9ul, db.GetSequenceNumber());
                var k = db.Fetch("k"u8)!;
                Assert.Equal(0x10000u, k.Header.Flags);
                Assert.Equal(2, db.CountRecords());
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void RecoveryChangesNothingOnlyWhenThePushEqualsTheWholeDb()
    {
        static byte[] Buffer(params RecData[] recs)
        {
            var w = new RecBufferWriter(0, int.MaxValue);
            foreach (var r in recs)
                w.Add(r.Key, r.Data);
            return w.Take();
        }
        var dir = Directory.CreateTempSubdirectory("sc-dbb-");
        try
        {
            var db = OpenDb(dir.FullName, DatabaseKind.Persistent, out var store);
            using (store)
            {
                db.Store("a"u8, new LtdbHeader(3, 1), "va"u8);
                db.Store("b"u8, new LtdbHeader(1, 0), "vb"u8);
                Assert.True(PersistentStore.RecoveryChangesNothing(db, [Buffer(Rec("a", 3, 1, "va")), Buffer(Rec("b", 1, 0, "vb"))]));
                // Read-only flags are dropped on store, so a pushed copy that differs only in them changes nothing.
                Assert.True(PersistentStore.RecoveryChangesNothing(db, [Buffer(Rec("a", 3, 1, "va", LtdbHeader.FlagRoHaveDelegations), Rec("b", 1, 0, "vb"))]));
                Assert.False(PersistentStore.RecoveryChangesNothing(db, [Buffer(Rec("a", 3, 1, "va"), Rec("b", 1, 0, "vB"))]), "data differs");
                Assert.False(PersistentStore.RecoveryChangesNothing(db, [Buffer(Rec("a", 4, 1, "va"), Rec("b", 1, 0, "vb"))]), "header differs");
                Assert.False(PersistentStore.RecoveryChangesNothing(db, [Buffer(Rec("a", 3, 1, "va"))]), "the wipe would drop b");
                Assert.False(PersistentStore.RecoveryChangesNothing(db, [Buffer(Rec("a", 3, 1, "va"), Rec("b", 1, 0, "vb"), Rec("c", 1, 0, "vc"))]), "c is new");
                Assert.False(PersistentStore.RecoveryChangesNothing(db, [Buffer(Rec("a", 3, 1, "va"), Rec("a", 3, 1, "va"))]), "a twice, b missing");
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
