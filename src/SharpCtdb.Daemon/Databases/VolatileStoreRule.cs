using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon.Databases;

/// <summary>What the daemon does with one store on a volatile db.</summary>
/// <param name="Keep">false = delete the tdb entry instead of storing.</param>
/// <param name="Header">The header to write (rsn bumped, transient flags stripped) when kept.</param>
/// <param name="QueueForDeletion">Put the key on the delete queue (an empty record this node is dmaster of).</param>
/// <param name="UnqueueDeletion">Take the key off the delete queue (it has data again).</param>
internal readonly record struct StoreDecision(bool Keep, LtdbHeader Header, bool QueueForDeletion, bool UnqueueDeletion);

/// <summary>4.17's store rule for volatile dbs (behaviour §12.4.3): first match wins, rsn+1 when this node is dmaster.</summary>
internal static class VolatileStoreRule
{
    public static StoreDecision Decide(LtdbHeader header, bool dataEmpty, uint me, uint lmaster)
    {
        var flags = header.Flags;
        var ro = (flags & (uint)RecordFlags.RoFlags) != 0;
        bool keep, automatic = false;
        if (!dataEmpty || ro)
            keep = true;
        else if ((flags & LtdbHeader.FlagAutomatic) != 0)
            (keep, automatic) = (true, true);
        else if ((flags & LtdbHeader.FlagMigratedWithData) != 0)
            keep = true;
        else if (lmaster == me)
            keep = !((flags & LtdbHeader.FlagVacuumMigrated) != 0 && header.Dmaster == me);
        else
            keep = header.Dmaster == me;
        if (!keep)
            return new StoreDecision(false, header, false, false);

        var mine = header.Dmaster == me && !ro;
        var stored = new LtdbHeader(mine ? header.Rsn + 1 : header.Rsn, header.Dmaster, flags & ~(uint)RecordFlags.Transient)
        {
            Reserved1 = header.Reserved1,
        };
        return new StoreDecision(true, stored, mine && (dataEmpty || automatic), mine && !dataEmpty && !automatic);
    }
}
