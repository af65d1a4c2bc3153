using System.Globalization;

namespace SharpCtdb.Protocol;

/// <summary>CTDB's debug levels as carried by GET_DEBUG/SET_DEBUG and used in ctdb.conf.</summary>
public enum DebugLevel
{
    Error = 0,
    Warning = 1,
    Notice = 3,
    Info = 5,
    Debug = 10,
}

public static class DebugLevels
{
    public static readonly string[] Names = ["ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"];

    /// <summary>Accepts a level name (case-insensitive) or a number, as ctdb.conf and `ctdb setdebug` do.</summary>
    public static bool TryParse(string? text, out int level)
    {
        level = 0;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        var t = text.Trim();
        switch (t.ToUpperInvariant())
        {
            case "ERROR": level = 0; return true;
            case "WARNING": level = 1; return true;
            case "NOTICE": level = 3; return true;
            case "INFO": level = 5; return true;
            case "DEBUG": level = 10; return true;
        }
        return int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out level) && level >= 0;
    }

    /// <summary>Name printed for a numeric level (2 prints WARNING, 4 NOTICE, 6-9 INFO, as the 4.17 tool does).</summary>
    public static string NameOf(int level) => level switch
    {
        <= 0 => "ERROR",
        1 or 2 => "WARNING",
        3 or 4 => "NOTICE",
        >= 5 and <= 9 => "INFO",
        _ => "DEBUG",
    };
}
