using System.Net;
using System.Text.Json;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover.Tests;

/// <summary>
/// In-memory stand-in for the nodes a takeover run talks to, built from a takeover_helper case's "state"
/// (fake_ctdbd grammar). Each node keeps its own view addr → believed holder; RELEASE_IP/TAKEOVER_IP change it.
/// </summary>
internal sealed class FakeCluster : ITakeoverControls, ITakeoverRunSource
{
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, Dictionary<IPAddress, uint>> _views = [];
    private readonly List<(uint Opcode, uint Pnn, bool Timeout)> _failures = [];
    private readonly HashSet<uint> _timeoutNodes = [];
    private long _activity;
    private int _hanging;

    public FakeCluster(JsonElement state, TakeoverSettings settings)
    {
        Settings = settings;
        LeaderPnn = state.TryGetProperty("recmaster_pnn", out var rm) ? rm.GetUInt32() : 0;
        var nodes = new List<NodeAndFlags>();
        foreach (var n in state.GetProperty("nodemap").EnumerateArray())
        {
            var pnn = n.GetProperty("pnn").GetUInt32();
            nodes.Add(new NodeAndFlags(pnn, (NodeFlags)n.GetProperty("flags").GetUInt32(), new SockAddr(IPAddress.Parse(n.GetProperty("addr").GetString()!))));
            if (n.TryGetProperty("fake_timeout", out var ft) && ft.ValueKind == JsonValueKind.True)
                _timeoutNodes.Add(pnn);
            _views[pnn] = [];
        }
        NodeMap = new NodeMap(nodes);
        RunState = state.TryGetProperty("runstate", out var rs) && rs.ValueKind == JsonValueKind.String
            ? rs.GetString() switch
            {
                "INIT" => RunState.Init,
                "SETUP" => RunState.Setup,
                "FIRST_RECOVERY" => RunState.FirstRecovery,
                "STARTUP" => RunState.Startup,
                "SHUTDOWN" => RunState.Shutdown,
                _ => RunState.Running,
            }
            : RunState.Running;

        if (state.TryGetProperty("public_ips", out var ips) && ips.ValueKind == JsonValueKind.Array)
        {
            foreach (var ip in ips.EnumerateArray())
            {
                var addr = IPAddress.Parse(ip.GetProperty("addr").GetString()!);
                var holder = ip.GetProperty("pnn").GetInt32();
                var allowed = ip.TryGetProperty("allowed_pnns", out var a) && a.ValueKind == JsonValueKind.Array
                    ? a.EnumerateArray().Select(x => x.GetUInt32()).ToHashSet()
                    : null;
                foreach (var node in nodes)
                {
                    if (allowed is null || allowed.Contains(node.Pnn))
                        _views[node.Pnn][addr] = holder < 0 ? Pnn.Unknown : (uint)holder;
                }
            }
        }

        if (state.TryGetProperty("control_failures", out var cf) && cf.ValueKind == JsonValueKind.Array)
        {
            foreach (var f in cf.EnumerateArray())
                _failures.Add((f.GetProperty("opcode").GetUInt32(), f.GetProperty("pnn").GetUInt32(), f.GetProperty("kind").GetString() == "TIMEOUT"));
        }
    }

    public NodeMap NodeMap { get; }
    public RunState RunState { get; }
    public TakeoverSettings Settings { get; }
    public uint LeaderPnn { get; }

    /// <summary>Changes whenever a control starts or ends; used to tell "waiting for a timeout" from "busy".</summary>
    public long Activity => Interlocked.Read(ref _activity);

    public int Hanging => Volatile.Read(ref _hanging);

    public List<string> Calls { get; } = [];

    public Task<TakeoverSettings> GetSettingsAsync(CancellationToken ct) => Control(ControlOpcode.GetAllTunables, LeaderPnn, ct, () => Settings);

    public Task<NodeMap> GetNodeMapAsync(CancellationToken ct) => Control(ControlOpcode.GetNodeMap, LeaderPnn, ct, () => NodeMap);

    public Task<IReadOnlyList<PublicIp>> GetPublicIpsAsync(uint pnn, bool onlyAvailable, CancellationToken ct) =>
        Control(ControlOpcode.GetPublicIps, pnn, ct, () =>
        {
            var flags = NodeMap.Find(pnn)!.Flags;
            var canHost = RunState == RunState.Running && (flags & (NodeFlags.Inactive | NodeFlags.Disabled)) == 0;
            IReadOnlyList<PublicIp> list = onlyAvailable && !canHost
                ? []
                : [.. _views[pnn].Select(kv => new PublicIp(kv.Value, new SockAddr(kv.Key)))];
            return list;
        });

    public Task ReleaseIpAsync(uint pnn, PublicIp ip, CancellationToken ct) =>
        Control(ControlOpcode.ReleaseIp, pnn, ct, () =>
        {
            if (_views[pnn].ContainsKey(ip.Addr.Address))
                _views[pnn][ip.Addr.Address] = ip.Pnn;
            return true;
        });

    public Task TakeoverIpAsync(uint pnn, PublicIp ip, CancellationToken ct) =>
        Control(ControlOpcode.TakeoverIp, pnn, ct, () =>
        {
            if (ip.Pnn != pnn)
                throw new TakeoverControlException(pnn, -1, "TAKEOVER_IP for another node");
            if (_views[pnn].ContainsKey(ip.Addr.Address))
                _views[pnn][ip.Addr.Address] = pnn;
            return true;
        });

    public Task IpReallocatedAsync(uint pnn, CancellationToken ct) => Control(ControlOpcode.IpReallocated, pnn, ct, () => true);

    /// <summary>What `ctdb ip all` shows: an address belongs to the connected node that claims it, else -1.</summary>
    public Dictionary<IPAddress, long> IpAll()
    {
        var result = new Dictionary<IPAddress, long>();
        lock (_lock)
        {
            foreach (var node in NodeMap.Nodes)
            {
                if ((node.Flags & NodeFlags.Disconnected) != 0)
                    continue;
                foreach (var (addr, holder) in _views[node.Pnn])
                {
                    if (holder == node.Pnn)
                        result[addr] = holder;
                    else
                        result.TryAdd(addr, -1);
                }
            }
        }
        return result;
    }

    private async Task<T> Control<T>(ControlOpcode opcode, uint pnn, CancellationToken ct, Func<T> action)
    {
        Interlocked.Increment(ref _activity);
        try
        {
            lock (_lock)
                Calls.Add($"{ControlNames.Of(opcode)} {pnn}");
            var failure = _failures.FirstOrDefault(f => f.Opcode == (uint)opcode && f.Pnn == pnn);
            if (_timeoutNodes.Contains(pnn) || (failure != default && failure.Timeout))
            {
                Interlocked.Increment(ref _hanging);
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                finally
                {
                    Interlocked.Decrement(ref _hanging);
                }
            }
            if (failure != default)
                throw new TakeoverControlException(pnn, -1, $"{ControlNames.Of(opcode)} fake failure");
            lock (_lock)
                return action();
        }
        finally
        {
            Interlocked.Increment(ref _activity);
        }
    }
}
