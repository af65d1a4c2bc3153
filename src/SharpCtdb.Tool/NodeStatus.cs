using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>One node as the status commands print it.</summary>
public sealed record NodeView(uint Pnn, string Address, NodeFlags Flags, bool PartiallyOnline);

/// <summary>Node status formatting shared by status, nodestatus and the natgw/lvs helpers (protocol.md §5.2).</summary>
public static class NodeStatus
{
    /// <summary>"OK", "PARTIALLYONLINE" or the flag names joined with '|', in 4.17's order.</summary>
    public static string FlagText(NodeFlags flags, bool partiallyOnline)
    {
        if (partiallyOnline)
            return "PARTIALLYONLINE";
        var names = new List<string>();
        if ((flags & NodeFlags.Disconnected) != 0)
            names.Add("DISCONNECTED");
        if ((flags & NodeFlags.Unknown) != 0)
            names.Add("UNKNOWN");
        if ((flags & NodeFlags.PermanentlyDisabled) != 0)
            names.Add("DISABLED");
        if ((flags & NodeFlags.Banned) != 0)
            names.Add("BANNED");
        if ((flags & NodeFlags.Unhealthy) != 0)
            names.Add("UNHEALTHY");
        if ((flags & NodeFlags.Deleted) != 0)
            names.Add("DELETED");
        if ((flags & NodeFlags.Stopped) != 0)
            names.Add("STOPPED");
        if ((flags & NodeFlags.Inactive) != 0)
            names.Add("INACTIVE");
        return names.Count == 0 ? "OK" : string.Join('|', names);
    }

    public static string HumanLine(NodeView n, uint thisPnn) =>
        $"pnn:{n.Pnn} {n.Address,-16} {FlagText(n.Flags, n.PartiallyOnline)}{(n.Pnn == thisPnn ? " (THIS NODE)" : "")}";

    public static string MachineHeader(string sep) =>
        Row(sep, "Node", "IP", "Disconnected", "Unknown", "Banned", "Disabled", "Unhealthy", "Stopped", "Inactive", "PartiallyOnline",
            "ThisNode");

    public static string MachineLine(NodeView n, uint thisPnn, string sep)
    {
        static string B(bool b) => b ? "1" : "0";
        var f = n.Flags;
        return Row(sep, n.Pnn.ToString(System.Globalization.CultureInfo.InvariantCulture), n.Address,
            B((f & NodeFlags.Disconnected) != 0), B((f & NodeFlags.Unknown) != 0), B((f & NodeFlags.Banned) != 0),
            B((f & NodeFlags.PermanentlyDisabled) != 0), B((f & NodeFlags.Unhealthy) != 0), B((f & NodeFlags.Stopped) != 0),
            B((f & NodeFlags.Inactive) != 0), B(n.PartiallyOnline), n.Pnn == thisPnn ? "Y" : "N");
    }

    /// <summary>Machine-readable row: leading and trailing separator, as the scripts expect.</summary>
    public static string Row(string sep, params string[] fields)
    {
        var sb = new StringBuilder(sep);
        foreach (var f in fields)
            sb.Append(f).Append(sep);
        return sb.ToString();
    }
}
