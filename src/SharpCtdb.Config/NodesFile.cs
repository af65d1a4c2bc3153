using System.Net;

namespace SharpCtdb.Config;

/// <summary>One nodes-file slot. Deleted nodes ('#' lines) keep their PNN with address 0.0.0.0.</summary>
public sealed record NodeEntry(uint Pnn, IPAddress Address, bool Deleted);

public sealed record NodesFileResult(IReadOnlyList<NodeEntry> Nodes, IReadOnlyList<ConfigDiagnostic> Errors)
{
    public bool Ok => Errors.Count == 0;
}

/// <summary>Reads $CTDB_BASE/nodes (behaviour.md §1.6).</summary>
public static class NodesFile
{
    /// <summary>Loads the file; a missing or unreadable file is an error (ctdbd cannot start without it).</summary>
    public static NodesFileResult Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new NodesFileResult([], [new ConfigDiagnostic(path, 0, $"Failed to read nodes file: {e.Message}")]);
        }
        return Parse(text, path);
    }

    public static NodesFileResult Parse(string text, string fileName)
    {
        var nodes = new List<NodeEntry>();
        var errors = new List<ConfigDiagnostic>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim(' ', '\t');
            if (line.Length == 0)
                continue;
            var pnn = (uint)nodes.Count;
            if (line[0] == '#')
            {
                nodes.Add(new NodeEntry(pnn, IPAddress.Any, Deleted: true));
                continue;
            }
            var candidate = line;
            if (candidate.Length > 2 && candidate[0] == '[' && candidate[^1] == ']' && candidate.Contains(':'))
                candidate = candidate[1..^1];
            if (!InetAddress.TryParseCanonical(candidate, out var address))
            {
                errors.Add(new ConfigDiagnostic(fileName, i + 1, $"Invalid node address '{line}' (a bare IPv4 or IPv6 address is required, no port)"));
                continue;
            }
            nodes.Add(new NodeEntry(pnn, address, Deleted: false));
        }
        return new NodesFileResult(nodes, errors);
    }
}
