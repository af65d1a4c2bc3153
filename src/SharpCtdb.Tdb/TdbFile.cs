using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace SharpCtdb.Tdb;

/// <summary>Visits one record during a traverse. The spans point into libtdb's memory and are only valid during the
/// call. Return true to continue, false to stop.</summary>
public delegate bool TdbRecordVisitor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

/// <summary>
/// One open TDB file (libtdb.so.1 through P/Invoke), so that files are byte- and lock-compatible with smbd, the ctdb
/// tool, tdbdump and tdbtool.
/// </summary>
/// <remarks>
/// <para><b>One owner per handle.</b> A <see cref="TdbFile"/> is not thread-safe: libtdb keeps per-context state (the
/// error code, traverse cursor, lock counts, the open transaction) without any locking, so exactly one owner may use a
/// given instance at a time, and callers that share it between threads or async continuations must serialise all calls
/// themselves (e.g. one lock or one single-threaded loop per database).</para>
/// <para>libtdb refuses to open the same file twice in one process (EBUSY), and the record locks it takes are fcntl
/// locks, which belong to the process, not to the handle. So a process must keep one <see cref="TdbFile"/> per path;
/// chain-lock contention can only be observed against <i>other processes</i> (smbd, the tool, the lock helper).</para>
/// <para>Memory returned by libtdb (fetch, firstkey/nextkey) is copied into managed arrays and freed at once.</para>
/// </remarks>
public sealed unsafe class TdbFile : IDisposable
{
    /// <summary>File mode used by CTDB for its databases (0600).</summary>
    public const uint DefaultMode = 0x180;

    private static readonly byte[] EmptyPinned = GC.AllocateArray<byte>(1, pinned: true);

    private readonly TdbHandle _handle;

