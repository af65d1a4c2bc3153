using System.Globalization;
using System.Net;

namespace SharpCtdb.Config;

public enum ConfigValueType
{
    String,
    Integer,
    Boolean,
}

/// <summary>One known ctdb.conf key, in the order `ctdb-config dump` prints them.</summary>
public sealed record ConfigOption(string Section, string Key, ConfigValueType Type, string? DefaultText);

/// <summary>Outcome of reading ctdb.conf: the config (defaults + every valid setting) plus diagnostics.</summary>
public sealed class ConfigLoadResult
{
    private readonly Dictionary<(string, string), string> _explicit;

    internal ConfigLoadResult(CtdbConfig config, List<ConfigDiagnostic> errors, List<ConfigDiagnostic> warnings,
        Dictionary<(string, string), string> explicitValues, bool fileExists)
    {
        Config = config;
        Errors = errors;
        Warnings = warnings;
        _explicit = explicitValues;
        FileExists = fileExists;
    }

    public CtdbConfig Config { get; }
    public IReadOnlyList<ConfigDiagnostic> Errors { get; }
    public IReadOnlyList<ConfigDiagnostic> Warnings { get; }
    public bool Ok => Errors.Count == 0;
    public bool FileExists { get; }

    /// <summary>True when the file set this key (with a valid value).</summary>
    public bool IsSet(string section, string key) => _explicit.ContainsKey((section.ToLowerInvariant(), key));

    /// <summary>
    /// The value as `ctdb-config get` prints it: integers in decimal, booleans true/false, strings as written
    /// (after blank collapsing); unset keys print their default, unset strings without default print "".
    /// Null when the key is not a known option.
    /// </summary>
    public string? GetDisplayValue(string section, string key)
    {
        var option = CtdbConfigFile.FindOption(section, key);
        if (option is null)
            return null;
        return _explicit.TryGetValue((option.Section, option.Key), out var v) ? v : option.DefaultText ?? "";
    }
}

/// <summary>Reads ctdb.conf (behaviour.md §1.4/§1.5).</summary>
public static class CtdbConfigFile
{
    /// <summary>Known options in dump order. The logging default level shown is the tools' (ERROR); ctdbd uses NOTICE.</summary>
    public static IReadOnlyList<ConfigOption> Options { get; } =
    [
        new("logging", "location", ConfigValueType.String, "file:" + CtdbPaths.CompiledLogFile),
        new("logging", "log level", ConfigValueType.String, "ERROR"),
        new("cluster", "transport", ConfigValueType.String, "tcp"),
        new("cluster", "node address", ConfigValueType.String, null),
        new("cluster", "cluster lock", ConfigValueType.String, null),
        new("cluster", "recovery lock", ConfigValueType.String, null),
        new("cluster", "leader timeout", ConfigValueType.Integer, "5"),
        new("cluster", "leader capability", ConfigValueType.Boolean, "true"),
        new("database", "volatile database directory", ConfigValueType.String, CtdbPaths.CompiledVarDir + "/volatile"),
        new("database", "persistent database directory", ConfigValueType.String, CtdbPaths.CompiledVarDir + "/persistent"),
        new("database", "state database directory", ConfigValueType.String, CtdbPaths.CompiledVarDir + "/state"),
        new("database", "lock debug script", ConfigValueType.String, null),
        new("database", "tdb mutexes", ConfigValueType.Boolean, "true"),
        new("event", "debug script", ConfigValueType.String, null),
        new("failover", "disabled", ConfigValueType.Boolean, "false"),
        new("legacy", "realtime scheduling", ConfigValueType.Boolean, "true"),
        new("legacy", "lmaster capability", ConfigValueType.Boolean, "true"),
        new("legacy", "start as stopped", ConfigValueType.Boolean, "false"),
        new("legacy", "start as disabled", ConfigValueType.Boolean, "false"),
        new("legacy", "script log level", ConfigValueType.String, "ERROR"),
    ];

    public static IReadOnlyList<string> Sections { get; } = ["logging", "cluster", "database", "event", "failover", "legacy"];

    /// <summary>Section names are case-insensitive, keys case-sensitive.</summary>
    public static ConfigOption? FindOption(string section, string key)
    {
        foreach (var o in Options)
        {
            if (string.Equals(o.Section, section, StringComparison.OrdinalIgnoreCase) && o.Key == key)
                return o;
        }
        return null;
    }

