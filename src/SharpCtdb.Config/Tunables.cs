namespace SharpCtdb.Config;

/// <summary>A tunable's name, compiled default and whether 4.17 still uses it.</summary>
public sealed record TunableDefinition(string Name, uint Default, bool Obsolete);

/// <summary>
/// The per-node tunables (behaviour.md §13): all u32, names case-insensitive. Thread-safe; reads are lock-free
/// snapshots of individual values.
/// </summary>
public sealed class TunableSet
{
    /// <summary>All tunables in LIST_TUNABLES / listvars order (obsolete ones included, flagged).</summary>
    public static IReadOnlyList<TunableDefinition> Definitions { get; } =
    [
        new("MaxRedirectCount", 3, true),
        new("SeqnumInterval", 1000, false),
        new("ControlTimeout", 60, false),
        new("TraverseTimeout", 20, false),
        new("KeepaliveInterval", 5, false),
        new("KeepaliveLimit", 5, false),
        new("RecoverTimeout", 30, false),
        new("RecoverInterval", 1, false),
        new("ElectionTimeout", 3, false),
        new("TakeoverTimeout", 9, false),
        new("MonitorInterval", 15, false),
        new("TickleUpdateInterval", 20, false),
        new("EventScriptTimeout", 30, false),
        new("MonitorTimeoutCount", 20, false),
        new("EventScriptUnhealthyOnTimeout", 0, true),
        new("RecoveryGracePeriod", 120, false),
        new("RecoveryBanPeriod", 300, false),
        new("DatabaseHashSize", 100001, false),
        new("DatabaseMaxDead", 5, false),
        new("RerecoveryTimeout", 10, false),
        new("EnableBans", 1, false),
        new("DeterministicIPs", 0, true),
        new("LCP2PublicIPs", 1, true),
        new("ReclockPingPeriod", 60, true),
        new("NoIPFailback", 0, false),
        new("DisableIPFailover", 0, true),
        new("VerboseMemoryNames", 0, false),
        new("RecdPingTimeout", 60, false),
        new("RecdFailCount", 10, false),
        new("LogLatencyMs", 0, false),
        new("RecLockLatencyMs", 1000, false),
        new("RecoveryDropAllIPs", 120, false),
        new("VerifyRecoveryLock", 1, true),
        new("VacuumInterval", 10, false),
        new("VacuumMaxRunTime", 120, false),
        new("RepackLimit", 10000, false),
        new("VacuumLimit", 5000, true),
        new("VacuumFastPathCount", 60, false),
        new("MaxQueueDropMsg", 1000000, false),
        new("AllowUnhealthyDBRead", 0, false),
        new("StatHistoryInterval", 1, false),
        new("DeferredAttachTO", 120, false),
        new("AllowClientDBAttach", 1, false),
        new("RecoverPDBBySeqNum", 1, true),
        new("DeferredRebalanceOnNodeAdd", 300, true),
        new("FetchCollapse", 1, false),
        new("HopcountMakeSticky", 50, false),
        new("StickyDuration", 600, false),
        new("StickyPindown", 200, false),
        new("NoIPTakeover", 0, false),
        new("DBRecordCountWarn", 100000, false),
        new("DBRecordSizeWarn", 10000000, false),
        new("DBSizeWarn", 100000000, false),
        new("PullDBPreallocation", 10485760, false),
        new("NoIPHostOnAllDisabled", 1, true),
        new("Samba3AvoidDeadlocks", 0, true),
        new("TDBMutexEnabled", 1, true),
        new("LockProcessesPerDB", 200, false),
        new("RecBufferSizeLimit", 1000000, false),
        new("QueueBufferSize", 1024, false),
        new("IPAllocAlgorithm", 2, false),
        new("AllowMixedVersions", 0, false),
    ];