    private TdbFile(TdbHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    /// <summary>The path passed to tdb_open.</summary>
    public string Path { get; }

    /// <summary>The raw SafeHandle (for callers that need to P/Invoke something not wrapped here).</summary>
    public TdbHandle Handle => _handle;

    public bool IsDisposed => _handle.IsClosed;

    /// <summary>Opens (or with <see cref="OpenFlags.Create"/> creates) a tdb file.</summary>
    /// <param name="hashSize">number of hash chains for a new file; 0 = libtdb default. Ignored for an existing file.</param>
    /// <param name="tdbFlags"><see cref="TdbFlags"/> bits.</param>
    /// <param name="openFlags"><see cref="OpenFlags"/> bits (O_RDWR, O_CREAT ...).</param>
    /// <param name="mode">creation mode, default 0600.</param>
    public static TdbFile Open(string path, int hashSize, int tdbFlags, int openFlags, uint mode = DefaultMode)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var context = TdbNative.tdb_open(path, hashSize, tdbFlags, openFlags, mode);
        if (context == IntPtr.Zero)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new TdbException($"tdb_open('{path}', flags 0x{tdbFlags:x}) failed: {Marshal.GetPInvokeErrorMessage(errno)}", TdbError.IO, errno);
        }
        return new TdbFile(new TdbHandle(context), path);
    }

    /// <summary>Opens an in-memory tdb (TDB_INTERNAL): no file, no locks. Useful for scratch databases.</summary>
    public static TdbFile OpenInternal(int hashSize = 0, int extraFlags = 0) =>
        Open("internal", hashSize, TdbFlags.Internal | extraFlags, OpenFlags.ReadWrite | OpenFlags.Create, DefaultMode);

    /// <summary>True when libtdb can use robust mutexes on this system (TDB_MUTEX_LOCKING would work).</summary>
    public static bool RuntimeSupportsRobustMutexes() => TdbNative.tdb_runtime_check_for_robust_mutexes();

    /// <summary>libtdb's own tdb_jenkins_hash (for cross-checking <see cref="JenkinsHash"/>).</summary>
    public static uint NativeJenkinsHash(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = &Pin(data))
        {
            var d = TdbNative.Borrow(p, data.Length);
            return TdbNative.tdb_jenkins_hash(&d);
        }
    }

    /// <summary>tdb_get_flags: the current flag word of this handle (what CTDB's DB_OPEN_FLAGS returns).</summary>
    public int Flags => TdbNative.tdb_get_flags(Live());

    /// <summary>tdb_hash_size: number of hash chains in the file.</summary>
    public int HashSize => TdbNative.tdb_hash_size(Live());

    /// <summary>tdb_name.</summary>
    public string Name => Marshal.PtrToStringUTF8(TdbNative.tdb_name(Live())) ?? Path;

    /// <summary>The file descriptor libtdb uses (-1 for internal dbs).</summary>
    public int FileDescriptor => TdbNative.tdb_fd(Live());

    /// <summary>tdb_error: the error code of the last failed operation on this handle.</summary>
    public TdbError LastError => (TdbError)TdbNative.tdb_error(Live());

    /// <summary>tdb_errorstr for the last failed operation.</summary>
    public string LastErrorString => Marshal.PtrToStringUTF8(TdbNative.tdb_errorstr(Live())) ?? "unknown error";

    /// <summary>tdb_fetch. Returns null when the key does not exist.</summary>
    public byte[]? Fetch(ReadOnlySpan<byte> key)
    {
        var h = Live();
        fixed (byte* k = &Pin(key))
        {
            var result = TdbNative.tdb_fetch(h, TdbNative.Borrow(k, key.Length));
            if (result.Dptr == null && LastError is not (TdbError.NoExist or TdbError.Success))
                throw Failure("tdb_fetch");
            return TdbNative.TakeOwnedBuffer(result);
        }
    }

    /// <summary>tdb_store with the given mode; throws <see cref="TdbException"/> (Error Exists / NoExist for the
    /// Insert / Modify modes) on failure.</summary>
    public void Store(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, TdbStoreMode mode = TdbStoreMode.Replace)
    {
        if (!TryStore(key, value, mode))
            throw Failure("tdb_store");
    }

    /// <summary>tdb_store; returns false if it failed (see <see cref="LastError"/>).</summary>
    public bool TryStore(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, TdbStoreMode mode = TdbStoreMode.Replace)
    {
        var h = Live();
        fixed (byte* k = &Pin(key))
        fixed (byte* v = &Pin(value))
        {
            return TdbNative.tdb_store(h, TdbNative.Borrow(k, key.Length), TdbNative.Borrow(v, value.Length), (int)mode) == 0;
        }
    }

    /// <summary>tdb_delete. Returns false if the key did not exist; throws on other errors.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        var h = Live();
        fixed (byte* k = &Pin(key))
        {
            if (TdbNative.tdb_delete(h, TdbNative.Borrow(k, key.Length)) == 0)
                return true;
        }
        if (LastError == TdbError.NoExist)
            return false;
        throw Failure("tdb_delete");
    }

    /// <summary>tdb_exists.</summary>
    public bool Exists(ReadOnlySpan<byte> key)
    {
        var h = Live();
        fixed (byte* k = &Pin(key))
        {
            return TdbNative.tdb_exists(h, TdbNative.Borrow(k, key.Length)) != 0;
        }
    }

    /// <summary>tdb_traverse (write-locking traverse: the visitor may store or delete the current record).
    /// Returns the number of records visited.</summary>
    public int Traverse(TdbRecordVisitor visitor) => RunTraverse(visitor, readOnly: false);

    /// <summary>tdb_traverse_read (read locks only; the visitor must not modify the database).</summary>
    public int TraverseRead(TdbRecordVisitor visitor) => RunTraverse(visitor, readOnly: true);

    /// <summary>Number of records (a read traverse without callback).</summary>
    public int Count()
    {
        var n = TdbNative.tdb_traverse_read(Live(), null, IntPtr.Zero);
        return n >= 0 ? n : throw Failure("tdb_traverse_read");
    }

    /// <summary>tdb_firstkey; null for an empty database.</summary>
    public byte[]? FirstKey() => TdbNative.TakeOwnedBuffer(TdbNative.tdb_firstkey(Live()));

    /// <summary>tdb_nextkey; null after the last key.</summary>
    public byte[]? NextKey(ReadOnlySpan<byte> key)
    {
        var h = Live();
        fixed (byte* k = &Pin(key))
        {
            return TdbNative.TakeOwnedBuffer(TdbNative.tdb_nextkey(h, TdbNative.Borrow(k, key.Length)));
        }
    }

    /// <summary>All keys via tdb_firstkey/tdb_nextkey (no lock held between steps, like libtdb's API).</summary>
    public List<byte[]> Keys()
    {
        var h = Live();
        var keys = new List<byte[]>();
        var current = TdbNative.tdb_firstkey(h);
        while (current.Dptr != null)
        {
            keys.Add(current.AsSpan().ToArray());
            var next = TdbNative.tdb_nextkey(h, current);
            NativeMemory.Free(current.Dptr);
            current = next;
        }
        return keys;
    }

    /// <summary>tdb_chainlock: blocking write lock of the key's hash chain.</summary>
    public void ChainLock(ReadOnlySpan<byte> key) => KeyCall(key, &TdbNative.tdb_chainlock, "tdb_chainlock");

    /// <summary>tdb_chainlock_nonblock: false if another process holds a conflicting lock; throws on other errors.</summary>
    public bool TryChainLock(ReadOnlySpan<byte> key) => KeyCallNonblock(key, &TdbNative.tdb_chainlock_nonblock, "tdb_chainlock_nonblock");

    /// <summary>tdb_chainunlock.</summary>
    public void ChainUnlock(ReadOnlySpan<byte> key) => KeyCall(key, &TdbNative.tdb_chainunlock, "tdb_chainunlock");

    /// <summary>tdb_chainlock_read: blocking shared lock of the key's hash chain.</summary>
    public void ChainLockRead(ReadOnlySpan<byte> key) => KeyCall(key, &TdbNative.tdb_chainlock_read, "tdb_chainlock_read");

    /// <summary>tdb_chainlock_read_nonblock.</summary>
    public bool TryChainLockRead(ReadOnlySpan<byte> key) => KeyCallNonblock(key, &TdbNative.tdb_chainlock_read_nonblock, "tdb_chainlock_read_nonblock");

    /// <summary>tdb_chainunlock_read.</summary>
    public void ChainUnlockRead(ReadOnlySpan<byte> key) => KeyCall(key, &TdbNative.tdb_chainunlock_read, "tdb_chainunlock_read");

    /// <summary>Blocking chain lock released by disposing the returned scope.</summary>
    public ChainLockScope LockChain(ReadOnlySpan<byte> key)
    {
        ChainLock(key);
        return new ChainLockScope(this, key.ToArray());
    }

    /// <summary>tdb_lockall: blocking write lock of the whole database.</summary>
    public void LockAll() => Check(TdbNative.tdb_lockall(Live()), "tdb_lockall");

    /// <summary>tdb_lockall_nonblock: false on contention.</summary>
    public bool TryLockAll() => Nonblock(TdbNative.tdb_lockall_nonblock(Live()), "tdb_lockall_nonblock");

    /// <summary>tdb_unlockall.</summary>
    public void UnlockAll() => Check(TdbNative.tdb_unlockall(Live()), "tdb_unlockall");

    /// <summary>tdb_lockall_read.</summary>
    public void LockAllRead() => Check(TdbNative.tdb_lockall_read(Live()), "tdb_lockall_read");

    /// <summary>tdb_lockall_read_nonblock: false on contention.</summary>
    public bool TryLockAllRead() => Nonblock(TdbNative.tdb_lockall_read_nonblock(Live()), "tdb_lockall_read_nonblock");

    /// <summary>tdb_unlockall_read.</summary>
    public void UnlockAllRead() => Check(TdbNative.tdb_unlockall_read(Live()), "tdb_unlockall_read");

    /// <summary>tdb_transaction_start (blocking).</summary>
    public void TransactionStart() => Check(TdbNative.tdb_transaction_start(Live()), "tdb_transaction_start");

    /// <summary>tdb_transaction_start_nonblock: false if another opener holds the transaction lock. Note libtdb only
    /// makes the transaction lock non-blocking: it still WAITS for the all-record read lock (e.g. while another process
    /// holds tdb_lockall).</summary>
    public bool TryTransactionStart() => Nonblock(TdbNative.tdb_transaction_start_nonblock(Live()), "tdb_transaction_start_nonblock");

    /// <summary>tdb_transaction_prepare_commit.</summary>
    public void TransactionPrepareCommit() => Check(TdbNative.tdb_transaction_prepare_commit(Live()), "tdb_transaction_prepare_commit");

    /// <summary>tdb_transaction_commit.</summary>
    public void TransactionCommit() => Check(TdbNative.tdb_transaction_commit(Live()), "tdb_transaction_commit");

    /// <summary>tdb_transaction_cancel.</summary>
    public void TransactionCancel() => Check(TdbNative.tdb_transaction_cancel(Live()), "tdb_transaction_cancel");

    /// <summary>tdb_transaction_active.</summary>
    public bool TransactionActive => TdbNative.tdb_transaction_active(Live());

    /// <summary>tdb_get_seqnum (0 unless TDB_SEQNUM is set).</summary>
    public int SequenceNumber => TdbNative.tdb_get_seqnum(Live());

    /// <summary>tdb_enable_seqnum: adds TDB_SEQNUM to this handle (visible in <see cref="Flags"/>).</summary>
    public void EnableSequenceNumber() => TdbNative.tdb_enable_seqnum(Live());

    /// <summary>tdb_increment_seqnum_nonblock: bump the seqnum if the lock is free (silently skipped otherwise).</summary>
    public void IncrementSequenceNumberNonblock() => TdbNative.tdb_increment_seqnum_nonblock(Live());

    /// <summary>tdb_add_flags.</summary>
    public void AddFlags(int flags) => TdbNative.tdb_add_flags(Live(), (uint)flags);

    /// <summary>tdb_remove_flags.</summary>
    public void RemoveFlags(int flags) => TdbNative.tdb_remove_flags(Live(), (uint)flags);

    /// <summary>tdb_set_max_dead: number of dead records per chain kept before they are reclaimed.</summary>
    public void SetMaxDead(int maxDead) => TdbNative.tdb_set_max_dead(Live(), maxDead);

    /// <summary>tdb_wipe_all: delete every record.</summary>
    public void WipeAll() => Check(TdbNative.tdb_wipe_all(Live()), "tdb_wipe_all");

    /// <summary>tdb_repack.</summary>
    public void Repack() => Check(TdbNative.tdb_repack(Live()), "tdb_repack");

    /// <summary>tdb_check (structure only, no record callback): throws if the file is corrupt.</summary>
    public void CheckIntegrity() => Check(TdbNative.tdb_check(Live(), IntPtr.Zero, IntPtr.Zero), "tdb_check");

    public void Dispose() => _handle.Dispose();

    private TdbHandle Live()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return _handle;
    }

    private TdbException Failure(string operation)
    {
        var error = LastError;
        // Some paths (e.g. unlocking a robust mutex owned by another thread) fail without setting tdb's error code.
        var text = error == TdbError.Success ? "failed without a tdb error code" : $"failed: {LastErrorString}";
        return new TdbException($"{operation} on '{Path}' {text}", error);
    }

    private void Check(int rc, string operation)
    {
        if (rc != 0)
            throw Failure(operation);
    }

    private bool Nonblock(int rc, string operation)
    {
        if (rc == 0)
            return true;
        // Contention shows up as TDB_ERR_LOCK (fcntl EAGAIN/EACCES or a busy mutex), or TDB_ERR_NOLOCK for the
        // transaction lock; anything else is a real failure.
        if (LastError is TdbError.Lock or TdbError.LockTimeout or TdbError.NoLock)
            return false;
        throw Failure(operation);
    }

    private void KeyCall(ReadOnlySpan<byte> key, delegate*<TdbHandle, TdbData, int> fn, string operation)
    {
        var h = Live();
        int rc;
        fixed (byte* k = &Pin(key))
        {
            rc = fn(h, TdbNative.Borrow(k, key.Length));
        }
        Check(rc, operation);
    }

    private bool KeyCallNonblock(ReadOnlySpan<byte> key, delegate*<TdbHandle, TdbData, int> fn, string operation)
    {
        var h = Live();
        int rc;
        fixed (byte* k = &Pin(key))
        {
            rc = fn(h, TdbNative.Borrow(k, key.Length));
        }
        return Nonblock(rc, operation);
    }

    private int RunTraverse(TdbRecordVisitor visitor, bool readOnly)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        var h = Live();
        var state = new TraverseState(visitor);
        var gc = GCHandle.Alloc(state);
        int count;
        try
        {
            count = readOnly
                ? TdbNative.tdb_traverse_read(h, &TraverseThunk, GCHandle.ToIntPtr(gc))
                : TdbNative.tdb_traverse(h, &TraverseThunk, GCHandle.ToIntPtr(gc));
        }
        finally
        {
            gc.Free();
        }
        if (state.Error is not null)
            ExceptionDispatchInfo.Throw(state.Error);
        return count >= 0 ? count : throw Failure(readOnly ? "tdb_traverse_read" : "tdb_traverse");
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int TraverseThunk(IntPtr tdb, TdbData key, TdbData value, IntPtr stateHandle)
    {
        var state = (TraverseState)GCHandle.FromIntPtr(stateHandle).Target!;
        try
        {
            return state.Visitor(key.AsSpan(), value.AsSpan()) ? 0 : 1;
        }
        catch (Exception e)
        {
            // Exceptions must not unwind through libtdb's frames (it would leave chains locked): stop and rethrow later.
            state.Error = e;
            return 1;
        }
    }

    /// <summary>A fixed() target that is never null, so libtdb never sees a NULL dptr (even for empty data).</summary>
    private static ref readonly byte Pin(ReadOnlySpan<byte> data) =>
        ref data.IsEmpty ? ref EmptyPinned[0] : ref MemoryMarshal.GetReference(data);

    private sealed class TraverseState(TdbRecordVisitor visitor)
    {
        public TdbRecordVisitor Visitor { get; } = visitor;
        public Exception? Error { get; set; }
    }
}

/// <summary>Holds a chain lock until disposed (one owner, like <see cref="TdbFile"/>).</summary>
public sealed class ChainLockScope : IDisposable
{
    private readonly TdbFile _file;
    private readonly byte[] _key;
    private bool _released;

    internal ChainLockScope(TdbFile file, byte[] key)
    {
        _file = file;
        _key = key;
    }

    public void Dispose()
    {
        if (_released || _file.IsDisposed)
            return;
        _released = true;
        _file.ChainUnlock(_key);
    }
}
