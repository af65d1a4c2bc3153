using Microsoft.Win32.SafeHandles;

namespace SharpCtdb.Tdb;

/// <summary>
/// Owns one <c>struct tdb_context*</c>; releasing it calls tdb_close, which also drops every lock the handle holds and
/// cancels an open transaction. Using the SafeHandle in the P/Invokes keeps the context alive for the duration of each
/// native call even if the owning <see cref="TdbFile"/> is disposed concurrently by mistake.
/// </summary>
public sealed class TdbHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public TdbHandle()
        : base(ownsHandle: true)
    {
    }

    internal TdbHandle(IntPtr context)
        : base(ownsHandle: true) => SetHandle(context);

    protected override bool ReleaseHandle() => TdbNative.tdb_close(handle) == 0;
}
