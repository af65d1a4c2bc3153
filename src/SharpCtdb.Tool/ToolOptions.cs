using System.Globalization;

namespace SharpCtdb.Tool;

/// <summary>Global options, parsed the way 4.17's popt table does (options may appear anywhere on the line).</summary>
public sealed class ToolOptions
{
    public string DebugLevel { get; set; } = "ERROR";
    public int TimeLimit { get; set; } = 10;
    public int? Node { get; set; }
    public bool MachineReadable { get; set; }
    public string Separator { get; set; } = "|";
    public bool Verbose { get; set; }
    public int MaxRuntime { get; set; } = 120;
    public bool Json { get; set; }
    public bool Help { get; set; }
    public bool Usage { get; set; }
    public List<string> Arguments { get; } = [];

    /// <summary>Parses <paramref name="args"/>; returns an error text like popt's ("Invalid option -Z: unknown option").</summary>
    public static ToolOptions Parse(string[] args, IReadOnlyDictionary<string, string?> env, out string? error)
    {
        var o = new ToolOptions();
        error = null;
        if (env.TryGetValue("CTDB_TIMEOUT", out var t) && int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var tv))
            o.MaxRuntime = tv;
        var onlyArgs = false;
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (onlyArgs || a.Length < 2 || a[0] != '-')
            {
                o.Arguments.Add(a);
                continue;
            }
            if (a == "--")
            {
                onlyArgs = true;
                continue;
            }
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = a.IndexOf('=', StringComparison.Ordinal);
                var name = eq < 0 ? a[2..] : a[2..eq];
                string? inline = eq < 0 ? null : a[(eq + 1)..];
                var key = name switch
                {
                    "debug" => 'd',
                    "timelimit" => 't',
                    "node" => 'n',
                    "separator" => 'x',
                    "verbose" => 'v',
                    "maxruntime" => 'T',
                    "help" => '?',
                    "usage" => 'U',
                    "json" => 'J',
                    _ => '\0',
                };
                if (key == '\0')
                {
                    error = $"Invalid option {a}: unknown option";
                    return o;
                }
                if (!o.Apply(key, inline, args, ref i, a, out error))
                    return o;
                continue;
            }
            // Short options may be bundled (-Xv) and may carry their value attached (-n1, -dNOTICE).
            for (var j = 1; j < a.Length; j++)
            {
                var key = a[j];
                if (key is 'd' or 't' or 'n' or 'x' or 'T')
                {
                    var inline = j + 1 < a.Length ? a[(j + 1)..] : null;
                    if (!o.Apply(key, inline, args, ref i, "-" + key, out error))
                        return o;
                    break;
                }
                if (key is not ('Y' or 'X' or 'v' or '?'))
                {
                    error = $"Invalid option -{key}: unknown option";
                    return o;
                }
                o.Apply(key, null, args, ref i, "-" + key, out _);
            }
        }
        return o;
    }

    private bool Apply(char key, string? inline, string[] args, ref int i, string shown, out string? error)
    {
        error = null;
        string? Value(ref int idx)
        {
            if (inline is not null)
                return inline;
            if (idx + 1 < args.Length)
                return args[++idx];
            return null;
        }
        switch (key)
        {
            case 'Y':
            case 'X':
                MachineReadable = true;
                return true;
            case 'v':
                Verbose = true;
                return true;
            case '?':
                Help = true;
                return true;
            case 'U':
                Usage = true;
                return true;
            case 'J':
                Json = true;
                return true;
        }
        var v = Value(ref i);
        if (v is null)
        {
            error = $"Invalid option {shown}: missing argument";
            return false;
        }
        switch (key)
        {
            case 'd':
                DebugLevel = v;
                return true;
            case 'x':
                Separator = v;
                return true;
        }
        if (!int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            error = $"Invalid option {v}: invalid numeric value";
            return false;
        }
        switch (key)
        {
            case 't':
                TimeLimit = n;
                break;
            case 'n':
                Node = n;
                break;
            case 'T':
                MaxRuntime = n;
                break;
        }
        return true;
    }
}
