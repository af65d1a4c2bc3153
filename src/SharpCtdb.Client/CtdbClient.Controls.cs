using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Client;

/// <summary>Typed wrappers for the controls the tool and scripts use. All throw <see cref="ControlFailedException"/>
/// on a failure status and <see cref="ControlTimeoutException"/> on timeout.</summary>
public sealed partial class CtdbClient
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private async Task<byte[]> DataAsync(uint dest, ControlOpcode op, byte[]? data, TimeSpan? timeout, CancellationToken ct,
        ControlFlags flags = 0)
    {
        var reply = await ControlCheckedAsync(dest, op, data ?? [], timeout ?? DefaultTimeout, flags, ct: ct).ConfigureAwait(false);
        return reply.Data;
    }

    /// <summary>Controls that carry their result in the status field (PING, GET_PID, GET_RECMODE): negative = failure.</summary>
    private async Task<int> StatusValueAsync(uint dest, ControlOpcode op, byte[]? data, TimeSpan? timeout, CancellationToken ct)
    {
        var reply = await ControlAsync(dest, op, data ?? [], timeout ?? DefaultTimeout, ct: ct).ConfigureAwait(false);
        if (reply.Status < 0)
            throw new ControlFailedException(op, dest, reply.Status, reply.ErrorMessage);
        return reply.Status;
    }

    private static byte[] U32Bytes(uint v) => new WireWriter(4).U32(v).ToArray();

    private static string? StringReply(byte[] data) => data.Length == 0 ? null : WireReader.DecodeCString(data);

    public async Task<NodeMap> GetNodeMapAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        NodeMap.FromBytes(await DataAsync(dest, ControlOpcode.GetNodeMap, null, timeout, ct).ConfigureAwait(false));

    public async Task<NodeMap> GetNodesFileAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        NodeMap.FromBytes(await DataAsync(dest, ControlOpcode.GetNodesFile, null, timeout, ct).ConfigureAwait(false));

    public async Task<VnnMap> GetVnnMapAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        VnnMap.FromBytes(await DataAsync(dest, ControlOpcode.GetVnnMap, null, timeout, ct).ConfigureAwait(false));

    public async Task<RecoveryMode> GetRecModeAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        (RecoveryMode)await StatusValueAsync(dest, ControlOpcode.GetRecMode, null, timeout, ct).ConfigureAwait(false);

    public async Task<RunState> GetRunStateAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var data = await DataAsync(dest, ControlOpcode.GetRunState, null, timeout, ct).ConfigureAwait(false);
        var r = new WireReader(data);
        return (RunState)r.U32();
    }

    public async Task<PublicIpList> GetPublicIpsAsync(uint dest, bool onlyAvailable = false, TimeSpan? timeout = null,
        CancellationToken ct = default) =>
        PublicIpList.FromBytes(await DataAsync(dest, ControlOpcode.GetPublicIps, null, timeout, ct,
            onlyAvailable ? ControlFlags.PublicIpOnlyAvailable : 0).ConfigureAwait(false));

    public async Task<PublicIpInfo> GetPublicIpInfoAsync(uint dest, SockAddr addr, TimeSpan? timeout = null, CancellationToken ct = default) =>
        PublicIpInfo.FromBytes(await DataAsync(dest, ControlOpcode.GetPublicIpInfo, addr.ToBytes(), timeout, ct).ConfigureAwait(false));

    public async Task<IfaceList> GetIfacesAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        IfaceList.FromBytes(await DataAsync(dest, ControlOpcode.GetIfaces, null, timeout, ct).ConfigureAwait(false));

    public Task SetIfaceLinkStateAsync(uint dest, string iface, bool up, TimeSpan? timeout = null, CancellationToken ct = default) =>
        DataAsync(dest, ControlOpcode.SetIfaceLinkState, new Iface(iface, up ? (ushort)1 : (ushort)0, 0).ToBytes(), timeout, ct);

    public Task<int> PingAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        StatusValueAsync(dest, ControlOpcode.Ping, null, timeout, ct);

    public Task<int> GetPidAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        StatusValueAsync(dest, ControlOpcode.GetPid, null, timeout, ct);

    public async Task<UptimeInfo> GetUptimeAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        UptimeInfo.FromBytes(await DataAsync(dest, ControlOpcode.Uptime, null, timeout, ct).ConfigureAwait(false));

    public async Task<Capabilities> GetCapabilitiesAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var data = await DataAsync(dest, ControlOpcode.GetCapabilities, null, timeout, ct).ConfigureAwait(false);
        var r = new WireReader(data);
        return (Capabilities)r.U32();
    }

    public async Task<int> GetDebugAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var data = await DataAsync(dest, ControlOpcode.GetDebug, null, timeout, ct).ConfigureAwait(false);
        var r = new WireReader(data);
        return r.I32();
    }

    public Task SetDebugAsync(uint dest, int level, TimeSpan? timeout = null, CancellationToken ct = default) =>
        DataAsync(dest, ControlOpcode.SetDebug, U32Bytes((uint)level), timeout, ct);

    public async Task<IReadOnlyList<string>> ListTunablesAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        VarList.FromBytes(await DataAsync(dest, ControlOpcode.ListTunables, null, timeout, ct).ConfigureAwait(false)).Names;

    public async Task<uint> GetTunableAsync(uint dest, string name, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var req = new WireWriter().StringN(name).ToArray();
        var data = await DataAsync(dest, ControlOpcode.GetTunable, req, timeout, ct).ConfigureAwait(false);
        var r = new WireReader(data);
        return r.U32();
    }

    /// <summary>SET_TUNABLE; returns true when the daemon reports the tunable as obsolete (status 1).</summary>
    public async Task<bool> SetTunableAsync(uint dest, string name, uint value, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var reply = await ControlAsync(dest, ControlOpcode.SetTunable, new TunableValue(value, name).ToBytes(), timeout ?? DefaultTimeout,
            ct: ct).ConfigureAwait(false);
        if (reply.Status is not (0 or 1))
            throw new ControlFailedException(ControlOpcode.SetTunable, dest, reply.Status, reply.ErrorMessage);
        return reply.Status == 1;
    }

    public async Task<string?> GetReclockAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        StringReply(await DataAsync(dest, ControlOpcode.GetReclockFile, null, timeout, ct).ConfigureAwait(false));

    public async Task<DbIdMap> GetDbMapAsync(uint dest, TimeSpan? timeout = null, CancellationToken ct = default) =>
        DbIdMap.FromBytes(await DataAsync(dest, ControlOpcode.GetDbMap, null, timeout, ct).ConfigureAwait(false));

    public async Task<string> GetDbNameAsync(uint dest, uint dbId, TimeSpan? timeout = null, CancellationToken ct = default) =>
        StringReply(await DataAsync(dest, ControlOpcode.GetDbName, U32Bytes(dbId), timeout, ct).ConfigureAwait(false)) ?? "";

    public async Task<string> GetDbPathAsync(uint dest, uint dbId, TimeSpan? timeout = null, CancellationToken ct = default) =>
        StringReply(await DataAsync(dest, ControlOpcode.GetDbPath, U32Bytes(dbId), timeout, ct).ConfigureAwait(false)) ?? "";

    /// <summary>DB_GET_HEALTH: null = healthy, else the reason.</summary>
    public async Task<string?> GetDbHealthAsync(uint dest, uint dbId, TimeSpan? timeout = null, CancellationToken ct = default) =>
        StringReply(await DataAsync(dest, ControlOpcode.DbGetHealth, U32Bytes(dbId), timeout, ct).ConfigureAwait(false));

    public async Task<ulong> GetDbSeqnumAsync(uint dest, uint dbId, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var req = new WireWriter(8).U32(dbId).U32(0).ToArray();
        var data = await DataAsync(dest, ControlOpcode.GetDbSeqnum, req, timeout, ct).ConfigureAwait(false);
        var r = new WireReader(data);
        return r.U64();
    }

    public async Task<int> GetDbOpenFlagsAsync(uint dest, uint dbId, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var data = await DataAsync(dest, ControlOpcode.DbOpenFlags, U32Bytes(dbId), timeout, ct).ConfigureAwait(false);
        var r = new WireReader(data);
        return r.I32();
    }

    /// <summary>DB_ATTACH / DB_ATTACH_PERSISTENT / DB_ATTACH_REPLICATED by name; returns the db id.</summary>
    public async Task<uint> AttachDbAsync(uint dest, string name, DbFlags flags, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var op = (flags & DbFlags.Persistent) != 0 ? ControlOpcode.DbAttachPersistent
            : (flags & DbFlags.Replicated) != 0 ? ControlOpcode.DbAttachReplicated
            : ControlOpcode.DbAttach;
        var req = new WireWriter().CString(name).ToArray();
        var data = await DataAsync(dest, op, req, timeout, ct).ConfigureAwait(false);
        var r = new WireReader(data);
        return r.U32();
    }

    public async Task<TickleList> GetTickleListAsync(uint dest, SockAddr addr, TimeSpan? timeout = null, CancellationToken ct = default) =>
        TickleList.FromBytes(await DataAsync(dest, ControlOpcode.GetTcpTickleList, addr.ToBytes(), timeout, ct).ConfigureAwait(false));

    /// <summary>PROCESS_EXISTS: true when the daemon's node has that pid.</summary>
    public async Task<bool> ProcessExistsAsync(uint dest, int pid, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var reply = await ControlAsync(dest, ControlOpcode.ProcessExists, new WireWriter(4).I32(pid).ToArray(),
            timeout ?? DefaultTimeout, ct: ct).ConfigureAwait(false);
        return reply.Status == 0;
    }

    public async Task<byte[]> RawDataAsync(uint dest, ControlOpcode op, byte[]? data = null, TimeSpan? timeout = null,
        CancellationToken ct = default) =>
        await DataAsync(dest, op, data, timeout, ct).ConfigureAwait(false);

    public static string DecodeString(byte[] data) => data.Length == 0 ? "" : Encoding.UTF8.GetString(data).TrimEnd('\0');
}
