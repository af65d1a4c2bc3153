using System.Net;
using SharpCtdb.Config.Logging;
using SharpCtdb.Net;

namespace SharpCtdb.Daemon.Net;

/// <summary>The daemon's tickle ACK / RST sender: <see cref="RawTcp.Send"/> with failures logged.</summary>
public static class TickleAck
{
    /// <summary>Sends one segment from <paramref name="src"/> to <paramref name="dst"/>; false (logged) when it fails.</summary>
    public static bool Send(IPEndPoint src, IPEndPoint dst, uint seq = 0, uint ack = 0, bool rst = false, CtdbLog? log = null)
    {
        var r = RawTcp.Send(src, dst, seq, ack, rst);
        if (!r.Ok)
        {
            var what = r.FailedStep == RawSendStep.Socket ? "cannot open a raw socket" : "send failed";
            (log ?? CtdbLog.Null).Error($"Tickle ACK {src} -> {dst}: {what}: {NetNative.ErrnoText(r.Errno)}");
        }
        return r.Ok;
    }
}
