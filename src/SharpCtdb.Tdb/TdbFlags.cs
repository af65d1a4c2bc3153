namespace SharpCtdb.Tdb;

/// <summary>libtdb open flags (the tdb_flags argument of tdb_open; values from tdb.h). Also the value of DB_OPEN_FLAGS.</summary>
public static class TdbFlags
{
    public const int Default = 0;
    public const int ClearIfFirst = 1;
    public const int Internal = 2;
    public const int NoLock = 4;
    public const int NoMmap = 8;
    public const int Convert = 16;
    public const int BigEndian = 32;
    public const int NoSync = 64;
    public const int Seqnum = 128;
    public const int Volatile = 256;
    public const int AllowNesting = 512;
    public const int DisallowNesting = 1024;
    public const int IncompatibleHash = 2048;
    public const int MutexLocking = 4096;

    /// <summary>Formats a flag word like "NOSYNC|CLEAR_IF_FIRST" for log lines.</summary>
    public static string Describe(int flags)
    {
        if (flags == 0)
            return "DEFAULT";
        var names = new List<string>();
        void Add(int bit, string name)
        {
            if ((flags & bit) != 0)
            {
                names.Add(name);
                flags &= ~bit;
            }
        }
        Add(ClearIfFirst, "CLEAR_IF_FIRST");
        Add(Internal, "INTERNAL");
        Add(NoLock, "NOLOCK");
        Add(NoMmap, "NOMMAP");
        Add(Convert, "CONVERT");
        Add(BigEndian, "BIGENDIAN");
        Add(NoSync, "NOSYNC");
        Add(Seqnum, "SEQNUM");
        Add(Volatile, "VOLATILE");
        Add(AllowNesting, "ALLOW_NESTING");
        Add(DisallowNesting, "DISALLOW_NESTING");
        Add(IncompatibleHash, "INCOMPATIBLE_HASH");
        Add(MutexLocking, "MUTEX_LOCKING");
        if (flags != 0)
            names.Add($"0x{flags:x}");
        return string.Join('|', names);
    }
}

/// <summary>The flag argument of tdb_store.</summary>
public enum TdbStoreMode
{
    /// <summary>TDB_REPLACE: create or overwrite.</summary>
    Replace = 1,
    /// <summary>TDB_INSERT: fail with <see cref="TdbError.Exists"/> if the key exists.</summary>
    Insert = 2,
    /// <summary>TDB_MODIFY: fail with <see cref="TdbError.NoExist"/> if the key does not exist.</summary>
    Modify = 3,
}

/// <summary>Open(2) flags used with tdb_open (Linux values).</summary>
public static class OpenFlags
{
    public const int ReadOnly = 0x0;
    public const int ReadWrite = 0x2;
    public const int Create = 0x40;
    public const int Exclusive = 0x80;
    public const int Truncate = 0x200;
}

/// <summary>enum TDB_ERROR from tdb.h.</summary>
public enum TdbError
{
    Success = 0,
    Corrupt,
    IO,
    Lock,
    OutOfMemory,
    Exists,
    NoLock,
    LockTimeout,
    NoExist,
    InvalidArgument,
    ReadOnly,
    Nesting,
}

/// <summary>A failed libtdb call. <see cref="Exception.Message"/> carries tdb_errorstr (or strerror for a failed open).</summary>
public sealed class TdbException(string message, TdbError error = TdbError.IO, int errno = 0) : Exception(message)
{
    public TdbError Error { get; } = error;

    /// <summary>errno for failures where libtdb reports through errno (tdb_open); 0 otherwise.</summary>
    public int Errno { get; } = errno;
}
