namespace SharpCtdb.FakeDaemon;

/// <summary>4.17's tunable table in LIST_TUNABLES order (protocol.md §4.2); obsolete ones are accepted by
/// SET_TUNABLE with status 1 but never listed.</summary>
public static class Tunables
{
    public static readonly (string Name, uint Default, bool Obsolete)[] Table =
    [
        ("MaxRedirectCount", 3, true), ("SeqnumInterval", 1000, false), ("ControlTimeout", 60, false),
        ("TraverseTimeout", 20, false), ("KeepaliveInterval", 5, false), ("KeepaliveLimit", 5, false),
        ("RecoverTimeout", 30, false), ("RecoverInterval", 1, false), ("ElectionTimeout", 3, false),
        ("TakeoverTimeout", 9, false), ("MonitorInterval", 15, false), ("TickleUpdateInterval", 20, false),
        ("EventScriptTimeout", 30, false), ("MonitorTimeoutCount", 20, false), ("EventScriptUnhealthyOnTimeout", 0, true),
        ("RecoveryGracePeriod", 120, false), ("RecoveryBanPeriod", 300, false), ("DatabaseHashSize", 100001, false),
        ("DatabaseMaxDead", 5, false), ("RerecoveryTimeout", 10, false), ("EnableBans", 1, false),
        ("DeterministicIPs", 0, true), ("LCP2PublicIPs", 1, true), ("ReclockPingPeriod", 60, true),
        ("NoIPFailback", 0, false), ("DisableIPFailover", 0, true), ("VerboseMemoryNames", 0, false),
        ("RecdPingTimeout", 60, false), ("RecdFailCount", 10, false), ("LogLatencyMs", 0, false),
        ("RecLockLatencyMs", 1000, false), ("RecoveryDropAllIPs", 120, false), ("VerifyRecoveryLock", 1, true),
        ("VacuumInterval", 10, false), ("VacuumMaxRunTime", 120, false), ("RepackLimit", 10000, false),
        ("VacuumLimit", 5000, true), ("VacuumFastPathCount", 60, false), ("MaxQueueDropMsg", 1000000, false),
        ("AllowUnhealthyDBRead", 0, false), ("StatHistoryInterval", 1, false), ("DeferredAttachTO", 120, false),
        ("AllowClientDBAttach", 1, false), ("RecoverPDBBySeqNum", 1, true), ("DeferredRebalanceOnNodeAdd", 300, true),
        ("FetchCollapse", 1, false), ("HopcountMakeSticky", 50, false), ("StickyDuration", 600, false),
        ("StickyPindown", 200, false), ("NoIPTakeover", 0, false), ("DBRecordCountWarn", 100000, false),
        ("DBRecordSizeWarn", 10000000, false), ("DBSizeWarn", 100000000, false), ("PullDBPreallocation", 10485760, false),
        ("NoIPHostOnAllDisabled", 1, true), ("Samba3AvoidDeadlocks", 0, true), ("TDBMutexEnabled", 1, true),
        ("LockProcessesPerDB", 200, false), ("RecBufferSizeLimit", 1000000, false), ("QueueBufferSize", 1024, false),
        ("IPAllocAlgorithm", 2, false), ("AllowMixedVersions", 0, false),
    ];
}
