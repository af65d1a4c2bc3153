using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

/// <summary>
/// Tracked TCP connections per public address (behaviour.md §6.9): {src = client, dst = public address}. Each list
/// carries the "update needed" mark that makes the hosting node push it to the others. Owned by the cluster loop.
/// </summary>
internal sealed class TickleTable
{
    private sealed class Entry
    {
        public List<Connection> Connections { get; } = [];
        public bool UpdateNeeded { get; set; }
    }

    private readonly Dictionary<IPAddress, Entry> _lists = [];

    private static IPAddress Key(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    /// <summary>Same endpoints (address and port, family-normalised) on both sides.</summary>
    public static bool Same(Connection a, Connection b) =>
        a.Src.SameAddress(b.Src) && a.Src.Port == b.Src.Port && a.Dst.SameAddress(b.Dst) && a.Dst.Port == b.Dst.Port;

    private Entry For(IPAddress address)
    {
        if (!_lists.TryGetValue(Key(address), out var e))
            _lists[Key(address)] = e = new Entry();
        return e;
    }

    /// <summary>Appends unless already present; returns whether it was added.</summary>
    public bool Add(IPAddress address, Connection c, bool markUpdate)
    {
        var e = For(address);
        if (e.Connections.Any(x => Same(x, c)))
            return false;
        e.Connections.Add(c);
        if (markUpdate)
            e.UpdateNeeded = true;
        return true;
    }

    /// <summary>Removes a connection (the last one moves into the hole, as 4.17) and marks the list.</summary>
    public bool Remove(IPAddress address, Connection c)
    {
        if (!_lists.TryGetValue(Key(address), out var e))
            return false;
        var i = e.Connections.FindIndex(x => Same(x, c));
        if (i < 0)
            return false;
        e.Connections[i] = e.Connections[^1];
        e.Connections.RemoveAt(e.Connections.Count - 1);
        e.UpdateNeeded = true;
        return true;
    }

    public IReadOnlyList<Connection> Get(IPAddress address) =>
        _lists.TryGetValue(Key(address), out var e) ? e.Connections : [];

    /// <summary>SET_TCP_TICKLE_LIST from the hosting node: replaces the list (duplicates dropped).</summary>
    public void Replace(IPAddress address, IEnumerable<Connection> connections)
    {
        var e = For(address);
        e.Connections.Clear();
        foreach (var c in connections)
        {
            if (!e.Connections.Any(x => Same(x, c)))
                e.Connections.Add(c);
        }
    }

    public bool UpdateNeeded(IPAddress address) => _lists.TryGetValue(Key(address), out var e) && e.UpdateNeeded;

    public void ClearUpdateNeeded(IPAddress address)
    {
        if (_lists.TryGetValue(Key(address), out var e))
            e.UpdateNeeded = false;
    }

    public void Drop(IPAddress address) => _lists.Remove(Key(address));
}
