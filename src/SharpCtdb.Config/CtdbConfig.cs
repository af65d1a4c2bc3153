using System.Net;

namespace SharpCtdb.Config;

/// <summary>Parsed ctdb.conf (behaviour.md §1.5). Defaults are the compiled ctdbd defaults.</summary>
public sealed record CtdbConfig
{
    public static CtdbConfig Default { get; } = new();

    public LoggingConfig Logging { get; init; } = new();
    public ClusterConfig Cluster { get; init; } = new();
    public DatabaseConfig Database { get; init; } = new();
    public EventConfig Event { get; init; } = new();
    public FailoverConfig Failover { get; init; } = new();
    public LegacyConfig Legacy { get; init; } = new();
}

public sealed record LoggingConfig
{
    /// <summary>"file:[PATH]" or "syslog[:METHOD]".</summary>
    public string Location { get; init; } = "file:" + CtdbPaths.CompiledLogFile;

    /// <summary>Numeric debug level (NOTICE = 3 for ctdbd).</summary>
    public int LogLevel { get; init; } = 3;
}

public sealed record ClusterConfig
{
    public string Transport { get; init; } = "tcp";

    /// <summary>Listen address / PNN selector; IPv4-mapped IPv6 is reported as IPv4. Null = auto-detect.</summary>
    public IPAddress? NodeAddress { get; init; }
    public string? ClusterLock { get; init; }

    /// <summary>Deprecated alias of ClusterLock.</summary>
    public string? RecoveryLock { get; init; }

    /// <summary>The lock actually used: `cluster lock`, else `recovery lock`, else null (no lock).</summary>
    public string? EffectiveClusterLock => ClusterLock ?? RecoveryLock;

    /// <summary>Seconds without a leader broadcast before an election is forced.</summary>
    public int LeaderTimeout { get; init; } = 5;
    public bool LeaderCapability { get; init; } = true;
}

public sealed record DatabaseConfig
{
    public string VolatileDirectory { get; init; } = CtdbPaths.CompiledVarDir + "/volatile";
    public string PersistentDirectory { get; init; } = CtdbPaths.CompiledVarDir + "/persistent";
    public string StateDirectory { get; init; } = CtdbPaths.CompiledVarDir + "/state";

    /// <summary>Resolved path ETCDIR/basename(value) of the lock debug script (what to run), or null.</summary>
    public string? LockDebugScript { get; init; }
    public bool TdbMutexes { get; init; } = true;
}

public sealed record EventConfig
{
    /// <summary>Resolved path ETCDIR/basename(value) of the hung-script debug script, or null.</summary>
    public string? DebugScript { get; init; }
}

public sealed record FailoverConfig
{
    public bool Disabled { get; init; }
}

public sealed record LegacyConfig
{
    public bool RealtimeScheduling { get; init; } = true;
    public bool LmasterCapability { get; init; } = true;
    public bool StartAsStopped { get; init; }
    public bool StartAsDisabled { get; init; }

    /// <summary>Numeric debug level for event-script output (ERROR = 0).</summary>
    public int ScriptLogLevel { get; init; }
}
