using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon;

internal enum TunableSetOutcome
{
    Ok,
    Obsolete,
    Unknown,
}

internal sealed partial class ClusterLoop
{
    private bool TunableGet(string name, out uint value) => Tunables.TryGet(name, out value);

    private TunableSetOutcome TunableSetValue(string name, uint value)
    {
        var outcome = Tunables.Set(name, value) switch
        {
            0 => TunableSetOutcome.Ok,
            1 => TunableSetOutcome.Obsolete,
            _ => TunableSetOutcome.Unknown,
        };
        if (outcome == TunableSetOutcome.Ok && string.Equals(name, "VacuumInterval", StringComparison.OrdinalIgnoreCase))
            VacuumIntervalChanged();
        return outcome;
    }

    private IReadOnlyList<string> TunableNames() => Tunables.ListNames();

    private byte[] TunableListBytes()
    {
        var values = Tunables.ToTunableListValues();
        var w = new WireWriter(values.Length * 4);
        foreach (var v in values)
            w.U32(v);
        return w.ToArray();
    }
}
