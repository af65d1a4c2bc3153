using System.Text;
using System.Text.Json;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>`--json` output (beyond 4.17). The schema is documented in docs/tool-json.md; fields are only ever added.</summary>
public static class JsonOutput
{
    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
            body(w);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void FlagNames(Utf8JsonWriter w, NodeFlags flags)
    {
        w.WriteStartArray("flags");
        foreach (var (bit, name) in new[]
                 {
                     (NodeFlags.Disconnected, "DISCONNECTED"), (NodeFlags.Unknown, "UNKNOWN"), (NodeFlags.PermanentlyDisabled, "DISABLED"),
                     (NodeFlags.Banned, "BANNED"), (NodeFlags.Unhealthy, "UNHEALTHY"), (NodeFlags.Deleted, "DELETED"),
                     (NodeFlags.Stopped, "STOPPED"),
                 })
        {
            if ((flags & bit) != 0)
                w.WriteStringValue(name);
        }
        w.WriteEndArray();
    }

    private static void Pnn(Utf8JsonWriter w, string name, uint pnn)
    {
        if (pnn == Protocol.Pnn.Unknown)
            w.WriteNull(name);
        else
            w.WriteNumber(name, pnn);
    }

    public static string Status(List<NodeView> nodes, uint thisPnn, VnnMap vnn, RecoveryMode mode, uint leader) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("this_node", thisPnn);
        w.WriteStartArray("nodes");
        foreach (var n in nodes)
        {
            w.WriteStartObject();
            w.WriteNumber("pnn", n.Pnn);
            w.WriteString("address", n.Address);
            w.WriteString("status", NodeStatus.FlagText(n.Flags, n.PartiallyOnline));
            w.WriteNumber("flags_value", (uint)n.Flags);
            FlagNames(w, n.Flags);
            w.WriteBoolean("inactive", (n.Flags & NodeFlags.Inactive) != 0);
            w.WriteBoolean("partially_online", n.PartiallyOnline);
            w.WriteBoolean("this_node", n.Pnn == thisPnn);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("vnnmap");
        if (vnn.Generation == Wire.InvalidGeneration)
            w.WriteNull("generation");
        else
            w.WriteNumber("generation", vnn.Generation);
        w.WriteStartArray("map");
        foreach (var m in vnn.Map)
            w.WriteNumberValue(m);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("recovery_mode", mode == RecoveryMode.Normal ? "NORMAL" : "RECOVERY");
        Pnn(w, "leader", leader);
        w.WriteEndObject();
    });

    public static string Ips(List<IpView> ips, uint? node) => Write(w =>
    {
        w.WriteStartObject();
        if (node is { } n)
            w.WriteNumber("node", n);
        else
            w.WriteNull("node");
        w.WriteStartArray("ips");
        foreach (var ip in ips)
        {
            w.WriteStartObject();
            w.WriteString("address", ip.Addr.ToString());
            Pnn(w, "pnn", ip.Pnn);
            var active = ip.Info?.ActiveIface?.Name;
            if (active is null)
                w.WriteNull("active_interface");
            else
                w.WriteString("active_interface", active);
            w.WriteStartArray("available_interfaces");
            foreach (var i in ip.Info?.Ifaces.Ifaces.Where(i => i.LinkState != 0) ?? [])
                w.WriteStringValue(i.Name);
            w.WriteEndArray();
            w.WriteStartArray("configured_interfaces");
            foreach (var i in ip.Info?.Ifaces.Ifaces ?? [])
                w.WriteStringValue(i.Name);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static string IpInfo(PublicIpInfo info, uint node) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("node", node);
        w.WriteString("address", info.Ip.Addr.ToString());
        Pnn(w, "current_node", info.Ip.Pnn);
        w.WriteStartArray("interfaces");
        for (var i = 0; i < info.Ifaces.Ifaces.Count; i++)
        {
            var iface = info.Ifaces.Ifaces[i];
            w.WriteStartObject();
            w.WriteString("name", iface.Name);
            w.WriteBoolean("link_up", iface.LinkState != 0);
            w.WriteNumber("references", iface.References);
            w.WriteBoolean("active", i == info.ActiveIdx);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static string ListNodes(List<NodesFileEntry> nodes) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("nodes");
        foreach (var n in nodes)
        {
            w.WriteStartObject();
            w.WriteNumber("pnn", n.Pnn);
            if (n.Deleted)
                w.WriteNull("address");
            else
                w.WriteString("address", n.Address);
            w.WriteBoolean("deleted", n.Deleted);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static string Statistics(CtdbStatistics s) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("statistics_start_time", s.StatisticsStartTime.TotalSeconds);
        w.WriteNumber("statistics_current_time", s.StatisticsCurrentTime.TotalSeconds);
        var machine = StatisticsText.Machine(s, "|").Split('\n');
        var names = machine[0].Split('|');
        var values = machine[1].Split('|');
        for (var i = 3; i < names.Length && i < values.Length; i++)
        {
            if (names[i].Length == 0)
                continue;
            w.WritePropertyName(names[i]);
            w.WriteRawValue(values[i]);
        }
        w.WriteEndObject();
    });
}
