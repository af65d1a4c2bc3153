using System.Diagnostics;
using System.Globalization;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover;

/// <summary>
/// "What if" tool: <c>ipalloc [--explain] [--algorithm det|nondet|lcp2] CASE.json</c>. Runs the allocation of a
/// takeover conformance case (or a hand-written one in the same format) and prints "ADDR PNN" per address in
/// CTDB's order (-1 = unhosted).
/// </summary>
public static class IpAllocCli
{
    public const string Usage = "Usage: ipalloc [--explain] [--algorithm det|nondet|lcp2] CASE.json";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        var explain = false;
        IpAllocAlgorithm? algorithm = null;
        string? path = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--explain" or "-x")
            {
                explain = true;
            }
            else if (arg is "--algorithm" or "-a" || arg.StartsWith("--algorithm=", StringComparison.Ordinal))
            {
                string value;
                if (arg.StartsWith("--algorithm=", StringComparison.Ordinal))
                {
                    value = arg["--algorithm=".Length..];
                }
                else if (i + 1 < args.Length)
                {
                    value = args[++i];
                }
                else
                {
                    stderr.WriteLine("ipalloc: --algorithm needs a value");
                    stderr.WriteLine(Usage);
                    return 1;
                }
                if (!IpAllocAlgorithms.TryParse(value, out var alg))
                {
                    stderr.WriteLine($"ipalloc: unknown algorithm '{value}' (det, nondet or lcp2)");
                    return 1;
                }
                algorithm = alg;
            }
            else if (arg is "-h" or "--help")
            {
                stdout.WriteLine(Usage);
                return 0;
            }
            else if (arg.StartsWith('-') && arg != "-")
            {
                stderr.WriteLine($"ipalloc: unknown option '{arg}'");
                stderr.WriteLine(Usage);
                return 1;
            }
            else if (path is null)
            {
                path = arg;
            }
            else
            {
                stderr.WriteLine("ipalloc: only one case file may be given");
                stderr.WriteLine(Usage);
                return 1;
            }
        }
        if (path is null)
        {
            stderr.WriteLine(Usage);
            return 1;
        }

        IReadOnlyList<AllocCaseStep> steps;
        try
        {
            var json = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
            steps = AllocCase.Parse(json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException or OverflowException)
        {
            stderr.WriteLine($"ipalloc: {path}: {e.Message}");
            return 1;
        }

        for (var s = 0; s < steps.Count; s++)
        {
            var step = steps[s];
            if (steps.Count > 1)
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# step {s}"));
            var options = algorithm is { } a ? step.Options with { Algorithm = a } : step.Options;
            var merged = step.BuildMergedList();
            var recorder = explain ? new Recorder(merged.Count) : null;
            var clock = Stopwatch.StartNew();
            var result = IpAllocator.Allocate(merged, step.Nodes.Count, options, recorder);
            clock.Stop();
            var expected = step.Expected?.ToDictionary(kv => kv.Key, kv => kv.Value);

            if (explain)
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"# {IpAllocAlgorithms.NameOf(options.Algorithm)}, {step.Nodes.Count} nodes, {merged.Count} addresses, NoIPTakeover={(options.NoIpTakeover ? 1 : 0)}, NoIPFailback={(options.NoIpFailback ? 1 : 0)}, {clock.Elapsed.TotalMilliseconds:F1} ms"));
                foreach (var line in recorder!.InfoLines)
                    stdout.WriteLine($"# {line}");
            }
            for (var i = 0; i < merged.Count; i++)
            {
                var pnn = result.PnnOf(i);
                var line = $"{merged[i].Address} {FormatPnn(pnn)}";
                if (explain)
                {
                    line += "  # " + Explain(step, options, merged[i], pnn, recorder!.EventsFor(i));
                    if (expected is not null && expected.TryGetValue(merged[i].Address, out var want) && want != pnn)
                        line += $" [MISMATCH: case expects {FormatPnn(want)}]";
                }
                stdout.WriteLine(line);
            }
        }
        return 0;
    }

    private static string FormatPnn(uint pnn) => pnn == Pnn.Unknown ? "-1" : pnn.ToString(CultureInfo.InvariantCulture);

    private static string Explain(AllocCaseStep step, AllocOptions options, AllocIp ip, uint final, IReadOnlyList<AllocEvent> events)
    {
        var initial = ip.Pnn;
        var unassigned = events.FirstOrDefault(e => e.Kind == AllocEventKind.Unassigned);
        var rebalanced = events.LastOrDefault(e => e.Kind == AllocEventKind.Rebalanced);
        var assigned = events.LastOrDefault(e => e.Kind == AllocEventKind.Assigned);
        var slot = events.FirstOrDefault(e => e.Kind == AllocEventKind.DeterministicSlot);
        var lcp2 = options.Algorithm == IpAllocAlgorithm.Lcp2;

        if (final == Pnn.Unknown)
        {
            var anyCanHost = Enumerable.Range(0, step.Nodes.Count).Any(n => ip.IsAvailableOn((uint)n));
            var why = anyCanHost && options.NoIpTakeover
                ? "NoIPTakeover forbids moving it to a node that can host it"
                : "no node can host it";
            return initial != Pnn.Unknown && initial < (uint)step.Nodes.Count
                ? $"unassigned: {WhyCannotHost(step, ip, initial)}; {why}"
                : $"unassigned: {why}";
        }

        var reasons = new List<string>();
        if (slot.Kind == AllocEventKind.DeterministicSlot)
        {
            if (initial != Pnn.Unknown && initial != final && initial != slot.To && !ip.IsAvailableOn(initial))
                reasons.Add(WhyCannotHost(step, ip, initial));
            reasons.Add(slot.To == final ? "its deterministic slot" : $"deterministic slot {FormatPnn(slot.To)}: {WhyCannotHost(step, ip, slot.To)}");
        }
        else if (unassigned.Kind == AllocEventKind.Unassigned)
        {
            reasons.Add(WhyCannotHost(step, ip, unassigned.From));
        }

        if (assigned.Kind == AllocEventKind.Assigned)
        {
            reasons.Add(lcp2
                ? string.Create(CultureInfo.InvariantCulture, $"cheapest node that can host it (cost +{assigned.Cost})")
                : string.Create(CultureInfo.InvariantCulture, $"node with fewest addresses that can host it ({assigned.Cost})"));
        }
        if (rebalanced.Kind == AllocEventKind.Rebalanced)
        {
            reasons.Add(lcp2
                ? $"rebalanced onto node {rebalanced.To} to lower the LCP2 imbalance ({rebalanced.Message.Trim()})"
                : $"rebalanced: node {rebalanced.From} had at least 2 addresses more than node {rebalanced.To}");
        }

        if (initial == final && reasons.Count == 0)
            return lcp2 ? $"stays on {final} (can host, no cheaper node)" : $"stays on {final} (can host, nodes balanced)";
        var prefix = initial == Pnn.Unknown ? $"assigned to {final}"
            : initial == final ? $"stays on {final}"
            : $"moved from {initial} to {final}";
        return $"{prefix}: {string.Join("; ", reasons.Distinct())}";
    }

    private static string WhyCannotHost(AllocCaseStep step, AllocIp ip, uint pnn)
    {
        if (pnn >= (uint)step.Nodes.Count)
            return $"node {pnn} does not exist";
        var node = step.Nodes[(int)pnn];
        var bad = node.Flags & (NodeFlags.Inactive | NodeFlags.Disabled);
        if (bad != NodeFlags.None)
            return $"node {pnn} is {FlagNames(bad)}";
        if (node.RunState != RunState.Running)
            return $"node {pnn} is in runstate {node.RunState.ToString().ToUpperInvariant()}";
        if (!ip.IsKnownOn(pnn))
            return $"node {pnn} does not have it configured";
        if (!ip.IsAvailableOn(pnn))
            return $"node {pnn} cannot host it";
        return $"node {pnn} gave it up";
    }

    private static string FlagNames(NodeFlags flags)
    {
        var names = new List<string>();
        if (flags.HasFlag(NodeFlags.Disconnected))
            names.Add("DISCONNECTED");
        if (flags.HasFlag(NodeFlags.Unhealthy))
            names.Add("UNHEALTHY");
        if (flags.HasFlag(NodeFlags.PermanentlyDisabled))
            names.Add("DISABLED");
        if (flags.HasFlag(NodeFlags.Banned))
            names.Add("BANNED");
        if (flags.HasFlag(NodeFlags.Deleted))
            names.Add("DELETED");
        if (flags.HasFlag(NodeFlags.Stopped))
            names.Add("STOPPED");
        return string.Join('|', names);
    }

    private sealed class Recorder(int count) : IAllocExplainer
    {
        private readonly List<AllocEvent>[] _byEntry = CreateLists(count);

        public List<string> InfoLines { get; } = [];

        public void OnEvent(in AllocEvent e)
        {
            if (e.Index < 0)
                InfoLines.Add(e.Message);
            else
                _byEntry[e.Index].Add(e);
        }

        public IReadOnlyList<AllocEvent> EventsFor(int index) => _byEntry[index];

        private static List<AllocEvent>[] CreateLists(int n)
        {
            var lists = new List<AllocEvent>[n];
            for (var i = 0; i < n; i++)
                lists[i] = [];
            return lists;
        }
    }
}
