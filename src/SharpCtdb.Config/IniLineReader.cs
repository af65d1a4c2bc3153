using System.Text;

namespace SharpCtdb.Config;

/// <summary>What one logical line of a ctdb.conf-style file contains.</summary>
public enum IniLineKind
{
    Section,
    KeyValue,
    /// <summary>A "[name" line without the closing bracket: CTDB stops reading the file there without complaint.</summary>
    MalformedSection,
    /// <summary>Text with no '=' outside a section header: ignored by CTDB.</summary>
    NoValue,
}

/// <summary>A logical line (continuations joined, blanks collapsed). Line is where it starts (1-based).</summary>
public readonly record struct IniLine(int Line, IniLineKind Kind, string Name, string Value);

/// <summary>
/// Splits ctdb.conf / ctdb.tunables text into logical lines with CTDB's rules (behaviour.md §1.4): leading blanks
/// skipped, '#'/';' comments, trailing '\' (optionally followed by one space) continues the line, and every run of
/// blanks collapses to its first character. "key = value" loses exactly one blank on each side of key and value.
/// </summary>
public static class IniLineReader
{
    public static IEnumerable<IniLine> Read(string text)
    {
        var physical = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var i = 0;
        while (i < physical.Length)
        {
            var start = i + 1;
            var sb = new StringBuilder();
            while (true)
            {
                var line = physical[i++];
                if (line.EndsWith("\\ ", StringComparison.Ordinal))
                    line = line[..^2];
                else if (line.EndsWith('\\'))
                    line = line[..^1];
                else
                {
                    sb.Append(line);
                    break;
                }
                sb.Append(line);
                if (i >= physical.Length)
                    break;
            }
            var logical = Collapse(sb.ToString().TrimStart(' ', '\t'));
            if (logical.Length == 0 || logical[0] is '#' or ';')
                continue;
            if (logical[0] == '[')
            {
                var close = logical.IndexOf(']');
                if (close < 0)
                {
                    yield return new IniLine(start, IniLineKind.MalformedSection, logical, "");
                    continue;
                }
                yield return new IniLine(start, IniLineKind.Section, logical[1..close], "");
                continue;
            }
            var eq = logical.IndexOf('=');
            if (eq < 0)
            {
                yield return new IniLine(start, IniLineKind.NoValue, logical.TrimEnd(), "");
                continue;
            }
            yield return new IniLine(start, IniLineKind.KeyValue, TrimOneBlank(logical[..eq]), TrimOneBlank(logical[(eq + 1)..]));
        }
    }

    private static string Collapse(string s)
    {
        var sb = new StringBuilder(s.Length);
        var previousBlank = false;
        foreach (var c in s)
        {
            var blank = c is ' ' or '\t';
            if (blank && previousBlank)
                continue;
            sb.Append(c);
            previousBlank = blank;
        }
        return sb.ToString();
    }

    private static string TrimOneBlank(string s)
    {
        if (s.Length > 0 && s[0] is ' ' or '\t')
            s = s[1..];
        if (s.Length > 0 && s[^1] is ' ' or '\t')
            s = s[..^1];
        return s;
    }
}
