using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace SharpCtdb.Failover.Tests;

public class IpAllocCliTests
{
    private static (int Rc, string[] Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var rc = IpAllocCli.Run(args, stdout, stderr);
        return (rc, stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), stderr.ToString());
    }

    private static string CasePath(string name) => Path.Combine(ConformanceData.RequireDirectory("takeover"), name + ".json");

    private static List<string> ExpectedLines(JsonElement step) =>
        [.. step.GetProperty("expected").EnumerateArray().Select(e => $"{e.GetProperty("addr").GetString()} {e.GetProperty("pnn").GetInt64()}")];

    [Fact]
    public void PrintsUpstreamLinesInUpstreamOrder()
    {
        var (rc, lines, err) = Run(CasePath("lcp2.029"));
        Assert.Equal(0, rc);
        Assert.Equal(string.Empty, err);
        using var doc = JsonDocument.Parse(File.ReadAllText(CasePath("lcp2.029")));
        Assert.Equal(ExpectedLines(doc.RootElement), lines);
    }

    [Fact]
    public void MultiStepCasePrintsEachStep()
    {
        var (rc, lines, _) = Run(CasePath("lcp2.033"));
        Assert.Equal(0, rc);
        using var doc = JsonDocument.Parse(File.ReadAllText(CasePath("lcp2.033")));
        var expected = new List<string>();
        var i = 0;
        foreach (var step in doc.RootElement.GetProperty("steps").EnumerateArray())
        {
            expected.Add($"# step {i++}");
            expected.AddRange(ExpectedLines(step));
        }
        Assert.Equal(expected, lines);
    }

    [Fact]
    public void ExplainGivesAReasonPerAddress()
    {
        // det.001: nodes 0 and 1 unhealthy, everything must end on node 2.
        var (rc, lines, _) = Run("--explain", CasePath("det.001"));
        Assert.Equal(0, rc);
        var addressLines = lines.Where(l => !l.StartsWith('#')).ToList();
        Assert.Equal(9, addressLines.Count);
        Assert.Contains(lines, l => l.StartsWith("# Deterministic IPs enabled", StringComparison.Ordinal));
        Assert.All(addressLines, l => Assert.Matches(@"^\S+ 2  # ", l));
        Assert.Contains(addressLines, l => l.Contains("moved from 0 to 2: node 0 is UNHEALTHY", StringComparison.Ordinal));
        Assert.Contains(addressLines, l => l.Contains("moved from 1 to 2: deterministic slot 1: node 1 is UNHEALTHY", StringComparison.Ordinal));
        Assert.DoesNotContain(addressLines, l => l.Contains("MISMATCH", StringComparison.Ordinal));

        // lcp2.001: same cluster with LCP2.
        (rc, lines, _) = Run("--explain", CasePath("lcp2.001"));
        Assert.Equal(0, rc);
        Assert.Contains("192.168.21.253 2  # moved from 1 to 2: node 1 is UNHEALTHY; cheapest node that can host it (cost +44198)", lines);
        Assert.Contains("192.168.21.254 2  # stays on 2 (can host, no cheaper node)", lines);

        // lcp2.014: all nodes unhealthy, nothing assigned.
        (rc, lines, _) = Run("--explain", CasePath("lcp2.014"));
        Assert.Equal(0, rc);
        Assert.All(lines.Where(l => !l.StartsWith('#')), l => Assert.Contains(" -1  # unassigned: no node can host it", l, StringComparison.Ordinal));
    }

    [Fact]
    public void AlgorithmOverrideChangesTheResult()
    {
        // lcp2.003 is "1 -> all healthy": deterministic resets everything to index mod 3.
        var (rc, lines, _) = Run("--algorithm", "det", CasePath("lcp2.003"));
        Assert.Equal(0, rc);
        Assert.Equal(9, lines.Length);
        for (var i = 0; i < lines.Length; i++)
            Assert.EndsWith($" {i % 3}", lines[i], StringComparison.Ordinal);
    }

    [Fact]
    public void BadUsageFails()
    {
        Assert.Equal(1, Run().Rc);
        Assert.Equal(1, Run("--algorithm", "magic", "x.json").Rc);
        var (rc, _, err) = Run("/nonexistent/case.json");
        Assert.Equal(1, rc);
        Assert.Contains("/nonexistent/case.json", err, StringComparison.Ordinal);
    }

    [Fact]
    public void GeneratedSixtyFourNodesByThousandAddresses()
    {
        var dir = Directory.CreateTempSubdirectory("sc-ipalloc-");
        try
        {
            var path = Path.Combine(dir.FullName, "big.json");
            File.WriteAllText(path, BigCase(64, 1024));
            var sw = Stopwatch.StartNew();
            var (rc, lines, err) = Run("--algorithm", "lcp2", path);
            sw.Stop();
            TestContext.Current.TestOutputHelper?.WriteLine($"ipalloc 64 nodes x 1024 addresses (LCP2, incl. JSON parse): {sw.Elapsed.TotalMilliseconds:F0} ms");
            Assert.Equal(0, rc);
            Assert.Equal(string.Empty, err);
            Assert.Equal(1024, lines.Length);
            // Node 63 is unhealthy, the rest share the addresses.
            var perNode = lines.Select(l => int.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
            Assert.False(perNode.ContainsKey(63));
            Assert.False(perNode.ContainsKey(-1));
            Assert.Equal(63, perNode.Count);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    /// <summary>64 nodes (the last unhealthy), 1024 addresses: the first half held by nodes 0..31, the rest unassigned.</summary>
    private static string BigCase(int nodes, int addresses)
    {
        var sb = new StringBuilder();
        sb.Append("{\"tunables\":{\"IPAllocAlgorithm\":2,\"NoIPTakeover\":0,\"NoIPFailback\":0},\"nodes\":[");
        for (var n = 0; n < nodes; n++)
            sb.Append(n == 0 ? "" : ",").Append($"{{\"pnn\":{n},\"flags\":{(n == nodes - 1 ? 2 : 0)},\"runstate\":\"RUNNING\"}}");
        sb.Append("],\"ips\":[");
        for (var i = 0; i < addresses; i++)
        {
            var holder = i < addresses / 2 ? i % (nodes / 2) : -1;
            sb.Append(i == 0 ? "" : ",").Append($"{{\"addr\":\"10.{i / 65536}.{(i / 256) % 256}.{i % 256}\",\"current_pnn\":{holder}}}");
        }
        sb.Append("]}");
        return sb.ToString();
    }
}
