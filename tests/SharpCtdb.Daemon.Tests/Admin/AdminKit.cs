using System.Diagnostics;
using System.Globalization;
using System.Text;
using SharpCtdb.Daemon.Tests.Cluster;

namespace SharpCtdb.Daemon.Tests.Admin;

/// <summary>
/// Helpers for the administration tests: clusters whose public addresses are loopback addresses of the test's own
/// range (NET.101…), per-node ctdb.conf additions, and readings of Debian's `ctdb` output from every node.
/// </summary>
internal static class AdminKit
{
    public const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>A cluster of <paramref name="nodes"/> on NET.1…N with <paramref name="ips"/> public addresses NET.101….</summary>
    public static TestCluster Create(int nodes, string net, int ips = 6)
    {
        var c = new TestCluster(nodes, net);
        var text = new StringBuilder();
        for (var i = 0; i < ips; i++)
            text.Append(CultureInfo.InvariantCulture, $"{net}.{101 + i}/24 lo\n");
        for (var pnn = 0; pnn < nodes; pnn++)
            File.WriteAllText(Path.Combine(c.NodeBase(pnn), "public_addresses"), text.ToString());
        return c;
    }

    /// <summary>Adds lines to a section of one node's ctdb.conf (sections exist: logging, cluster, database, legacy).</summary>
    public static void AddConf(TestCluster c, int pnn, string section, string line)
    {
        var path = Path.Combine(c.NodeBase(pnn), "ctdb.conf");
        var text = File.ReadAllText(path);
        var header = $"[{section}]\n";
        Assert.Contains(header, text);
        File.WriteAllText(path, text.Replace(header, $"{header}\t{line}\n", StringComparison.Ordinal));
    }

    public static void WriteExecutable(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, Executable);
    }

    public static async Task<ToolResult> OkAsync(TestCluster c, int pnn, params string[] args)
    {
        var r = await c.CtdbAsync(pnn, args);
        Assert.True(r.ExitCode == 0, $"ctdb {string.Join(' ', args)} on node {pnn}: {r}");
        return r;
    }

    /// <summary>
    /// `ctdb -X status` from <paramref name="viewer"/>: pnn → the set of flag names that are 1
    /// (Disconnected, Banned, Disabled, Unhealthy, Stopped, Inactive), or null if the tool failed.
    /// </summary>
    public static async Task<Dictionary<int, HashSet<string>>?> FlagsSeenByAsync(TestCluster c, int viewer)
    {
        var r = await c.CtdbAsync(viewer, "-X", "status");
        if (r.ExitCode != 0)
            return null;
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split('|');
        var result = new Dictionary<int, HashSet<string>>();
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split('|');
            if (f.Length != header.Length || !int.TryParse(f[1], out var pnn))
                continue;
            var set = new HashSet<string>();
            for (var i = 3; i < f.Length; i++)
            {
                if (f[i] == "1" && header[i] is not ("ThisNode" or "PartiallyOnline"))
                    set.Add(header[i]);
            }
            result[pnn] = set;
        }
        return result;
    }

    /// <summary>True when every listed viewer reports exactly <paramref name="flags"/> for <paramref name="pnn"/>.</summary>
    public static async Task<bool> AllSeeAsync(TestCluster c, IEnumerable<int> viewers, int pnn, params string[] flags)
    {
        foreach (var v in viewers)
        {
            var seen = await FlagsSeenByAsync(c, v);
            if (seen is null || !seen.TryGetValue(pnn, out var f) || !f.SetEquals(flags))
                return false;
        }
        return true;
    }

    public static async Task<int?> LeaderSeenByAsync(TestCluster c, int pnn)
    {
        var r = await c.CtdbAsync(pnn, "-t", "3", "leader");
        return r.ExitCode == 0 && int.TryParse(r.Stdout.Trim(), out var l) ? l : null;
    }

    /// <summary>The leader, once every listed viewer reports the same one.</summary>
    public static async Task<int> AgreedLeaderAsync(TestCluster c, IEnumerable<int> viewers, Func<int, bool>? acceptable = null)
    {
        var list = viewers.ToList();
        var leader = -1;
        await TestCluster.WaitUntilAsync(async () =>
        {
            var seen = new HashSet<int?>();
            foreach (var v in list)
                seen.Add(await LeaderSeenByAsync(c, v));
            if (seen.Count != 1 || seen.First() is not { } l || !(acceptable?.Invoke(l) ?? true))
                return false;
            leader = l;
            return true;
        }, "all nodes agree on an acceptable leader", TimeSpan.FromSeconds(30), c.DescribeAsync);
        return leader;
    }

    /// <summary>`ctdb ip all` from a node: address → owner pnn (-1 unhosted).</summary>
    public static async Task<Dictionary<string, int>> OwnersAsync(TestCluster c, int pnn)
    {
        var r = await c.CtdbAsync(pnn, "ip", "all");
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(' ')).Where(f => f.Length == 2 && int.TryParse(f[1], out _))
            .ToDictionary(f => f[0], f => int.Parse(f[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Waits until, seen from every viewer, all <paramref name="count"/> addresses are hosted and the predicate holds per owner.</summary>
    public static Task<TimeSpan> WaitOwnersAsync(TestCluster c, IEnumerable<int> viewers, int count, Func<IReadOnlyCollection<int>, bool> ok, string what)
    {
        var list = viewers.ToList();
        return TestCluster.WaitUntilAsync(async () =>
        {
            foreach (var v in list)
            {
                var owners = await OwnersAsync(c, v);
                if (owners.Count != count || owners.Values.Any(o => o < 0) || !ok(owners.Values))
                    return false;
            }
            return true;
        }, what, TimeSpan.FromSeconds(30), c.DescribeAsync);
    }

    public static string Log(TestCluster c, int pnn)
    {
        var path = Path.Combine(c.NodeBase(pnn), "stderr.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    public static async Task<bool> ExitsWithinAsync(Process p, TimeSpan limit)
    {
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await p.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
