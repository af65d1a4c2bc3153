using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>One entry of the nodes file plus this node's view of its flags.</summary>
internal sealed class NodeInfo(uint pnn, IPAddress address, NodeFlags flags)
{
    public uint Pnn { get; } = pnn;
    public IPAddress Address { get; set; } = address;
    public NodeFlags Flags { get; set; } = flags;
    public bool Deleted => (Flags & NodeFlags.Deleted) != 0;
    public bool Connected => (Flags & NodeFlags.Disconnected) == 0;
    public bool Active => (Flags & NodeFlags.Inactive) == 0;
}

/// <summary>The request a control handler sees, whoever sent it (a local client or a peer daemon).</summary>
internal sealed record ControlRequest(
    uint SrcNode,
    ControlOpcode Opcode,
    ulong Srvid,
    ControlFlags Flags,
    byte[] Data,
    ClientConnection? Client);

/// <summary>Result of a control: status-as-value controls put their value in <see cref="Status"/>.</summary>
internal readonly record struct ControlResult(int Status, byte[] Data, string? Error = null)
{
    public static ControlResult Ok() => new(0, []);
    public static ControlResult Ok(byte[] data) => new(0, data);
    public static ControlResult Value(int value) => new(value, []);
    public static ControlResult Fail(string? error = null, int status = -1) => new(status, [], error);
    public bool Success => Status == 0;
}

/// <summary>Hooks where CTDB 4.17 runs events and notifications (<see cref="EventRunnerHooks"/> is the real one).</summary>
public interface IEventHooks
{
    /// <summary>
    /// Runs event <paramref name="name"/> with <paramref name="args"/>; returns 0 on success or the event daemon's
    /// positive reply code (ENOEXEC a script failed, ETIMEDOUT, ECANCELED a monitor pre-empted).
    /// </summary>
    Task<int> RunEventAsync(string name, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct);

    /// <summary>Queues `notify.sh <paramref name="name"/>` (init, setup, startup, healthy, unhealthy); never blocks.</summary>
    void Notify(string name);
}

/// <summary>Every event succeeds at once and notifications go nowhere (unit tests).</summary>
public sealed class NoopEventHooks : IEventHooks
{
    public Task<int> RunEventAsync(string name, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct) => Task.FromResult(0);

    public void Notify(string name)
    {
    }
}

/// <summary>The node-to-node network as the cluster loop sees it.</summary>
internal interface IPeerNetwork : IAsyncDisposable
{
    Task StartAsync(CancellationToken ct);
    bool Send(uint pnn, byte[] packet);
    bool IsConnected(uint pnn);
    /// <summary>Applies a reloaded nodes file: peers added, removed or re-addressed (reloadnodes).</summary>
    void ReloadNodes(IReadOnlyList<Transport.TransportNode> nodes);
}