    /// <summary>
    /// Loads <paramref name="path"/>. A missing file gives the defaults. With <paramref name="strict"/> (as
    /// `ctdb-config validate`) unknown sections/keys are errors; otherwise they are warnings (ctdbd ignores them).
    /// <paramref name="defaultLogLevel"/> is the level used when `log level` is unset (ctdbd: NOTICE, tools: ERROR).
    /// </summary>
    public static ConfigLoadResult Load(string path, CtdbPaths paths, bool strict = false, int defaultLogLevel = 3)
    {
        string? text = null;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
        }
        catch (DirectoryNotFoundException)
        {
        }
        return Parse(text ?? "", path, paths, strict, defaultLogLevel, fileExists: text is not null);
    }

    /// <summary>Parses ctdb.conf text; <paramref name="fileName"/> is used in diagnostics.</summary>
    public static ConfigLoadResult Parse(string text, string fileName, CtdbPaths paths, bool strict = false,
        int defaultLogLevel = 3, bool fileExists = true)
    {
        var errors = new List<ConfigDiagnostic>();
        var warnings = new List<ConfigDiagnostic>();
        var values = new Dictionary<(string, string), string>();
        string? section = null;
        var sectionKnown = false;
        void Unknown(int line, string message)
        {
            (strict ? errors : warnings).Add(new ConfigDiagnostic(fileName, line, message));
        }

        foreach (var line in IniLineReader.Read(text))
        {
            if (line.Kind == IniLineKind.MalformedSection)
            {
                // ctdb's parser silently stops at such a line; keep the verdict, but tell the admin.
                warnings.Add(new ConfigDiagnostic(fileName, line.Line,
                    $"malformed section header '{line.Name}' (missing ']'); the rest of the file is ignored"));
                break;
            }
            if (line.Kind == IniLineKind.NoValue)
            {
                warnings.Add(new ConfigDiagnostic(fileName, line.Line, $"line without '=' ignored: '{line.Name}'"));
                continue;
            }
            if (line.Kind == IniLineKind.Section)
            {
                section = line.Name;
                var canonical = Sections.FirstOrDefault(s => string.Equals(s, section, StringComparison.OrdinalIgnoreCase));
                sectionKnown = canonical is not null;
                if (canonical is not null)
                    section = canonical;
                else
                    Unknown(line.Line, $"unknown section [{section}]" + Suggest(section.ToLowerInvariant(), Sections));
                continue;
            }
            if (line.Name.Length == 0)
            {
                warnings.Add(new ConfigDiagnostic(fileName, line.Line, "line with an empty key ignored"));
                continue;
            }
            if (section is null)
            {
                Unknown(line.Line, $"key '{line.Name}' is outside any section");
                continue;
            }
            if (!sectionKnown)
                continue; // already reported at the section header
            var option = FindOption(section, line.Name);
            if (option is null)
            {
                var keys = Options.Where(o => o.Section == section).Select(o => o.Key).ToList();
                Unknown(line.Line, $"unknown key '{line.Name}' in section [{section}]" + Suggest(line.Name, keys));
                continue;
            }
            if (line.Value.Length == 0)
            {
                errors.Add(new ConfigDiagnostic(fileName, line.Line, $"empty value [{section}] -> \"{line.Name}\""));
                continue;
            }
            if (!TryNormalize(option, line.Value, out var display))
            {
                errors.Add(new ConfigDiagnostic(fileName, line.Line,
                    $"invalid value [{section}] -> \"{line.Name}\" = \"{line.Value}\""));
                continue;
            }
            var problem = Validate(option, line.Value, display, paths);
            if (problem is not null)
            {
                errors.Add(new ConfigDiagnostic(fileName, line.Line, problem));
                continue;
            }
            if (option.Key == "recovery lock")
            {
                warnings.Add(new ConfigDiagnostic(fileName, line.Line,
                    "[cluster] -> recovery lock is deprecated, use cluster lock"));
            }
            values[(option.Section, option.Key)] = display;
        }

        var config = Build(values, paths, defaultLogLevel);
        return new ConfigLoadResult(config, errors, warnings, values, fileExists);
    }

    private static bool TryNormalize(ConfigOption option, string value, out string display)
    {
        display = value;
        switch (option.Type)
        {
            case ConfigValueType.Boolean:
                if (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("yes", StringComparison.OrdinalIgnoreCase))
                {
                    display = "true";
                    return true;
                }
                if (value.Equals("false", StringComparison.OrdinalIgnoreCase) || value.Equals("no", StringComparison.OrdinalIgnoreCase))
                {
                    display = "false";
                    return true;
                }
                return false;
            case ConfigValueType.Integer:
                if (!CNumber.TryStrtol(value, out var n, out _) || n < 0 || n > int.MaxValue)
                    return false;
                display = n.ToString(CultureInfo.InvariantCulture);
                return true;
            default:
                return true;
        }
    }

    /// <summary>Per-key checks (message texts follow ctdbd's where it prints one).</summary>
    private static string? Validate(ConfigOption option, string value, string display, CtdbPaths paths)
    {
        string Invalid() => $"Invalid value for [{option.Section}] -> {option.Key} = {display}";
        switch (option.Section, option.Key)
        {
            case ("logging", "location"):
                return IsValidLocation(value) ? null : $"invalid logging location '{value}' (use file:[PATH] or syslog[:nonblocking|udp|udp-rfc5424])";
            case ("logging", "log level"):
            case ("legacy", "script log level"):
                return TryParseDebugLevel(value, out _) ? null : Invalid();
            case ("cluster", "transport"):
                return value == "tcp" ? null : Invalid();
            case ("cluster", "node address"):
                return InetAddress.TryParse(value, out _) ? null : Invalid();
            case ("cluster", "leader timeout"):
                return int.Parse(display, CultureInfo.InvariantCulture) > 0 ? null : Invalid();
            case ("database", "volatile database directory"):
            case ("database", "persistent database directory"):
            case ("database", "state database directory"):
                return Directory.Exists(value) ? null : $"{option.Key} \"{value}\" does not exist";
            case ("database", "lock debug script"):
            case ("event", "debug script"):
                return CheckScript(option.Key, paths.EtcRelative(value));
            default:
                return null;
        }
    }

    private static string? CheckScript(string what, string path)
    {
        if (!File.Exists(path))
            return $"{what} {path} does not exist";
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) == 0)
            return $"{what} {path} is not executable";
        return null;
    }

    private static bool IsValidLocation(string value)
    {
        if (value == "file" || value.StartsWith("file:", StringComparison.Ordinal))
            return true;
        if (value == "syslog")
            return true;
        if (value.StartsWith("syslog:", StringComparison.Ordinal))
            return value[7..] is "nonblocking" or "udp" or "udp-rfc5424";
        return false;
    }

    /// <summary>
    /// A debug level as ctdb.conf accepts it: a name (case-insensitive) or a number 0..10 parsed like strtol
    /// (so "3x" is 3), as observed with the 4.17 tools.
    /// </summary>
    public static bool TryParseDebugLevel(string value, out int level)
    {
        switch (value.ToUpperInvariant())
        {
            case "ERROR": level = 0; return true;
            case "WARNING": level = 1; return true;
            case "NOTICE": level = 3; return true;
            case "INFO": level = 5; return true;
            case "DEBUG": level = 10; return true;
        }
        level = 0;
        if (!CNumber.TryStrtol(value, out var n, out var consumed) || consumed == 0 || n < 0 || n > 10)
            return false;
        level = (int)n;
        return true;
    }

    private static CtdbConfig Build(Dictionary<(string, string), string> v, CtdbPaths paths, int defaultLogLevel)
    {
        string? S(string section, string key) => v.TryGetValue((section, key), out var s) ? s : null;
        bool B(string section, string key, bool def) => S(section, key) is { } s ? s == "true" : def;
        int Level(string section, string key, int def) => S(section, key) is { } s && TryParseDebugLevel(s, out var l) ? l : def;

        var location = S("logging", "location");
        if (location == "file")
            location = "file:";
        IPAddress? nodeAddress = null;
        if (S("cluster", "node address") is { } na && InetAddress.TryParseCanonical(na, out var addr))
            nodeAddress = addr;
        var defaults = new DatabaseConfig();
        return new CtdbConfig
        {
            Logging = new LoggingConfig
            {
                Location = location ?? new LoggingConfig().Location,
                LogLevel = Level("logging", "log level", defaultLogLevel),
            },
            Cluster = new ClusterConfig
            {
                Transport = S("cluster", "transport") ?? "tcp",
                NodeAddress = nodeAddress,
                ClusterLock = S("cluster", "cluster lock"),
                RecoveryLock = S("cluster", "recovery lock"),
                LeaderTimeout = S("cluster", "leader timeout") is { } lt ? int.Parse(lt, CultureInfo.InvariantCulture) : 5,
                LeaderCapability = B("cluster", "leader capability", true),
            },
            Database = new DatabaseConfig
            {
                VolatileDirectory = S("database", "volatile database directory") ?? defaults.VolatileDirectory,
                PersistentDirectory = S("database", "persistent database directory") ?? defaults.PersistentDirectory,
                StateDirectory = S("database", "state database directory") ?? defaults.StateDirectory,
                LockDebugScript = S("database", "lock debug script") is { } lds ? paths.EtcRelative(lds) : null,
                TdbMutexes = B("database", "tdb mutexes", true),
            },
            Event = new EventConfig
            {
                DebugScript = S("event", "debug script") is { } ds ? paths.EtcRelative(ds) : null,
            },
            Failover = new FailoverConfig { Disabled = B("failover", "disabled", false) },
            Legacy = new LegacyConfig
            {
                RealtimeScheduling = B("legacy", "realtime scheduling", true),
                LmasterCapability = B("legacy", "lmaster capability", true),
                StartAsStopped = B("legacy", "start as stopped", false),
                StartAsDisabled = B("legacy", "start as disabled", false),
                ScriptLogLevel = Level("legacy", "script log level", 0),
            },
        };
    }

    /// <summary>"; did you mean 'X'?" for the closest candidate by edit distance, or "" when nothing is close.</summary>
    internal static string Suggest(string given, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            var d = EditDistance(given.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance)
            {
                best = c;
                bestDistance = d;
            }
        }
        if (best is null || bestDistance > Math.Max(2, best.Length / 3))
            return "";
        return $"; did you mean '{best}'?";
    }

    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
