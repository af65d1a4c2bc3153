using System.Net;
using SharpCtdb.Daemon.Net;

namespace SharpCtdb.Daemon;

/// <summary>
/// Gratuitous ARP / neighbour advertisement after every TAKEOVER_IP (behaviour.md §6.7): now, then twice more
/// 1.1 s apart, stopped when the address is released. Unlike 4.17 a redundant takeover (address already here) is
/// announced too, so a client still pointing at a former temporary owner comes back (RESULTS.md "black hole").
/// </summary>
internal sealed partial class ClusterLoop
{
    private static readonly TimeSpan AnnounceSpacing = TimeSpan.FromMilliseconds(1100);
    private const int AnnounceRounds = 3;
    private readonly Dictionary<IPAddress, int> _announcing = [];
    private int _announceGeneration;

    private void AnnounceAddress(PublicAddress v, string iface)
    {
        if (!LeaseEnabled)
            return; // test mode: no real addresses (4.17 skips announcements there too)
        var gen = ++_announceGeneration;
        _announcing[v.Address] = gen;
        AnnounceRound(v, iface, gen, 0);
    }

    private void AnnounceRound(PublicAddress v, string iface, int gen, int round)
    {
        if (_shuttingDown || !_announcing.TryGetValue(v.Address, out var g) || g != gen || v.CurrentInterface != iface)
            return;
        if (!GratuitousArp.Send(iface, v.Address, _log))
            _log.Error($"Failed to send gratuitous ARP for {v.Address} on {iface}");
        if (round + 1 < AnnounceRounds)
            After(AnnounceSpacing, () => AnnounceRound(v, iface, gen, round + 1));
        else
            _announcing.Remove(v.Address);
    }

    private void StopAnnouncing(PublicAddress v) => _announcing.Remove(v.Address);
}
