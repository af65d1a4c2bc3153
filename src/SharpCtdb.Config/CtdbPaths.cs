using System.Collections;

namespace SharpCtdb.Config;

/// <summary>Thrown when the environment cannot describe a usable CTDB layout (e.g. test mode without CTDB_BASE).</summary>
public sealed class CtdbSetupException(string message) : Exception(message);

/// <summary>
/// The directory roots and well-known files of a CTDB installation (behaviour.md §1.1/§1.2).
/// In test mode (<c>CTDB_TEST_MODE</c> present, any value) ETC/RUN/VAR/DATA roots move under <c>$CTDB_BASE</c>;
/// some files always follow <c>$CTDB_BASE</c> and the database directory defaults never follow test mode.
/// </summary>
public sealed record CtdbPaths
{
    public const string CompiledEtcDir = "/etc/ctdb";
    public const string CompiledRunDir = "/run/ctdb";
    public const string CompiledVarDir = "/var/lib/ctdb";
    public const string CompiledDataDir = "/usr/share/ctdb";
    public const string CompiledHelperDir = "/usr/libexec/ctdb";
    public const string CompiledLogFile = "/var/log/ctdb/log.ctdb";

    public bool TestMode { get; init; }

    /// <summary>$CTDB_BASE, or /etc/ctdb when unset (normal mode only).</summary>
    public required string CtdbBase { get; init; }
    public required string EtcDir { get; init; }
    public required string RunDir { get; init; }
    public required string VarDir { get; init; }
    public required string DataDir { get; init; }

    /// <summary>$CTDB_SOCKET if set, else RUNDIR/ctdbd.socket.</summary>
    public required string SocketPath { get; init; }
    public string PidFile => Path.Combine(RunDir, "ctdbd.pid");

    /// <summary>Always RUNDIR/eventd.socket: CTDB_SOCKET does not move it.</summary>
    public string EventdSocket => Path.Combine(RunDir, "eventd.socket");
    public string ConfigFile => Path.Combine(EtcDir, "ctdb.conf");
    public string NodesFile => Path.Combine(CtdbBase, "nodes");
    public string PublicAddressesFile => Path.Combine(CtdbBase, "public_addresses");
    public string TunablesFile => Path.Combine(EtcDir, "ctdb.tunables");
    public string NotifyScript => Path.Combine(CtdbBase, "notify.sh");
    public string EventsDir => Path.Combine(EtcDir, "events");

    /// <summary>Where event scripts keep state ($CTDB_SCRIPT_VARDIR, default VARDIR/scripts).</summary>
    public required string ScriptVarDir { get; init; }

    /// <summary>Directory of helper binaries (/usr/libexec/ctdb; $CTDB_HELPER_BINDIR overrides).</summary>
    public required string HelperDir { get; init; }

    /// <summary>Default cluster mutex helper ($CTDB_CLUSTER_MUTEX_HELPER, else HELPERDIR/ctdb_mutex_fcntl_helper).</summary>
    public required string ClusterMutexHelper { get; init; }

    /// <summary>Event daemon binary ($CTDB_EVENTD, else HELPERDIR/ctdb-eventd).</summary>
    public required string EventdPath { get; init; }

    /// <summary>Recovery helper binary ($CTDB_RECOVERY_HELPER, else HELPERDIR/ctdb_recovery_helper).</summary>
    public required string RecoveryHelper { get; init; }

    /// <summary>Takeover helper binary ($CTDB_TAKEOVER_HELPER, else HELPERDIR/ctdb_takeover_helper).</summary>
    public required string TakeoverHelper { get; init; }

    public string DefaultLogFile => CompiledLogFile;

    /// <summary>Lock file used when auto-binding; always the compiled RUNDIR, even in test mode (§1.1).</summary>
    public string SocketLockFile => Path.Combine(CompiledRunDir, ".socket_lock");

    // Compiled VARDIR paths: deliberately not relocated by test mode (§1.2).
    public string DefaultVolatileDbDir => Path.Combine(CompiledVarDir, "volatile");
    public string DefaultPersistentDbDir => Path.Combine(CompiledVarDir, "persistent");
    public string DefaultStateDbDir => Path.Combine(CompiledVarDir, "state");

    /// <summary>Resolves the layout from <paramref name="env"/> (null = the process environment).</summary>
    /// <exception cref="CtdbSetupException">Test mode is on but CTDB_BASE is not set.</exception>
    public static CtdbPaths FromEnvironment(IReadOnlyDictionary<string, string?>? env = null)
    {
        env ??= ProcessEnvironment();
        string? Get(string name) => env.TryGetValue(name, out var v) ? v : null;
        string? NonEmpty(string name) => Get(name) is { Length: > 0 } v ? v : null;

        var testMode = env.ContainsKey("CTDB_TEST_MODE");
        var baseDir = Get("CTDB_BASE");
        string etc, run, var, data;
        if (testMode)
        {
            if (string.IsNullOrEmpty(baseDir))
                throw new CtdbSetupException("CTDB_BASE not set in test mode");
            etc = baseDir;
            run = Path.Combine(baseDir, "run");
            var = Path.Combine(baseDir, "var");
            data = Path.Combine(baseDir, "share");
        }
        else
        {
            etc = CompiledEtcDir;
            run = CompiledRunDir;
            var = CompiledVarDir;
            data = CompiledDataDir;
        }
        var ctdbBase = string.IsNullOrEmpty(baseDir) ? CompiledEtcDir : baseDir;
        var helperDir = NonEmpty("CTDB_HELPER_BINDIR") ?? CompiledHelperDir;
        return new CtdbPaths
        {
            TestMode = testMode,
            CtdbBase = ctdbBase,
            EtcDir = etc,
            RunDir = run,
            VarDir = var,
            DataDir = data,
            SocketPath = NonEmpty("CTDB_SOCKET") ?? Path.Combine(run, "ctdbd.socket"),
            ScriptVarDir = NonEmpty("CTDB_SCRIPT_VARDIR") ?? Path.Combine(var, "scripts"),
            HelperDir = helperDir,
            ClusterMutexHelper = NonEmpty("CTDB_CLUSTER_MUTEX_HELPER") ?? Path.Combine(helperDir, "ctdb_mutex_fcntl_helper"),
            EventdPath = NonEmpty("CTDB_EVENTD") ?? Path.Combine(helperDir, "ctdb-eventd"),
            RecoveryHelper = NonEmpty("CTDB_RECOVERY_HELPER") ?? Path.Combine(helperDir, "ctdb_recovery_helper"),
            TakeoverHelper = NonEmpty("CTDB_TAKEOVER_HELPER") ?? Path.Combine(helperDir, "ctdb_takeover_helper"),
        };
    }

    /// <summary>ETCDIR/basename(value): where debug scripts named in ctdb.conf are looked up (§1.1).</summary>
    public string EtcRelative(string value) => Path.Combine(EtcDir, Path.GetFileName(value));

    private static Dictionary<string, string?> ProcessEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            result[(string)e.Key] = e.Value as string;
        return result;
    }
}