    /// <summary>
    /// Names in the order of the 62 u32 slots of GET_ALL_TUNABLES (struct ctdb_tunable_list), which differs from
    /// the list order around DeterministicIPs/LCP2PublicIPs and VacuumFastPathCount. Verified slot by slot against a
    /// real 4.17.12 ctdbd (SET_TUNABLE of a unique value, then GET_ALL_TUNABLES), obsolete tunables included.
    /// </summary>
    public static IReadOnlyList<string> WireOrder { get; } =
    [
        "MaxRedirectCount", "SeqnumInterval", "ControlTimeout", "TraverseTimeout", "KeepaliveInterval",
        "KeepaliveLimit", "RecoverTimeout", "RecoverInterval", "ElectionTimeout", "TakeoverTimeout",
        "MonitorInterval", "TickleUpdateInterval", "EventScriptTimeout", "MonitorTimeoutCount",
        "EventScriptUnhealthyOnTimeout", "RecoveryGracePeriod", "RecoveryBanPeriod", "DatabaseHashSize",
        "DatabaseMaxDead", "RerecoveryTimeout", "EnableBans", "DeterministicIPs", "ReclockPingPeriod",
        "NoIPFailback", "DisableIPFailover", "VerboseMemoryNames", "RecdPingTimeout", "RecdFailCount",
        "LogLatencyMs", "RecLockLatencyMs", "RecoveryDropAllIPs", "VerifyRecoveryLock", "VacuumInterval",
        "VacuumMaxRunTime", "RepackLimit", "VacuumLimit", "MaxQueueDropMsg", "AllowUnhealthyDBRead",
        "StatHistoryInterval", "DeferredAttachTO", "VacuumFastPathCount", "LCP2PublicIPs",
        "AllowClientDBAttach", "RecoverPDBBySeqNum", "DeferredRebalanceOnNodeAdd", "FetchCollapse",
        "HopcountMakeSticky", "StickyDuration", "StickyPindown", "NoIPTakeover", "DBRecordCountWarn",
        "DBRecordSizeWarn", "DBSizeWarn", "PullDBPreallocation", "NoIPHostOnAllDisabled",
        "Samba3AvoidDeadlocks", "TDBMutexEnabled", "LockProcessesPerDB", "RecBufferSizeLimit",
        "QueueBufferSize", "IPAllocAlgorithm", "AllowMixedVersions",
    ];

    private static readonly Dictionary<string, int> IndexByName = BuildIndex();
    private static readonly int[] WireSlots = [.. WireOrder.Select(n => IndexByName[n])];

    private readonly uint[] _values;

    public TunableSet()
    {
        _values = [.. Definitions.Select(d => d.Default)];
    }

