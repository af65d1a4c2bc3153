using System.Globalization;
using System.Net;
using System.Text.Json;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover;

/// <summary>A node as the what-if tool sees it.</summary>
public sealed record AllocCaseNode(uint Pnn, NodeFlags Flags, RunState RunState)
{
    /// <summary>A node offers available addresses only when RUNNING and neither inactive nor disabled (§6.1).</summary>
    public bool CanHostAnything => RunState == RunState.Running && (Flags & (NodeFlags.Inactive | NodeFlags.Disabled)) == 0;
}

/// <summary>One allocation problem: what every node reports plus the tunables, and optionally the expected answer.</summary>
public sealed record AllocCaseStep(
    IReadOnlyList<AllocCaseNode> Nodes,
    IReadOnlyList<NodeIpView> Views,
    AllocOptions Options,
    IReadOnlyList<KeyValuePair<IPAddress, uint>>? Expected)
{
    public IReadOnlyList<AllocIp> BuildMergedList() => MergedIpList.Build(Views, Nodes.Count);
}

/// <summary>
/// Reads the takeover conformance case format (shared "ips" or "per_node_views", optional "steps",
/// "home_nodes", "force_rebalance_pnns"). Uses JsonDocument only, so it is trimming/AOT safe.
/// </summary>
public static class AllocCase
{
    public static IReadOnlyList<AllocCaseStep> Parse(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new FormatException("case must be a JSON object");
        if (root.TryGetProperty("steps", out var steps) && steps.ValueKind == JsonValueKind.Array && steps.GetArrayLength() > 0)
        {
            var list = new List<AllocCaseStep>();
            foreach (var step in steps.EnumerateArray())
                list.Add(ParseStep(step, root));
            return list;
        }
        return [ParseStep(root, root)];
    }

    private static AllocCaseStep ParseStep(JsonElement step, JsonElement root)
    {
        JsonElement Field(string name)
        {
            if (step.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null)
                return v;
            return root.TryGetProperty(name, out v) ? v : default;
        }

        var nodesEl = Field("nodes");
        if (nodesEl.ValueKind != JsonValueKind.Array)
            throw new FormatException("missing \"nodes\" array");
        var nodes = new List<AllocCaseNode>();
        foreach (var n in nodesEl.EnumerateArray())
        {
            var pnn = n.TryGetProperty("pnn", out var p) ? p.GetUInt32() : (uint)nodes.Count;
            if (pnn != (uint)nodes.Count)
                throw new FormatException($"node entries must be in PNN order 0..N-1 (got {pnn} at index {nodes.Count})");
            var flags = n.TryGetProperty("flags", out var f) ? (NodeFlags)ReadUInt(f) : NodeFlags.None;
            nodes.Add(new AllocCaseNode(pnn, flags, ReadRunState(n)));
        }

        var tunables = Field("tunables");
        var algorithm = IpAllocAlgorithm.Lcp2;
        if (tunables.ValueKind == JsonValueKind.Object && tunables.TryGetProperty("IPAllocAlgorithm", out var alg))
            algorithm = IpAllocAlgorithms.FromTunable(ReadUInt(alg));
        else if (Field("algorithm") is { ValueKind: JsonValueKind.String } name && !IpAllocAlgorithms.TryParse(name.GetString()!, out algorithm))
            throw new FormatException($"unknown algorithm '{name.GetString()}'");
        var options = new AllocOptions(algorithm, TunableFlag(tunables, "NoIPTakeover"), TunableFlag(tunables, "NoIPFailback"))
        {
            ForceRebalance = ReadUIntList(Field("force_rebalance_pnns")),
            HomeNodes = ReadHomeNodes(Field("home_nodes")),
        };

        var views = new List<NodeIpView>();
        var perNode = Field("per_node_views");
        var mode = Field("input_mode");
        if (perNode.ValueKind == JsonValueKind.Array && (mode.ValueKind != JsonValueKind.String || mode.GetString() == "per_node_views"))
        {
            var byPnn = new Dictionary<uint, List<ReportedIp>>();
            foreach (var v in perNode.EnumerateArray())
            {
                var pnn = v.GetProperty("pnn").GetUInt32();
                var known = new List<ReportedIp>();
                foreach (var ip in v.GetProperty("ips").EnumerateArray())
                    known.Add(new ReportedIp(ReadAddress(ip), ReadPnn(ip, "current_pnn")));
                byPnn[pnn] = known;
            }
            foreach (var node in nodes)
            {
                var known = byPnn.TryGetValue(node.Pnn, out var k) ? k : [];
                views.Add(new NodeIpView(node.Pnn, known, node.CanHostAnything ? [.. known.Select(x => x.Address)] : []));
            }
        }
        else
        {
            var ips = Field("ips");
            var all = new List<(IPAddress Address, uint Pnn, HashSet<uint>? Allowed)>();
            if (ips.ValueKind == JsonValueKind.Array)
            {
                foreach (var ip in ips.EnumerateArray())
                {
                    HashSet<uint>? allowed = ip.TryGetProperty("allowed_pnns", out var a) && a.ValueKind == JsonValueKind.Array ? [.. ReadUIntList(a)] : null;
                    all.Add((ReadAddress(ip), ReadPnn(ip, "current_pnn"), allowed));
                }
            }
            foreach (var node in nodes)
            {
                var known = new List<ReportedIp>();
                foreach (var (address, pnn, allowed) in all)
                {
                    if (allowed is null || allowed.Contains(node.Pnn))
                        known.Add(new ReportedIp(address, pnn));
                }
                views.Add(new NodeIpView(node.Pnn, known, node.CanHostAnything ? [.. known.Select(x => x.Address)] : []));
            }
        }

        List<KeyValuePair<IPAddress, uint>>? expected = null;
        if (step.TryGetProperty("expected", out var exp) && exp.ValueKind == JsonValueKind.Array)
        {
            expected = [];
            foreach (var e in exp.EnumerateArray())
                expected.Add(new(ReadAddress(e), ReadPnn(e, "pnn")));
        }
        return new AllocCaseStep(nodes, views, options, expected);
    }

