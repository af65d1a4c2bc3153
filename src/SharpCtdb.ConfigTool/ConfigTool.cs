using SharpCtdb.Config;

namespace SharpCtdb.ConfigTool;

public static class ConfigTool
{
    private const int ExitUsage = 1;
    private const int ExitNoEntry = 2;
    private const int ExitInvalid = 22;

    private const string ShortUsageHead =
        "Usage: ctdb-config [-h?] [-h|--help] [-?|--help] [--usage]\n        [-d|--debug=ERROR|WARNING|NOTICE|INFO|DEBUG]";

    private const string FullUsage =
        """
        Usage: ctdb-config [<options>] <command> [<args>]

        Help Options:
          -h, --help                                      Show this help message

        Options:
          -d, --debug=ERROR|WARNING|NOTICE|INFO|DEBUG     debug level

        Help options:
          -?, --help                                      Show this help message
              --usage                                     Display brief usage message

        Commands:
          dump                    Dump configuration
          get <section> <key>     Get a config value
          validate                Validate configuration file
        """;

    /// <summary>Runs the tool; <paramref name="env"/> replaces the process environment (tests).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, IReadOnlyDictionary<string, string?>? env = null)
    {
        var debugLevel = 0;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (rest.Count > 0)
            {
                rest.Add(a);
                continue;
            }
            string? level = null;
            switch (a)
            {
                case "-h" or "--help" or "-?":
                    stdout.WriteLine(FullUsage);
                    return 0;
                case "--usage":
                    stdout.WriteLine(ShortUsageHead);
                    return 0;
                case "-d" or "--debug":
                    if (i + 1 >= args.Length)
                    {
                        stderr.WriteLine($"Invalid option {a}: missing argument");
                        return ExitUsage;
                    }
                    level = args[++i];
                    break;
                default:
                    if (a.StartsWith("--debug=", StringComparison.Ordinal))
                        level = a["--debug=".Length..];
                    else if (a.StartsWith("-d", StringComparison.Ordinal) && a.Length > 2)
                        level = a[2..];
                    else if (a.StartsWith('-') && a.Length > 1)
                    {
                        stderr.WriteLine($"Invalid option {a}: unknown option");
                        return PrintFullUsageTwice(stdout);
                    }
                    else
                        rest.Add(a);
                    break;
            }
            // An unknown level name leaves the default, as the reference tool does.
            if (level is not null && CtdbConfigFile.TryParseDebugLevel(level, out var parsed))
                debugLevel = parsed;
        }

        if (rest.Count == 0)
            return PrintFullUsageTwice(stdout);

        CtdbPaths paths;
        try
        {
            paths = CtdbPaths.FromEnvironment(env);
        }
        catch (CtdbSetupException e)
        {
            stderr.WriteLine($"Broken CTDB setup, {e.Message}");
            return ExitInvalid;
        }

        var command = rest[0];
        var commandArgs = rest.Skip(1).ToArray();
        return command switch
        {
            "validate" => commandArgs.Length != 0 ? CommandUsage(stdout, "  validate      Validate configuration file") : Validate(paths, debugLevel, stderr),
            "dump" => commandArgs.Length != 0 ? CommandUsage(stdout, "  dump      Dump configuration") : Dump(paths, debugLevel, stdout, stderr),
            "get" => commandArgs.Length != 2 ? CommandUsage(stdout, "  get <section> <key>     Get a config value") : Get(paths, debugLevel, commandArgs[0], commandArgs[1], stdout, stderr),
            _ => UnknownCommand(stdout),
        };
    }

    private static int UnknownCommand(TextWriter stdout) => PrintFullUsageTwice(stdout);

    /// <summary>The 4.17 tool prints its help twice (popt's and its own) when no valid command is given.</summary>
    private static int PrintFullUsageTwice(TextWriter stdout)
    {
        stdout.WriteLine(FullUsage);
        stdout.WriteLine(FullUsage);
        return ExitUsage;
    }

    private static int CommandUsage(TextWriter stdout, string line)
    {
        stdout.WriteLine(ShortUsageHead + " <command> [<args>]");
        stdout.WriteLine();
        stdout.WriteLine(line);
        return ExitInvalid;
    }

    /// <summary>
    /// Loads the file and prints diagnostics; null on failure. Only validate is strict (unknown sections/keys are
    /// errors); get and dump ignore them, as the reference tool does.
    /// </summary>
    private static ConfigLoadResult? Load(CtdbPaths paths, int debugLevel, TextWriter stderr, bool validate, out int exitCode)
    {
        exitCode = 0;
        var file = paths.ConfigFile;
        if (debugLevel >= 3)
            stderr.WriteLine($"Reading config file {file}");
        var result = CtdbConfigFile.Load(file, paths, strict: validate, defaultLogLevel: 0);
        foreach (var w in result.Warnings)
        {
            if (debugLevel >= 1)
                stderr.WriteLine(w.ToString());
        }
        foreach (var e in result.Errors)
            stderr.WriteLine(e.ToString());
        if (!result.Ok)
        {
            stderr.WriteLine($"Failed to load config file {file}");
            exitCode = ExitInvalid;
            return null;
        }
        if (validate && !result.FileExists)
        {
            stderr.WriteLine($"Failed to load config file {file}");
            exitCode = ExitNoEntry;
            return null;
        }
        return result;
    }

    private static int Validate(CtdbPaths paths, int debugLevel, TextWriter stderr)
    {
        _ = Load(paths, debugLevel, stderr, validate: true, out var rc);
        return rc;
    }

    private static int Get(CtdbPaths paths, int debugLevel, string section, string key, TextWriter stdout, TextWriter stderr)
    {
        var result = Load(paths, debugLevel, stderr, validate: false, out var rc);
        if (result is null)
            return rc;
        var value = result.GetDisplayValue(section, key);
        if (value is null)
        {
            stderr.WriteLine($"Configuration option [{section}] -> \"{key}\" not defined");
            return ExitNoEntry;
        }
        stdout.WriteLine(value);
        return 0;
    }

    private static int Dump(CtdbPaths paths, int debugLevel, TextWriter stdout, TextWriter stderr)
    {
        var result = Load(paths, debugLevel, stderr, validate: false, out var rc);
        if (result is null)
            return rc;
        string? section = null;
        foreach (var option in CtdbConfigFile.Options)
        {
            if (option.Section != section)
            {
                section = option.Section;
                stdout.WriteLine($"[{section}]");
            }
            var value = result.GetDisplayValue(option.Section, option.Key) ?? "";
            // Values equal to the default are printed commented out, as the reference tool does.
            var isDefault = value == (option.DefaultText ?? "");
            stdout.WriteLine(isDefault ? $"\t# {option.Key} = {value}" : $"\t{option.Key} = {value}");
        }
        return 0;
    }
}
