using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SharpCtdb.Tdb;

/// <summary>libtdb's TDB_DATA: passed and returned BY VALUE (16 bytes, two integer registers on x86_64).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct TdbData
{
    public byte* Dptr;
    public nuint Dsize;

    public readonly ReadOnlySpan<byte> AsSpan() => Dptr == null ? default : new ReadOnlySpan<byte>(Dptr, checked((int)Dsize));
}

/// <summary>
/// Raw libtdb entry points (signatures checked against tdb.h of libtdb 1.4, Debian bookworm).
/// Everything here is blittable so the source-generated stubs are AOT-safe. Memory that libtdb hands back
/// (tdb_fetch, tdb_firstkey, tdb_nextkey) is malloc'd and must be released with libc free.
/// </summary>
internal static unsafe partial class TdbNative
{
    private const string Lib = "libtdb.so.1";

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial IntPtr tdb_open(string name, int hashSize, int tdbFlags, int openFlags, uint mode);

    [LibraryImport(Lib)]
    internal static partial int tdb_close(IntPtr tdb);

    [LibraryImport(Lib)]
    internal static partial TdbData tdb_fetch(TdbHandle tdb, TdbData key);

    [LibraryImport(Lib)]
    internal static partial int tdb_store(TdbHandle tdb, TdbData key, TdbData dbuf, int flag);

    [LibraryImport(Lib)]
    internal static partial int tdb_delete(TdbHandle tdb, TdbData key);

    [LibraryImport(Lib)]
    internal static partial int tdb_exists(TdbHandle tdb, TdbData key);

    [LibraryImport(Lib)]
    internal static partial int tdb_traverse(TdbHandle tdb, delegate* unmanaged[Cdecl]<IntPtr, TdbData, TdbData, IntPtr, int> fn, IntPtr state);

    [LibraryImport(Lib)]
    internal static partial int tdb_traverse_read(TdbHandle tdb, delegate* unmanaged[Cdecl]<IntPtr, TdbData, TdbData, IntPtr, int> fn, IntPtr state);

    [LibraryImport(Lib)]
    internal static partial TdbData tdb_firstkey(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial TdbData tdb_nextkey(TdbHandle tdb, TdbData key);

    [LibraryImport(Lib)]
    internal static partial int tdb_chainlock(TdbHandle tdb, TdbData key);

    [LibraryImport(Lib)]
    internal static partial int tdb_chainlock_nonblock(TdbHandle tdb, TdbData key);

    [LibraryImport(Lib)]
    internal static partial int tdb_chainunlock(TdbHandle tdb, TdbData key);

    [LibraryImport(Lib)]
    internal static partial int tdb_chainlock_read(TdbHandle tdb, TdbData key);

    [LibraryImport(Lib)]
    internal static partial int tdb_chainlock_read_nonblock(TdbHandle tdb, TdbData key);

    [LibraryImport(Lib)]
    internal static partial int tdb_chainunlock_read(TdbHandle tdb, TdbData key);

    [LibraryImport(Lib)]
    internal static partial int tdb_lockall(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_lockall_nonblock(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_unlockall(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_lockall_read(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_lockall_read_nonblock(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_unlockall_read(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_transaction_start(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_transaction_start_nonblock(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_transaction_prepare_commit(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_transaction_commit(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_transaction_cancel(TdbHandle tdb);

    [LibraryImport(Lib)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool tdb_transaction_active(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_get_seqnum(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial void tdb_enable_seqnum(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial void tdb_increment_seqnum_nonblock(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_get_flags(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial void tdb_add_flags(TdbHandle tdb, uint flag);

    [LibraryImport(Lib)]
    internal static partial void tdb_remove_flags(TdbHandle tdb, uint flag);

    [LibraryImport(Lib)]
    internal static partial void tdb_set_max_dead(TdbHandle tdb, int maxDead);

    [LibraryImport(Lib)]
    internal static partial int tdb_wipe_all(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_repack(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_check(TdbHandle tdb, IntPtr check, IntPtr privateData);

    [LibraryImport(Lib)]
    internal static partial int tdb_error(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial IntPtr tdb_errorstr(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial IntPtr tdb_name(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_hash_size(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial int tdb_fd(TdbHandle tdb);

    [LibraryImport(Lib)]
    internal static partial uint tdb_jenkins_hash(TdbData* key);

    [LibraryImport(Lib)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool tdb_runtime_check_for_robust_mutexes();

    /// <summary>Copies a libtdb-allocated buffer into managed memory and frees the native one (libc free).</summary>
    internal static byte[]? TakeOwnedBuffer(TdbData data)
    {
        if (data.Dptr == null)
            return null;
        try
        {
            return data.AsSpan().ToArray();
        }
        finally
        {
            // NativeMemory.Free is a thin wrapper over libc free() on Unix, which is what libtdb's malloc needs.
            NativeMemory.Free(data.Dptr);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TdbData Borrow(byte* pointer, int length) => new() { Dptr = pointer, Dsize = (nuint)length };
}
