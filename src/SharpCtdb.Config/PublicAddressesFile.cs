using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace SharpCtdb.Config;

/// <summary>One public address line: ADDR/MASKBITS IFACE[,IFACE...]. Interfaces in file order.</summary>
public sealed record PublicAddressEntry(IPAddress Address, int MaskBits, IReadOnlyList<string> Interfaces);

public sealed record PublicAddressesResult(IReadOnlyList<PublicAddressEntry> Entries, IReadOnlyList<ConfigDiagnostic> Errors, bool FileExists)
{
    public bool Ok => Errors.Count == 0;

    /// <summary>Same as Entries.</summary>
    public IReadOnlyList<PublicAddressEntry> Addresses => Entries;
}

/// <summary>Reads $CTDB_BASE/public_addresses (behaviour.md §1.7, §6.1).</summary>
public static class PublicAddressesFile
{
    /// <summary>Longest interface name the kernel accepts (IFNAMSIZ 16 including the NUL).</summary>
    public const int MaxInterfaceNameLength = 15;

    /// <summary>
    /// Loads the file. A missing file is not an error (FileExists = false, no addresses).
    /// With <paramref name="checkInterfacesExist"/> each interface must exist on this host (ctdbd skips this in test mode).
    /// </summary>
    public static PublicAddressesResult Load(string path, bool checkInterfacesExist = false)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new PublicAddressesResult([], [], FileExists: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new PublicAddressesResult([], [new ConfigDiagnostic(path, 0, $"Failed to read public addresses file: {e.Message}")], true);
        }
        return Parse(text, path, checkInterfacesExist);
    }

    public static PublicAddressesResult Parse(string text, string fileName, bool checkInterfacesExist = false)
    {
        var entries = new List<PublicAddressEntry>();
        var errors = new List<ConfigDiagnostic>();
        HashSet<string>? hostInterfaces = checkInterfacesExist ? HostInterfaceNames() : null;
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNo = i + 1;
            var line = lines[i].TrimStart(' ', '\t');
            if (line.Length == 0 || line[0] == '#')
                continue;
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
                continue;
            if (!TryParseAddressAndMask(fields[0], out var address, out var mask))
            {
                errors.Add(new ConfigDiagnostic(fileName, lineNo, $"Badly formed line {lineNo} in public address list"));
                continue;
            }
            if (fields.Length < 2)
            {
                errors.Add(new ConfigDiagnostic(fileName, lineNo, $"No interface specified at line {lineNo} of public address list"));
                continue;
            }
            var ifaces = fields[1].Split(',', StringSplitOptions.RemoveEmptyEntries);
            if (ifaces.Length == 0)
            {
                errors.Add(new ConfigDiagnostic(fileName, lineNo, $"No interface specified at line {lineNo} of public address list"));
                continue;
            }
            var bad = false;
            foreach (var iface in ifaces)
            {
                if (iface.Length > MaxInterfaceNameLength)
                {
                    errors.Add(new ConfigDiagnostic(fileName, lineNo, $"Interface name '{iface}' is too long (max {MaxInterfaceNameLength} characters)"));
                    bad = true;
                }
                else if (hostInterfaces is not null && !hostInterfaces.Contains(iface))
                {
                    errors.Add(new ConfigDiagnostic(fileName, lineNo, $"Interface '{iface}' does not exist on this host"));
                    bad = true;
                }
            }
            if (bad)
                continue;
            if (entries.Any(e => e.Address.Equals(address)))
            {
                errors.Add(new ConfigDiagnostic(fileName, lineNo, $"Duplicate public IP address '{address}'"));
                continue;
            }
            entries.Add(new PublicAddressEntry(address, mask, ifaces));
        }
        return new PublicAddressesResult(entries, errors, FileExists: true);
    }

    /// <summary>ADDR/MASKBITS: the '/' is mandatory, maskbits an unsigned decimal (not range-checked, as in 4.17).</summary>
    private static bool TryParseAddressAndMask(string field, out IPAddress address, out int mask)
    {
        address = IPAddress.None;
        mask = 0;
        var slash = field.IndexOf('/');
        if (slash <= 0 || slash == field.Length - 1)
            return false;
        var maskText = field[(slash + 1)..];
        if (!maskText.All(char.IsAsciiDigit) || !int.TryParse(maskText, NumberStyles.None, CultureInfo.InvariantCulture, out mask))
            return false;
        return InetAddress.TryParseCanonical(field[..slash], out address);
    }

    private static HashSet<string> HostInterfaceNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var ni in NetworkInterface.GetAllNetworkInterfaces())
                names.Add(ni.Name);
        }
        catch (NetworkInformationException)
        {
        }
        catch (SocketException)
        {
        }
        return names;
    }
}
