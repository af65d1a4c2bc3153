namespace SharpCtdb.Protocol;

/// <summary>
/// GET_ALL_TUNABLES reply (248 bytes): 62 u32 in the C struct order. <see cref="SlotNames"/> gives the tunable name of each slot.
/// </summary>
public sealed record TunableList(uint[] Values) : IWireType<TunableList>
{
    public const int Count = 62;
    public const int Size = Count * 4;

    /// <summary>Tunable name of each slot, in wire order (the slot order of the C struct, including obsolete ones).</summary>
    public static IReadOnlyList<string> SlotNames { get; } =
    [
        "MaxRedirectCount",
        "SeqnumInterval",
        "ControlTimeout",
        "TraverseTimeout",
        "KeepaliveInterval",
        "KeepaliveLimit",
        "RecoverTimeout",
        "RecoverInterval",
        "ElectionTimeout",
        "TakeoverTimeout",
        "MonitorInterval",
        "TickleUpdateInterval",
        "EventScriptTimeout",
        "MonitorTimeoutCount",
        "EventScriptUnhealthyOnTimeout",
        "RecoveryGracePeriod",
        "RecoveryBanPeriod",
        "DatabaseHashSize",
        "DatabaseMaxDead",
        "RerecoveryTimeout",
        "EnableBans",
        "DeterministicIPs",
        "ReclockPingPeriod",
        "NoIPFailback",
        "DisableIPFailover",
        "VerboseMemoryNames",
        "RecdPingTimeout",
        "RecdFailCount",
        "LogLatencyMs",
        "RecLockLatencyMs",
        "RecoveryDropAllIPs",
        "VerifyRecoveryLock",
        "VacuumInterval",
        "VacuumMaxRunTime",
        "RepackLimit",
        "VacuumLimit",
        "MaxQueueDropMsg",
        "AllowUnhealthyDBRead",
        "StatHistoryInterval",
        "DeferredAttachTO",
        "VacuumFastPathCount",
        "LCP2PublicIPs",
        "AllowClientDBAttach",
        "RecoverPDBBySeqNum",
        "DeferredRebalanceOnNodeAdd",
        "FetchCollapse",
        "HopcountMakeSticky",
        "StickyDuration",
        "StickyPindown",
        "NoIPTakeover",
        "DBRecordCountWarn",
        "DBRecordSizeWarn",
        "DBSizeWarn",
        "PullDBPreallocation",
        "NoIPHostOnAllDisabled",
        "Samba3AvoidDeadlocks",
        "TDBMutexEnabled",
        "LockProcessesPerDB",
        "RecBufferSizeLimit",
        "QueueBufferSize",
        "IPAllocAlgorithm",
        "AllowMixedVersions",
    ];

    /// <summary>Value of the named tunable (case-insensitive), or null if there is no such slot.</summary>
    public uint? Get(string name)
    {
        for (var i = 0; i < SlotNames.Count; i++)
        {
            if (string.Equals(SlotNames[i], name, StringComparison.OrdinalIgnoreCase))
                return i < Values.Length ? Values[i] : null;
        }
        return null;
    }

    public void Write(WireWriter w)
    {
        if (Values.Length != Count)
            throw new ProtocolException($"tunable_list needs exactly {Count} values, got {Values.Length}");
        foreach (var v in Values)
            w.U32(v);
    }

    public static TunableList Read(ref WireReader r) => new(WireCodec.ReadU32s(ref r, Count));

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static TunableList FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<TunableList>(data);
}
