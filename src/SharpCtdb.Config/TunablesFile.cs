using SharpCtdb.Config.Logging;

namespace SharpCtdb.Config;

/// <summary>Applies ctdb.tunables (behaviour.md §1.8). Problems are logged as errors and never stop the daemon.</summary>
public static class TunablesFile
{
    /// <summary>
    /// Message texts are those of 4.17's ctdbd (e.g. `Unknown tunable "Bogus"`), prefixed with FILE:LINE.
    /// Reads NAME=VALUE lines from <paramref name="path"/> into <paramref name="set"/>. Valid and obsolete entries are
    /// applied; every problem is logged at ERROR and returned. A missing file is fine.
    /// </summary>
    public static IReadOnlyList<ConfigDiagnostic> Apply(TunableSet set, string path, CtdbLog log)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var d = new ConfigDiagnostic(path, 0, $"Failed to read tunables file: {e.Message}");
            log.Error(d.ToString());
            return [d];
        }
        return ApplyText(set, text, path, log);
    }

    public static IReadOnlyList<ConfigDiagnostic> ApplyText(TunableSet set, string text, string fileName, CtdbLog log)
    {
        var problems = new List<ConfigDiagnostic>();
        void Problem(int line, string message)
        {
            var d = new ConfigDiagnostic(fileName, line, message);
            problems.Add(d);
            log.Error(d.ToString());
        }

        foreach (var line in IniLineReader.Read(text))
        {
            switch (line.Kind)
            {
                case IniLineKind.Section:
                case IniLineKind.MalformedSection:
                    Problem(line.Line, $"Invalid line for section [{line.Name.TrimStart('[')}] - sections not supported");
                    continue;
                case IniLineKind.NoValue:
                    Problem(line.Line, $"Invalid line containing \"{line.Name}\"");
                    continue;
            }
            if (line.Value.Length == 0)
            {
                Problem(line.Line, $"Invalid line containing \"{line.Name}\"");
                continue;
            }
            if (!CNumber.TryParseWholeUInt32(line.Value, out var value))
            {
                Problem(line.Line, $"Invalid value \"{line.Value}\" for tunable \"{line.Name}\"");
                continue;
            }
            switch (set.Set(line.Name, value))
            {
                case -1:
                    Problem(line.Line, $"Unknown tunable \"{line.Name}\"");
                    break;
                case 1:
                    Problem(line.Line, $"Obsolete tunable \"{line.Name}\"");
                    break;
            }
        }
        return problems;
    }
}