    private static Dictionary<string, int> BuildIndex()
    {
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Definitions.Count; i++)
            index.Add(Definitions[i].Name, i);
        return index;
    }

    /// <summary>Finds a definition by case-insensitive name.</summary>
    public static TunableDefinition? Find(string name) =>
        IndexByName.TryGetValue(name, out var i) ? Definitions[i] : null;

    /// <summary>Reads a tunable (case-insensitive; obsolete ones readable). False if unknown (GET_TUNABLE → -EINVAL).</summary>
    public bool TryGet(string name, out uint value)
    {
        if (IndexByName.TryGetValue(name, out var i))
        {
            value = Volatile.Read(ref _values[i]);
            return true;
        }
        value = 0;
        return false;
    }

    /// <summary>SET_TUNABLE semantics: 0 = set, 1 = obsolete (stored anyway), -1 = unknown name. No range checks.</summary>
    public int Set(string name, uint value)
    {
        if (!IndexByName.TryGetValue(name, out var i))
            return -1;
        Volatile.Write(ref _values[i], value);
        return Definitions[i].Obsolete ? 1 : 0;
    }

    /// <summary>Value of a known tunable; throws KeyNotFoundException for an unknown name.</summary>
    public uint this[string name] =>
        TryGet(name, out var v) ? v : throw new KeyNotFoundException($"unknown tunable '{name}'");

    /// <summary>LIST_TUNABLES: non-obsolete names in table order.</summary>
    public IReadOnlyList<string> ListNames() => [.. Definitions.Where(d => !d.Obsolete).Select(d => d.Name)];

    /// <summary>The 62 values in GET_ALL_TUNABLES wire order.</summary>
    public uint[] ToTunableListValues()
    {
        var result = new uint[WireSlots.Length];
        for (var i = 0; i < WireSlots.Length; i++)
            result[i] = Volatile.Read(ref _values[WireSlots[i]]);
        return result;
    }

    /// <summary>Sets all values from a GET_ALL_TUNABLES payload's 62 u32 (wire order), e.g. in a helper process.</summary>
    public void LoadTunableListValues(ReadOnlySpan<uint> values)
    {
        if (values.Length != WireSlots.Length)
            throw new ArgumentException($"expected {WireSlots.Length} tunable values, got {values.Length}", nameof(values));
        for (var i = 0; i < WireSlots.Length; i++)
            Volatile.Write(ref _values[WireSlots[i]], values[i]);
    }

    /// <summary>A copy with the same values.</summary>
    public TunableSet Clone()
    {
        var copy = new TunableSet();
        for (var i = 0; i < _values.Length; i++)
            copy._values[i] = Volatile.Read(ref _values[i]);
        return copy;
    }

    private uint Get(int index) => Volatile.Read(ref _values[index]);

    private static int Idx(string name) => IndexByName[name];

    private static readonly int KeepaliveIntervalIdx = Idx("KeepaliveInterval");
    private static readonly int KeepaliveLimitIdx = Idx("KeepaliveLimit");
    private static readonly int RecoverIntervalIdx = Idx("RecoverInterval");
    private static readonly int RecoverTimeoutIdx = Idx("RecoverTimeout");
    private static readonly int ElectionTimeoutIdx = Idx("ElectionTimeout");
    private static readonly int TakeoverTimeoutIdx = Idx("TakeoverTimeout");
    private static readonly int MonitorIntervalIdx = Idx("MonitorInterval");
    private static readonly int EventScriptTimeoutIdx = Idx("EventScriptTimeout");
    private static readonly int MonitorTimeoutCountIdx = Idx("MonitorTimeoutCount");
    private static readonly int RecoveryBanPeriodIdx = Idx("RecoveryBanPeriod");
    private static readonly int RecoveryGracePeriodIdx = Idx("RecoveryGracePeriod");
    private static readonly int RerecoveryTimeoutIdx = Idx("RerecoveryTimeout");
    private static readonly int EnableBansIdx = Idx("EnableBans");
    private static readonly int NoIPFailbackIdx = Idx("NoIPFailback");
    private static readonly int NoIPTakeoverIdx = Idx("NoIPTakeover");
    private static readonly int IPAllocAlgorithmIdx = Idx("IPAllocAlgorithm");
    private static readonly int ControlTimeoutIdx = Idx("ControlTimeout");
    private static readonly int DatabaseHashSizeIdx = Idx("DatabaseHashSize");
    private static readonly int DatabaseMaxDeadIdx = Idx("DatabaseMaxDead");
    private static readonly int AllowClientDBAttachIdx = Idx("AllowClientDBAttach");
    private static readonly int AllowMixedVersionsIdx = Idx("AllowMixedVersions");
    private static readonly int TickleUpdateIntervalIdx = Idx("TickleUpdateInterval");
    private static readonly int RecoveryDropAllIPsIdx = Idx("RecoveryDropAllIPs");
    private static readonly int SeqnumIntervalIdx = Idx("SeqnumInterval");
    private static readonly int TraverseTimeoutIdx = Idx("TraverseTimeout");
    private static readonly int RecdPingTimeoutIdx = Idx("RecdPingTimeout");
    private static readonly int RecdFailCountIdx = Idx("RecdFailCount");
    private static readonly int VacuumIntervalIdx = Idx("VacuumInterval");
    private static readonly int DeferredAttachToIdx = Idx("DeferredAttachTO");
    private static readonly int RecLockLatencyMsIdx = Idx("RecLockLatencyMs");
    private static readonly int MaxQueueDropMsgIdx = Idx("MaxQueueDropMsg");
    private static readonly int RecBufferSizeLimitIdx = Idx("RecBufferSizeLimit");

    public uint KeepaliveInterval => Get(KeepaliveIntervalIdx);
    public uint KeepaliveLimit => Get(KeepaliveLimitIdx);
    public uint RecoverInterval => Get(RecoverIntervalIdx);
    public uint RecoverTimeout => Get(RecoverTimeoutIdx);
    public uint ElectionTimeout => Get(ElectionTimeoutIdx);
    public uint TakeoverTimeout => Get(TakeoverTimeoutIdx);
    public uint MonitorInterval => Get(MonitorIntervalIdx);
    public uint EventScriptTimeout => Get(EventScriptTimeoutIdx);
    public uint MonitorTimeoutCount => Get(MonitorTimeoutCountIdx);
    public uint RecoveryBanPeriod => Get(RecoveryBanPeriodIdx);
    public uint RecoveryGracePeriod => Get(RecoveryGracePeriodIdx);
    public uint RerecoveryTimeout => Get(RerecoveryTimeoutIdx);
    public uint EnableBans => Get(EnableBansIdx);
    public uint NoIPFailback => Get(NoIPFailbackIdx);
    public uint NoIPTakeover => Get(NoIPTakeoverIdx);
    public uint IPAllocAlgorithm => Get(IPAllocAlgorithmIdx);
    public uint ControlTimeout => Get(ControlTimeoutIdx);
    public uint DatabaseHashSize => Get(DatabaseHashSizeIdx);
    public uint DatabaseMaxDead => Get(DatabaseMaxDeadIdx);
    public uint AllowClientDBAttach => Get(AllowClientDBAttachIdx);
    public uint AllowMixedVersions => Get(AllowMixedVersionsIdx);
    public uint TickleUpdateInterval => Get(TickleUpdateIntervalIdx);
    public uint RecoveryDropAllIPs => Get(RecoveryDropAllIPsIdx);
    public uint SeqnumInterval => Get(SeqnumIntervalIdx);
    public uint TraverseTimeout => Get(TraverseTimeoutIdx);
    public uint RecdPingTimeout => Get(RecdPingTimeoutIdx);
    public uint RecdFailCount => Get(RecdFailCountIdx);
    public uint VacuumInterval => Get(VacuumIntervalIdx);
    public uint DeferredAttachTO => Get(DeferredAttachToIdx);
    public uint RecLockLatencyMs => Get(RecLockLatencyMsIdx);
    public uint MaxQueueDropMsg => Get(MaxQueueDropMsgIdx);
    public uint RecBufferSizeLimit => Get(RecBufferSizeLimitIdx);
}
