using System.Buffers.Binary;
using System.Text;

namespace SharpCtdb.Protocol.EventDaemon;

/// <summary>Request commands of the event-daemon socket protocol (protocol.md §9.2).</summary>
public enum EventDaemonCommand : uint
{
    Run = 1,
    Status = 2,
    Script = 3,
}

/// <summary>Flags of a RUN request.</summary>
[Flags]
public enum EventRunFlags : uint
{
    None = 0,

    /// <summary>Keep running the remaining scripts after one fails (CTDB_EVENT_RUN_ALL).</summary>
    RunAll = 1,
}

/// <summary>Action of a SCRIPT request.</summary>
public enum EventScriptAction : uint
{
    Disable = 0,
    Enable = 1,
}

/// <summary>
/// Event-daemon packet header: u32 length (whole packet), u32 version, u32 reqid; no magic, no padding.
/// The 4.17 client sends version 0 and the 4.17 daemon ignores the field, so we do the same.
/// </summary>
public readonly record struct EventDaemonHeader(uint Length, uint Version, uint ReqId)
{
    public const int Size = 12;

    /// <summary>What the 4.17 binaries put in the version field (observed: 0, not 1 as once documented).</summary>
    public const uint ObservedVersion = 0;

    /// <summary>Upper bound we accept for one packet; a status reply with bounded script output stays far below it.</summary>
    public const int MaxPacketSize = 16 * 1024 * 1024;

    public static EventDaemonHeader Read(ref WireReader r) => new(r.U32(), r.U32(), r.U32());

    public void Write(WireWriter w) => w.U32(Length).U32(Version).U32(ReqId);

    /// <summary>Validates the length field of a packet whose first 4 bytes are <paramref name="length"/>.</summary>
    public static void ValidateLength(uint length, int minimum)
    {
        if (length < (uint)minimum)
            throw new ProtocolException($"event daemon packet length {length} is shorter than the minimum {minimum}");
        if (length > MaxPacketSize)
            throw new ProtocolException($"event daemon packet length {length} exceeds the {MaxPacketSize}-byte limit");
    }
}

/// <summary>Strict helpers for the event protocol's string encoding.</summary>
internal static class EventWire
{
    /// <summary>stringn as the 4.17 event daemon reads it: u32 length incl. NUL (0 = null); the last byte must be NUL.</summary>
    public static string? StrictStringN(ref WireReader r, string field)
    {
        var n = r.U32();
        if (n == 0)
            return null;
        if (n > (uint)r.Remaining)
            throw new ProtocolException($"{field}: string length {n} exceeds remaining {r.Remaining} bytes");
        var bytes = r.Bytes((int)n);
        if (bytes[^1] != 0)
            throw new ProtocolException($"{field}: string is not NUL-terminated");
        // Like C, the string ends at the first NUL even if the length claims more.
        var text = bytes[..^1];
        var nul = text.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? text[..nul] : text);
    }

    public static byte[] Finish(WireWriter w)
    {
        w.PatchU32(0, (uint)w.Length);
        return w.ToArray();
    }

    public static WireWriter Start(uint reqId)
    {
        var w = new WireWriter(128);
        new EventDaemonHeader(0, EventDaemonHeader.ObservedVersion, reqId).Write(w);
        return w;
    }

    public static EventDaemonHeader ReadHeader(ref WireReader r, ReadOnlySpan<byte> packet, int minimum)
    {
        if (packet.Length < EventDaemonHeader.Size)
            throw new ProtocolException($"event daemon packet of {packet.Length} bytes is shorter than its header");
        var h = EventDaemonHeader.Read(ref r);
        EventDaemonHeader.ValidateLength(h.Length, minimum);
        if (h.Length != (uint)packet.Length)
            throw new ProtocolException($"event daemon packet length field {h.Length} does not match the {packet.Length} bytes received");
        return h;
    }
}

/// <summary>A request to the event daemon. <see cref="Decode"/> returns the concrete subtype.</summary>
public abstract record EventDaemonRequest(uint ReqId)
{
    /// <summary>Header plus the u32 command.</summary>
    public const int MinimumSize = EventDaemonHeader.Size + 4;

