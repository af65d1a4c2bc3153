using System.Diagnostics;
using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tdb.Tests;

public class TdbFileTests
{
    private static readonly int Rw = OpenFlags.ReadWrite | OpenFlags.Create;

    [Fact]
    public void StoreFetchExistsDelete()
    {
        using var dir = new TempDir();
        using var tdb = TdbFile.Open(dir.File("a.tdb"), 131, TdbFlags.Default, Rw);
        Assert.Null(tdb.Fetch("missing"u8));
        Assert.False(tdb.Exists("k"u8));

        tdb.Store("k"u8, "v1"u8);
        Assert.True(tdb.Exists("k"u8));
        Assert.Equal("v1"u8.ToArray(), tdb.Fetch("k"u8));

        tdb.Store("k"u8, "value two"u8);
        Assert.Equal("value two"u8.ToArray(), tdb.Fetch("k"u8));

        Assert.True(tdb.Delete("k"u8));
        Assert.False(tdb.Exists("k"u8));
        Assert.False(tdb.Delete("k"u8));
        Assert.Equal(0, tdb.Count());
    }

    [Fact]
    public void EmptyKeyAndEmptyValueRoundTrip()
    {
        using var tdb = TdbFile.OpenInternal();
        tdb.Store([], "for empty key"u8);
        tdb.Store("empty value"u8, []);
        Assert.Equal("for empty key"u8.ToArray(), tdb.Fetch([]));
        Assert.Equal(Array.Empty<byte>(), tdb.Fetch("empty value"u8));
        Assert.True(tdb.Exists("empty value"u8));
        Assert.Equal(2, tdb.Count());
    }

