using System.Globalization;

namespace SharpCtdb.IpWatchdog;

/// <summary>One public address the node hosts, as given by ctdbd.</summary>
internal sealed record HeldAddress(string Iface, string Address, string MaskBits);

/// <summary>
/// The watchdog's state machine, free of I/O so it is unit-tested: the addresses ctdbd says it hosts and the
/// ownership-lease deadline (a CLOCK_MONOTONIC timestamp in <see cref="System.Diagnostics.Stopwatch"/> ticks, the
/// same clock in every process of the machine). Commands, one per line:
/// <c>add IFACE ADDR MASKBITS</c>, <c>del ADDR</c>, <c>lease TICKS</c> (0 = lapse now), <c>drop</c> (ctdbd shuts
/// down: drop everything held now; the lease stays lapsed).
/// When the deadline passes every held address must be dropped; an address added while lapsed is dropped at once.
/// </summary>
internal sealed class LeaseWatch
{
    private readonly Dictionary<string, HeldAddress> _held = new(StringComparer.Ordinal);
    private long _deadline;
    private bool _armed;

    public IReadOnlyCollection<HeldAddress> Held => _held.Values;

    /// <summary>True once a lease has been given and has not lapsed since.</summary>
    public bool Armed => _armed;

    /// <summary>Applies one command; returns addresses to drop now (never null) or throws FormatException.</summary>
    public IReadOnlyList<HeldAddress> Handle(string line, long now)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length == 0)
            return [];
        switch (f[0])
        {
            case "add" when f.Length == 4:
                var a = new HeldAddress(f[1], f[2], f[3]);
                if (!_armed || now >= _deadline)
                    return [a]; // no valid lease: the node must not host it
                _held[a.Address] = a;
                return [];
            case "del" when f.Length == 2:
                _held.Remove(f[1]);
                return [];
            case "lease" when f.Length == 2 && long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var t):
                _deadline = t;
                _armed = t > now;
                return _armed ? [] : Lapse();
            case "drop" when f.Length == 1:
                return Lapse();
            default:
                throw new FormatException($"bad command '{line}'");
        }
    }

    /// <summary>Time until the lease runs out, or null when nothing is held or no lease is running.</summary>
    public long? TicksUntilDeadline(long now) => _armed && _held.Count > 0 ? Math.Max(0, _deadline - now) : null;

    /// <summary>If the deadline has passed: lapses and returns every held address (to drop); else nothing.</summary>
    public IReadOnlyList<HeldAddress> Check(long now) => _armed && now >= _deadline ? Lapse() : [];

    /// <summary>Forgets and returns everything held (daemon gone, or lease lapsed).</summary>
    public IReadOnlyList<HeldAddress> Lapse()
    {
        _armed = false;
        var all = _held.Values.ToList();
        _held.Clear();
        return all;
    }
}