    public abstract EventDaemonCommand Command { get; }

    protected abstract void WriteBody(WireWriter w);

    public byte[] Encode()
    {
        var w = EventWire.Start(ReqId);
        w.U32((uint)Command);
        WriteBody(w);
        return EventWire.Finish(w);
    }

    /// <summary>Decodes one whole request packet. Trailing bytes after the body are tolerated, as the 4.17 daemon does.</summary>
    /// <exception cref="ProtocolException">Truncated, oversize, unknown command or a malformed string.</exception>
    public static EventDaemonRequest Decode(ReadOnlySpan<byte> packet)
    {
        var r = new WireReader(packet);
        var h = EventWire.ReadHeader(ref r, packet, MinimumSize);
        var cmd = r.U32();
        switch ((EventDaemonCommand)cmd)
        {
            case EventDaemonCommand.Run:
                {
                    var component = EventWire.StrictStringN(ref r, "component");
                    var eventName = EventWire.StrictStringN(ref r, "event");
                    var args = EventWire.StrictStringN(ref r, "args");
                    var timeout = r.U32();
                    var flags = (EventRunFlags)r.U32();
                    return new EventRunRequest(h.ReqId, component, eventName, args, timeout, flags);
                }
            case EventDaemonCommand.Status:
                {
                    var component = EventWire.StrictStringN(ref r, "component");
                    var eventName = EventWire.StrictStringN(ref r, "event");
                    return new EventStatusRequest(h.ReqId, component, eventName);
                }
            case EventDaemonCommand.Script:
                {
                    var component = EventWire.StrictStringN(ref r, "component");
                    var script = EventWire.StrictStringN(ref r, "script");
                    var action = r.U32();
                    if (action > 1)
                        throw new ProtocolException($"invalid script action {action}");
                    return new EventScriptRequest(h.ReqId, component, script, (EventScriptAction)action);
                }
            default:
                throw new ProtocolException($"unknown event daemon command {cmd}");
        }
    }
}

/// <summary>RUN: run <paramref name="Event"/> for <paramref name="Component"/>; <paramref name="Args"/> is one space-separated string (null = none).
/// <paramref name="TimeoutSeconds"/> 0 makes the 4.17 daemon time the event out at once.</summary>
public sealed record EventRunRequest(uint ReqId, string? Component, string? Event, string? Args, uint TimeoutSeconds, EventRunFlags Flags)
    : EventDaemonRequest(ReqId)
{
    public override EventDaemonCommand Command => EventDaemonCommand.Run;

    protected override void WriteBody(WireWriter w) =>
        w.StringN(Component).StringN(Event).StringN(Args).U32(TimeoutSeconds).U32((uint)Flags);
}

/// <summary>STATUS: the last completed run of <paramref name="Event"/>.</summary>
public sealed record EventStatusRequest(uint ReqId, string? Component, string? Event) : EventDaemonRequest(ReqId)
{
    public override EventDaemonCommand Command => EventDaemonCommand.Status;

    protected override void WriteBody(WireWriter w) => w.StringN(Component).StringN(Event);
}

/// <summary>SCRIPT: set or clear the execute bits of one script (the 4.17 daemon still implements it).</summary>
public sealed record EventScriptRequest(uint ReqId, string? Component, string? Script, EventScriptAction Action)
    : EventDaemonRequest(ReqId)
{
    public override EventDaemonCommand Command => EventDaemonCommand.Script;

    protected override void WriteBody(WireWriter w) => w.StringN(Component).StringN(Script).U32((uint)Action);
}

/// <summary>One script of a status reply. Result: 0 OK, &gt;0 exit status, -110 timed out, -8 disabled, other negative = could not run.</summary>
public sealed record EventScriptStatus(string Name, Timeval Begin, Timeval End, int Result, string? Output)
{
    public void Write(WireWriter w)
    {
        w.StringN(Name);
        Begin.Write(w);
        End.Write(w);
        w.I32(Result);
        // The 4.17 daemon sends an absent output as a null string (length 0), never as "".
        w.StringN(string.IsNullOrEmpty(Output) ? null : Output);
    }

