using System.Globalization;
using SharpCtdb.Daemon.Tests.Cluster;

namespace SharpCtdb.Daemon.Tests.Ip;

/// <summary>The IP tests share 127.0.121.0/24, so they run one after the other.</summary>
[CollectionDefinition("Net121", DisableParallelization = true)]
public sealed class Net121Collection;

internal static class IpTestSupport
{
    public const string Net = "127.0.121";

    /// <summary>Debian's /usr/bin/ctdb against node <paramref name="pnn"/> with extra environment and optional stdin.</summary>
    public static Task<ToolResult> CtdbAsync(TestCluster c, int pnn, IReadOnlyDictionary<string, string>? env, string? stdin,
        params string[] args) => c.CtdbAsync(pnn, env, stdin, TimeSpan.FromSeconds(60), args);

    /// <summary>`ctdb ip` (or `ip all`) from one node as address → owner.</summary>
    public static async Task<Dictionary<string, int>> OwnersAsync(TestCluster c, int pnn, bool all = true)
    {
        var r = all ? await c.CtdbAsync(pnn, "ip", "all") : await c.CtdbAsync(pnn, "ip");
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(' ')).Where(f => f.Length == 2)
            .ToDictionary(f => f[0], f => int.Parse(f[1], CultureInfo.InvariantCulture));
    }

    /// <summary>The node's log: the configured file, or stderr when the daemon runs interactively (-i).</summary>
    public static string Log(TestCluster c, int pnn)
    {
        var text = "";
        foreach (var name in new[] { "log.ctdb", "stderr.log" })
        {
            var path = Path.Combine(c.NodeBase(pnn), name);
            if (!File.Exists(path))
                continue;
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var r = new StreamReader(s);
            text += r.ReadToEnd();
        }
        return text;
    }

    public static Task WaitAsync(TestCluster c, Func<Task<bool>> condition, string what) =>
        TestCluster.WaitUntilAsync(condition, what, TimeSpan.FromSeconds(30), c.DescribeAsync);
}