    [Fact]
    public void InsertAndModifyModesReportTdbErrors()
    {
        using var tdb = TdbFile.OpenInternal();
        tdb.Store("k"u8, "1"u8, TdbStoreMode.Insert);
        var exists = Assert.Throws<TdbException>(() => tdb.Store("k"u8, "2"u8, TdbStoreMode.Insert));
        Assert.Equal(TdbError.Exists, exists.Error);
        Assert.Contains("tdb_store", exists.Message);
        Assert.Contains("exists", exists.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("1"u8.ToArray(), tdb.Fetch("k"u8));

        var missing = Assert.Throws<TdbException>(() => tdb.Store("other"u8, "2"u8, TdbStoreMode.Modify));
        Assert.Equal(TdbError.NoExist, missing.Error);
        Assert.False(tdb.TryStore("other"u8, "2"u8, TdbStoreMode.Modify));
        Assert.Equal(TdbError.NoExist, tdb.LastError);
        tdb.Store("k"u8, "3"u8, TdbStoreMode.Modify);
        Assert.Equal("3"u8.ToArray(), tdb.Fetch("k"u8));
    }

    [Fact]
    public void TraverseVisitsEveryRecordAndKeysMatch()
    {
        using var tdb = TdbFile.OpenInternal(17);
        var expected = new Dictionary<string, string>();
        for (var i = 0; i < 200; i++)
        {
            expected[$"key{i}"] = $"value{i}";
            tdb.Store(Tools.Ascii($"key{i}"), Tools.Ascii($"value{i}"));
        }

        var seen = new Dictionary<string, string>();
        var count = tdb.TraverseRead((k, v) =>
        {
            seen.Add(Encoding.ASCII.GetString(k), Encoding.ASCII.GetString(v));
            return true;
        });
        Assert.Equal(200, count);
        Assert.Equal(expected, seen);

        var keys = tdb.Keys().Select(Encoding.ASCII.GetString).Order().ToList();
        Assert.Equal(expected.Keys.Order().ToList(), keys);

        var first = tdb.FirstKey();
        Assert.NotNull(first);
        Assert.NotNull(tdb.NextKey(first));
    }

    [Fact]
    public void WriteTraverseMayDeleteAndStopsWhenAsked()
    {
        using var tdb = TdbFile.OpenInternal();
        for (var i = 0; i < 20; i++)
            tdb.Store(Tools.Ascii($"k{i}"), i % 2 == 0 ? "even"u8 : "odd"u8);

        tdb.Traverse((k, v) =>
        {
            if (v.SequenceEqual("odd"u8))
                tdb.Delete(k);
            return true;
        });
        Assert.Equal(10, tdb.Count());

        var visited = 0;
        tdb.TraverseRead((_, _) => ++visited < 3);
        Assert.Equal(3, visited);
    }

    [Fact]
    public void ExceptionInVisitorPropagatesAndReleasesLocks()
    {
        using var dir = new TempDir();
        using var tdb = TdbFile.Open(dir.File("e.tdb"), 0, TdbFlags.Default, Rw);
        tdb.Store("a"u8, "1"u8);
        tdb.Store("b"u8, "2"u8);
        var e = Assert.Throws<InvalidOperationException>(() => tdb.Traverse((_, _) => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", e.Message);
        // The traverse lock is gone: another process can take the whole-db lock.
        using var child = TdbChildProcess.Start(dir.File("e.tdb"), TdbFlags.Default, OpenFlags.ReadWrite);
        Assert.Equal("OK", child.Send("lockall"));
        Assert.Equal("OK", child.Send("unlockall"));
        tdb.Store("c"u8, "3"u8);
        Assert.Equal(3, tdb.Count());
    }

    [Fact]
    public void FilesWeWriteAreReadByTdbdump()
    {
        using var dir = new TempDir();
        var path = dir.File("dump.tdb.0");
        var header = new LtdbHeader(0x0000000500000003, 2, (uint)RecordFlags.MigratedWithData);
        var withData = LtdbRecord.Build(header, "hello"u8);
        var empty = LtdbRecord.Build(new LtdbHeader(1, 0), []);
        using (var tdb = TdbFile.Open(path, 10007, DatabaseStore.TdbFlagsFor(DatabaseKind.Persistent, false), Rw))
        {
            tdb.Store("plain"u8, withData);
            tdb.Store("bin\0key"u8, empty);
            tdb.Store(LtdbRecord.SequenceNumberKey, LtdbRecord.BuildSequenceNumber(new LtdbHeader(4, 0), 4));
        }

        var dumped = Tools.ParseTdbDump(Tools.Run("tdbdump", null, path));
        var byKey = dumped.ToDictionary(r => Convert.ToHexString(r.Key), r => r.Value);
        Assert.Equal(3, byKey.Count);
        Assert.Equal(withData, byKey[Convert.ToHexString("plain"u8)]);
        Assert.Equal(empty, byKey[Convert.ToHexString("bin\0key"u8)]);
        Assert.Equal(24, byKey[Convert.ToHexString("bin\0key"u8)].Length);
        Assert.Equal(4ul, LtdbRecord.ReadSequenceNumber(byKey[Convert.ToHexString(LtdbRecord.SequenceNumberKey)]));
    }

    [Fact]
    public void VolatileMutexFilesAreReadByTdbdump()
    {
        using var dir = new TempDir();
        var path = dir.File("v.tdb.0");
        using var tdb = TdbFile.Open(path, 10007, DatabaseStore.TdbFlagsFor(DatabaseKind.Volatile, TdbFile.RuntimeSupportsRobustMutexes()), Rw);
        tdb.Store("key"u8, LtdbRecord.Build(new LtdbHeader(9, 1), "v"u8));
        var dumped = Tools.ParseTdbDump(Tools.Run("tdbdump", null, path));
        var record = Assert.Single(dumped);
        Assert.Equal("key"u8.ToArray(), record.Key);
        Assert.Equal(LtdbRecord.Build(new LtdbHeader(9, 1), "v"u8), record.Value);
    }

    [Fact]
    public void FilesWrittenByTdbtoolAreReadByUs()
    {
        using var dir = new TempDir();
        var path = dir.File("tool.tdb");
        Tools.Run("tdbtool", $"create {path}\nstore alpha beta\nstore k\\00x \\01\\02\\ff\nstore gone soon\ndelete gone\nquit\n");

        using var tdb = TdbFile.Open(path, 0, TdbFlags.Default, OpenFlags.ReadWrite);
        Assert.Equal("beta"u8.ToArray(), tdb.Fetch("alpha"u8));
        Assert.Equal(new byte[] { 1, 2, 0xff }, tdb.Fetch("k\0x"u8));
        Assert.Null(tdb.Fetch("gone"u8));
        Assert.Equal(2, tdb.Count());
        tdb.CheckIntegrity();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ChainLockContendsWithAnotherProcess(bool volatileFlags)
    {
        using var dir = new TempDir();
        var path = dir.File("lock.tdb");
        var flags = volatileFlags
            ? DatabaseStore.TdbFlagsFor(DatabaseKind.Volatile, TdbFile.RuntimeSupportsRobustMutexes())
            : TdbFlags.Default;
        using var tdb = TdbFile.Open(path, 1009, flags, Rw);
        using var child = TdbChildProcess.Start(path, flags, OpenFlags.ReadWrite);
        var key = "record-key"u8.ToArray();
        var hex = TdbChildProcess.Hex(key);

        Assert.Equal("OK", child.Send($"lock {hex}"));
        Assert.False(tdb.TryChainLock(key));
        Assert.False(tdb.TryChainLockRead(key));
        Assert.Equal("OK", child.Send($"unlock {hex}"));

        Assert.True(tdb.TryChainLock(key));
        Assert.Equal("BUSY", child.Send($"trylock {hex}"));
        tdb.ChainUnlock(key);
        Assert.Equal("OK", child.Send($"trylock {hex}"));
        Assert.Equal("OK", child.Send($"unlock {hex}"));

        using (tdb.LockChain(key))
            Assert.Equal("BUSY", child.Send($"trylock {hex}"));
        Assert.Equal("OK", child.Send($"trylock {hex}"));
        Assert.Equal("OK", child.Send($"unlock {hex}"));
    }

    [Fact]
    public void MutexChainLocksBelongToTheLockingThread()
    {
        if (!TdbFile.RuntimeSupportsRobustMutexes())
            Assert.Skip("no robust mutexes on this system");
        using var dir = new TempDir();
        using var tdb = TdbFile.Open(dir.File("m.tdb"), 131, DatabaseStore.TdbFlagsFor(DatabaseKind.Volatile, mutexes: true), Rw);
        Assert.NotEqual(0, tdb.Flags & TdbFlags.MutexLocking);
        var owner = new Thread(() => tdb.ChainLock("k"u8)) { IsBackground = true };
        owner.Start();
        Assert.True(owner.Join(TimeSpan.FromSeconds(30)));
        // The mutex belongs to the (now finished) owner thread: this thread cannot release it.
        var e = Assert.Throws<TdbException>(() => tdb.ChainUnlock("k"u8));
        Assert.Contains("tdb_chainunlock", e.Message);
    }

    [Fact]
    public void LockAllContendsWithAnotherProcess()
    {
        using var dir = new TempDir();
        var path = dir.File("all.tdb");
        using var tdb = TdbFile.Open(path, 131, TdbFlags.Default, Rw);
        using var child = TdbChildProcess.Start(path, TdbFlags.Default, OpenFlags.ReadWrite);
        Assert.Equal("OK", child.Send("lockall"));
        Assert.False(tdb.TryLockAll());
        Assert.False(tdb.TryChainLock("x"u8));
        Assert.Equal("OK", child.Send("unlockall"));
        Assert.True(tdb.TryLockAll());
        Assert.Equal("BUSY", child.Send("trylock 78"));
        tdb.UnlockAll();
        Assert.Equal("OK", child.Send("trylock 78"));
        Assert.Equal("OK", child.Send("unlock 78"));
    }

    [Fact]
    public void TransactionStartNonblockContendsWithAnotherProcessesTransaction()
    {
        using var dir = new TempDir();
        var path = dir.File("txlock.tdb");
        using var tdb = TdbFile.Open(path, 131, TdbFlags.DisallowNesting, Rw);
        using var child = TdbChildProcess.Start(path, TdbFlags.DisallowNesting, OpenFlags.ReadWrite);
        Assert.Equal("OK", child.Send("txstart"));
        Assert.False(tdb.TryTransactionStart());
        Assert.False(tdb.TransactionActive);
        Assert.Equal("OK", child.Send("txcancel"));
        Assert.True(tdb.TryTransactionStart());
        Assert.True(tdb.TransactionActive);
        tdb.TransactionCancel();
    }

    [Fact]
    public void RecordsStoredByAnotherProcessAreVisible()
    {
        using var dir = new TempDir();
        var path = dir.File("shared.tdb");
        var flags = DatabaseStore.TdbFlagsFor(DatabaseKind.Volatile, TdbFile.RuntimeSupportsRobustMutexes());
        using var tdb = TdbFile.Open(path, 1009, flags, Rw);
        using var child = TdbChildProcess.Start(path, flags, OpenFlags.ReadWrite);
        Assert.Equal("OK", child.Send("store 6B 0102"));
        Assert.Equal(new byte[] { 1, 2 }, tdb.Fetch("k"u8));
        tdb.Store("m"u8, "z"u8);
        Assert.Equal("OK 7A", child.Send("fetch 6D"));
        Assert.Equal($"OK {flags}", child.Send("flags"));
    }

    [Fact]
    public void TransactionsCommitAndCancel()
    {
        using var dir = new TempDir();
        var path = dir.File("tx.tdb");
        using var tdb = TdbFile.Open(path, 131, TdbFlags.DisallowNesting, Rw);
        tdb.Store("base"u8, "0"u8);

        tdb.TransactionStart();
        Assert.True(tdb.TransactionActive);
        tdb.Store("a"u8, "1"u8);
        tdb.Delete("base"u8);
        Assert.Equal("1"u8.ToArray(), tdb.Fetch("a"u8));
        tdb.TransactionCancel();
        Assert.False(tdb.TransactionActive);
        Assert.Null(tdb.Fetch("a"u8));
        Assert.Equal("0"u8.ToArray(), tdb.Fetch("base"u8));

        tdb.TransactionStart();
        var nested = Assert.Throws<TdbException>(tdb.TransactionStart);
        Assert.Equal(TdbError.Nesting, nested.Error);
        tdb.Store("a"u8, "1"u8);
        tdb.TransactionPrepareCommit();
        tdb.TransactionCommit();
        Assert.Equal("1"u8.ToArray(), tdb.Fetch("a"u8));

        // Committed data is on disk: another process sees it.
        using var child = TdbChildProcess.Start(path, TdbFlags.Default, OpenFlags.ReadWrite);
        Assert.Equal("OK 31", child.Send("fetch 61"));
    }

    [Fact]
    public void SequenceNumberIncrements()
    {
        using var dir = new TempDir();
        using var tdb = TdbFile.Open(dir.File("seq.tdb"), 131, TdbFlags.Seqnum, Rw);
        Assert.NotEqual(0, tdb.Flags & TdbFlags.Seqnum);
        var s0 = tdb.SequenceNumber;
        tdb.Store("a"u8, "1"u8);
        var s1 = tdb.SequenceNumber;
        Assert.True(s1 > s0);
        tdb.Delete("a"u8);
        Assert.True(tdb.SequenceNumber > s1);
        var s2 = tdb.SequenceNumber;
        tdb.IncrementSequenceNumberNonblock();
        Assert.Equal(s2 + 1, tdb.SequenceNumber);
    }

    [Fact]
    public void EnableSequenceNumberAddsTheFlag()
    {
        using var dir = new TempDir();
        using var tdb = TdbFile.Open(dir.File("seq2.tdb"), 131, TdbFlags.DisallowNesting, Rw);
        Assert.Equal(0, tdb.Flags & TdbFlags.Seqnum);
        tdb.Store("a"u8, "1"u8);
        Assert.Equal(0, tdb.SequenceNumber);
        tdb.EnableSequenceNumber();
        Assert.Equal(TdbFlags.DisallowNesting | TdbFlags.Seqnum, tdb.Flags);
        tdb.Store("a"u8, "2"u8);
        Assert.True(tdb.SequenceNumber > 0);
    }

    [Fact]
    public void WipeAllAndIntegrityCheck()
    {
        using var dir = new TempDir();
        var path = dir.File("w.tdb");
        using (var tdb = TdbFile.Open(path, 131, TdbFlags.Default, Rw))
        {
            for (var i = 0; i < 50; i++)
                tdb.Store(Tools.Ascii($"k{i}"), new byte[100]);
            tdb.CheckIntegrity();
            tdb.WipeAll();
            Assert.Equal(0, tdb.Count());
            for (var i = 0; i < 50; i++)
                tdb.Store(Tools.Ascii($"k{i}"), Enumerable.Repeat((byte)0x5a, 100).ToArray());
        }

        // Scribble over the records (found by their contents); the file header stays valid so the open succeeds.
        var bytes = File.ReadAllBytes(path);
        var firstValue = bytes.AsSpan().IndexOf(Enumerable.Repeat((byte)0x5a, 100).ToArray());
        Assert.True(firstValue > 200);
        bytes.AsSpan(firstValue - 40, 1000).Fill(0xee);
        File.WriteAllBytes(path, bytes);
        using var corrupt = TdbFile.Open(path, 0, TdbFlags.Default, OpenFlags.ReadWrite);
        var e = Assert.Throws<TdbException>(corrupt.CheckIntegrity);
        Assert.Contains("tdb_check", e.Message);
    }

    [Fact]
    public void OpenFailureCarriesErrno()
    {
        var e = Assert.Throws<TdbException>(() => TdbFile.Open("/tmp/sc-tdb-does-not-exist/x.tdb", 0, 0, Rw));
        Assert.Equal(2, e.Errno);
        Assert.Contains("/tmp/sc-tdb-does-not-exist/x.tdb", e.Message);
        Assert.Contains("No such file", e.Message);
    }

    [Fact]
    public void ReadOnlyOpenRefusesStores()
    {
        using var dir = new TempDir();
        var path = dir.File("ro.tdb");
        TdbFile.Open(path, 131, 0, Rw).Dispose();
        using var ro = TdbFile.Open(path, 0, 0, OpenFlags.ReadOnly);
        var e = Assert.Throws<TdbException>(() => ro.Store("a"u8, "b"u8));
        Assert.Equal(TdbError.ReadOnly, e.Error);
        Assert.Equal(path, ro.Name);
        Assert.Equal(131, ro.HashSize);
        Assert.True(ro.FileDescriptor >= 0);
    }

    [Fact]
    public void SecondOpenInOneProcessIsRefused()
    {
        using var dir = new TempDir();
        var path = dir.File("twice.tdb");
        using var first = TdbFile.Open(path, 131, 0, Rw);
        var e = Assert.Throws<TdbException>(() => TdbFile.Open(path, 131, 0, Rw));
        Assert.Equal(16, e.Errno); // EBUSY: libtdb allows one context per file per process.
    }

    [Fact]
    public void DisposedHandleThrows()
    {
        var tdb = TdbFile.OpenInternal();
        tdb.Dispose();
        Assert.True(tdb.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => tdb.Fetch("a"u8));
        Assert.Throws<ObjectDisposedException>(() => tdb.Flags);
        tdb.Dispose();
    }

    [Fact]
    public void DescribeNamesFlags()
    {
        Assert.Equal("CLEAR_IF_FIRST|NOSYNC|DISALLOW_NESTING|INCOMPATIBLE_HASH|MUTEX_LOCKING", TdbFlags.Describe(0x1c41));
        Assert.Equal("DEFAULT", TdbFlags.Describe(0));
        Assert.Equal("SEQNUM|0x10000", TdbFlags.Describe(0x10080));
    }

    [Fact]
    public void NativeMemoryStaysBoundedOverManyFetches()
    {
        using var dir = new TempDir();
        using var tdb = TdbFile.Open(dir.File("mem.tdb"), 131, TdbFlags.Default, Rw);
        var big = new byte[256 * 1024];
        tdb.Store("big"u8, big);
        for (var i = 0; i < 20; i++)
            tdb.Store(Tools.Ascii($"k{i}"), "v"u8);

        void Churn(int n)
        {
            for (var i = 0; i < n; i++)
            {
                Assert.Equal(big.Length, tdb.Fetch("big"u8)!.Length);
                if (i % 50 == 0)
                    Assert.Equal(21, tdb.Keys().Count);
            }
        }

        Churn(200);
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var before = self.PrivateMemorySize64;
        // 4000 x 256 KiB = 1 GiB if the native copies leaked.
        Churn(4000);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        self.Refresh();
        var growth = self.PrivateMemorySize64 - before;
        Assert.True(growth < 300L * 1024 * 1024, $"private memory grew by {growth / (1024 * 1024)} MiB");
    }
}