    public static EventScriptStatus Read(ref WireReader r)
    {
        var name = EventWire.StrictStringN(ref r, "script name") ?? throw new ProtocolException("script name is null");
        var begin = Timeval.Read(ref r);
        var end = Timeval.Read(ref r);
        var result = r.I32();
        var output = EventWire.StrictStringN(ref r, "script output");
        return new EventScriptStatus(name, begin, end, result, output);
    }
}

/// <summary>Body of a successful STATUS reply: the event's summary result and its scripts in run order.</summary>
public sealed record EventScriptStatusList(int Summary, IReadOnlyList<EventScriptStatus> Scripts)
{
    /// <summary>Smallest possible encoded script: 4 (name length) + 1 + 16 + 16 + 4 + 4.</summary>
    private const int MinScriptSize = 45;

    public void Write(WireWriter w)
    {
        w.I32(Summary).I32(Scripts.Count);
        foreach (var s in Scripts)
            s.Write(w);
    }

    public static EventScriptStatusList Read(ref WireReader r)
    {
        var summary = r.I32();
        var count = r.I32();
        if (count < 0 || count > r.Remaining / MinScriptSize)
            throw new ProtocolException($"script count {count} does not fit in the remaining {r.Remaining} bytes");
        var scripts = new EventScriptStatus[count];
        for (var i = 0; i < count; i++)
            scripts[i] = EventScriptStatus.Read(ref r);
        return new EventScriptStatusList(summary, scripts);
    }
}

/// <summary>
/// A reply from the event daemon: u32 command, i32 result (positive errno), and for a STATUS reply with result 0
/// the script list.
/// </summary>
public sealed record EventDaemonReply(uint ReqId, EventDaemonCommand Command, int Result, EventScriptStatusList? Status = null)
{
    public const int MinimumSize = EventDaemonHeader.Size + 8;

    public byte[] Encode()
    {
        var w = EventWire.Start(ReqId);
        w.U32((uint)Command).I32(Result);
        if (Command == EventDaemonCommand.Status && Result == 0)
            (Status ?? new EventScriptStatusList(0, [])).Write(w);
        return EventWire.Finish(w);
    }

    public static EventDaemonReply Decode(ReadOnlySpan<byte> packet)
    {
        var r = new WireReader(packet);
        var h = EventWire.ReadHeader(ref r, packet, MinimumSize);
        var cmd = r.U32();
        if (cmd is < 1 or > 3)
            throw new ProtocolException($"unknown event daemon command {cmd} in reply");
        var result = r.I32();
        EventScriptStatusList? status = null;
        if ((EventDaemonCommand)cmd == EventDaemonCommand.Status && result == 0)
            status = EventScriptStatusList.Read(ref r);
        return new EventDaemonReply(h.ReqId, (EventDaemonCommand)cmd, result, status);
    }
}

/// <summary>Reads whole event-daemon packets (length-prefixed) from a stream.</summary>
public static class EventDaemonFraming
{
    /// <summary>Next packet, or null at a clean end of stream before any byte of a packet.</summary>
    /// <exception cref="ProtocolException">Bad length, or the stream ends mid-packet.</exception>
    public static async ValueTask<byte[]?> ReadPacketAsync(Stream stream, int minimumSize, CancellationToken ct = default)
    {
        var lengthBytes = new byte[4];
        var got = await ReadFullyAsync(stream, lengthBytes, ct).ConfigureAwait(false);
        if (got == 0)
            return null;
        if (got < 4)
            throw new ProtocolException("connection closed in the middle of a packet length");
        var length = BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        EventDaemonHeader.ValidateLength(length, minimumSize);
        var packet = new byte[length];
        lengthBytes.CopyTo(packet, 0);
        got = await ReadFullyAsync(stream, packet.AsMemory(4), ct).ConfigureAwait(false);
        if (got < packet.Length - 4)
            throw new ProtocolException($"connection closed in the middle of a packet ({got + 4} of {length} bytes)");
        return packet;
    }

    private static async ValueTask<int> ReadFullyAsync(Stream stream, Memory<byte> buffer, CancellationToken ct)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[total..], ct).ConfigureAwait(false);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }
}