    private static RunState ReadRunState(JsonElement node)
    {
        if (node.TryGetProperty("runstate_value", out var v) && v.ValueKind == JsonValueKind.Number)
            return (RunState)v.GetUInt32();
        if (node.TryGetProperty("runstate", out var s) && s.ValueKind == JsonValueKind.String)
        {
            return s.GetString()!.ToUpperInvariant() switch
            {
                "UNKNOWN" => RunState.Unknown,
                "INIT" => RunState.Init,
                "SETUP" => RunState.Setup,
                "FIRST_RECOVERY" => RunState.FirstRecovery,
                "STARTUP" => RunState.Startup,
                "RUNNING" => RunState.Running,
                "SHUTDOWN" => RunState.Shutdown,
                var other => throw new FormatException($"unknown runstate '{other}'"),
            };
        }
        return RunState.Running;
    }

    private static bool TunableFlag(JsonElement tunables, string name) =>
        tunables.ValueKind == JsonValueKind.Object && tunables.TryGetProperty(name, out var v) && ReadUInt(v) != 0;

    private static uint ReadUInt(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetUInt32(),
        JsonValueKind.String when e.GetString()!.StartsWith("0x", StringComparison.OrdinalIgnoreCase) =>
            uint.Parse(e.GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        JsonValueKind.String => uint.Parse(e.GetString()!, CultureInfo.InvariantCulture),
        _ => throw new FormatException($"expected a number, got {e.ValueKind}"),
    };

    private static uint ReadPnn(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v))
            throw new FormatException($"missing \"{name}\"");
        var value = v.GetInt64();
        return value < 0 ? Pnn.Unknown : checked((uint)value);
    }

    private static IPAddress ReadAddress(JsonElement e)
    {
        var text = e.GetProperty("addr").GetString() ?? throw new FormatException("null addr");
        return IPAddress.TryParse(text, out var a) ? a : throw new FormatException($"bad address '{text}'");
    }

    private static List<uint> ReadUIntList(JsonElement e)
    {
        var list = new List<uint>();
        if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var x in e.EnumerateArray())
                list.Add(ReadUInt(x));
        }
        return list;
    }

    private static Dictionary<IPAddress, uint>? ReadHomeNodes(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Array)
            return null;
        var d = new Dictionary<IPAddress, uint>();
        foreach (var x in e.EnumerateArray())
            d[ReadAddress(x)] = ReadPnn(x, "pnn");
        return d;
    }
}
