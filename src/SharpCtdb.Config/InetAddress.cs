using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SharpCtdb.Config;

/// <summary>
/// Strict textual IP parsing with inet_pton's rules. IPAddress.TryParse is too lenient for configuration
/// ("1.2.3" or "[::1]" would be accepted), so IPv4 must be a full dotted quad and IPv6 must be bare.
/// </summary>
public static class InetAddress
{
    public static bool TryParse(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrEmpty(text))
            return false;
        if (text.Contains(':'))
        {
            // IPv6: reject brackets, zone ids and anything but hex digits, ':' and an embedded dotted quad.
            foreach (var c in text)
            {
                if (!(char.IsAsciiHexDigit(c) || c == ':' || c == '.'))
                    return false;
            }
            if (!IPAddress.TryParse(text, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
                return false;
            var dot = text.IndexOf('.');
            if (dot >= 0)
            {
                var tail = text[(text.LastIndexOf(':') + 1)..];
                if (!TryParseIPv4(tail, out _))
                    return false;
            }
            address = v6;
            return true;
        }
        return TryParseIPv4(text, out address);
    }

    /// <summary>Parses like TryParse, then turns an IPv4-mapped IPv6 address into plain IPv4 (as CTDB does for nodes).</summary>
    public static bool TryParseCanonical(string? text, out IPAddress address)
    {
        if (!TryParse(text, out address))
            return false;
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        return true;
    }

    private static bool TryParseIPv4(string text, out IPAddress address)
    {
        address = IPAddress.None;
        var parts = text.Split('.');
        if (parts.Length != 4)
            return false;
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < 4; i++)
        {
            var p = parts[i];
            if (p.Length is 0 or > 3 || (p.Length > 1 && p[0] == '0'))
                return false;
            foreach (var c in p)
            {
                if (!char.IsAsciiDigit(c))
                    return false;
            }
            var v = int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture);
            if (v > 255)
                return false;
            bytes[i] = (byte)v;
        }
        address = new IPAddress(bytes);
        return true;
    }
}
