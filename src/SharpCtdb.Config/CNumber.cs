namespace SharpCtdb.Config;

/// <summary>C-style number parsing (strtol/strtoul with base 0) as used by CTDB's config and tunables readers.</summary>
public static class CNumber
{
    /// <summary>
    /// strtol(s, &amp;end, 0) semantics: leading blanks, optional sign, 0x hex / leading-0 octal / decimal, parsing stops
    /// at the first non-digit (trailing garbage tolerated; no digits at all yields 0). Returns false on overflow of long.
    /// </summary>
    public static bool TryStrtol(string s, out long value, out int consumed)
    {
        value = 0;
        var i = 0;
        while (i < s.Length && s[i] is ' ' or '\t' or '\n' or '\r' or '\f' or '\v')
            i++;
        var negative = false;
        if (i < s.Length && s[i] is '+' or '-')
        {
            negative = s[i] == '-';
            i++;
        }
        var radix = 10;
        if (i + 1 < s.Length && s[i] == '0' && s[i + 1] is 'x' or 'X' && i + 2 < s.Length && char.IsAsciiHexDigit(s[i + 2]))
        {
            radix = 16;
            i += 2;
        }
        else if (i < s.Length && s[i] == '0')
            radix = 8;
        var digitsStart = i;
        ulong acc = 0;
        var overflow = false;
        for (; i < s.Length; i++)
        {
            var d = DigitValue(s[i]);
            if (d < 0 || d >= radix)
                break;
            acc = (acc * (ulong)radix) + (ulong)d;
            if (acc > (ulong)long.MaxValue + 1)
                overflow = true;
        }
        consumed = i == digitsStart && radix != 16 ? 0 : i;
        if (overflow || (!negative && acc > long.MaxValue))
            return false;
        value = negative ? -(long)acc : (long)acc;
        return true;
    }

    /// <summary>strtoul base 0 where the whole string must be consumed and the value must fit in 32 bits (ctdb.tunables).</summary>
    public static bool TryParseWholeUInt32(string s, out uint value)
    {
        value = 0;
        if (s.Length == 0 || s[0] is '-' or '+' || char.IsWhiteSpace(s[0]))
            return false;
        if (!TryStrtol(s, out var v, out var consumed) || consumed != s.Length || consumed == 0 || v < 0 || v > uint.MaxValue)
            return false;
        value = (uint)v;
        return true;
    }

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
