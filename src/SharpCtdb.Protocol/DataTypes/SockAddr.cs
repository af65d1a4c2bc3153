using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SharpCtdb.Protocol;

/// <summary>
/// ctdb_sock_addr: the 28-byte sockaddr_in/sockaddr_in6 union, copied as the kernel lays it out.
/// Family is host order; port and address are network order. IPv4-mapped IPv6 addresses are normalised to IPv4
/// (the real tools compare them as IPv4).
/// </summary>
public sealed record SockAddr(IPAddress Address, ushort Port = 0) : IWireType<SockAddr>
{
    public const int Size = 28;
    public const ushort AfInet = 2;
    public const ushort AfInet6 = 10;

    public IPAddress Address { get; init; } = Normalize(Address);

    /// <summary>sin6_flowinfo (IPv6 only); kept so that decoded addresses re-encode byte for byte.</summary>
    public uint FlowInfo { get; init; }

    /// <summary>True for an all-zero sockaddr (family 0): what the daemon sends for "no address".</summary>
    public bool IsUnspecified { get; init; }

    /// <summary>An AF_UNSPEC (all-zero) address.</summary>
    public static SockAddr Unspecified { get; } = new(IPAddress.Any) { IsUnspecified = true };

    public bool IsIPv6 => !IsUnspecified && Address.AddressFamily == AddressFamily.InterNetworkV6;

    private static IPAddress Normalize(IPAddress a) =>
        a.AddressFamily == AddressFamily.InterNetworkV6 && a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    public void Write(WireWriter w)
    {
        Span<byte> raw = stackalloc byte[Size];
        raw.Clear();
        if (!IsUnspecified)
        {
            BinaryPrimitives.WriteUInt16BigEndian(raw[2..], Port);
            if (Address.AddressFamily == AddressFamily.InterNetwork)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(raw, AfInet);
                Address.TryWriteBytes(raw.Slice(4, 4), out _);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(raw, AfInet6);
                BinaryPrimitives.WriteUInt32BigEndian(raw[4..], FlowInfo);
                Address.TryWriteBytes(raw.Slice(8, 16), out _);
                BinaryPrimitives.WriteUInt32LittleEndian(raw[24..], (uint)Address.ScopeId);
            }
        }
        w.Bytes(raw);
    }

    public static SockAddr Read(ref WireReader r)
    {
        var raw = r.Bytes(Size);
        var family = BinaryPrimitives.ReadUInt16LittleEndian(raw);
        var port = BinaryPrimitives.ReadUInt16BigEndian(raw[2..]);
        switch (family)
        {
            case AfInet:
                return new SockAddr(new IPAddress(raw.Slice(4, 4)), port);
            case AfInet6:
                var scope = BinaryPrimitives.ReadUInt32LittleEndian(raw[24..]);
                var ip6 = new IPAddress(raw.Slice(8, 16), scope);
                return new SockAddr(ip6, port) { FlowInfo = BinaryPrimitives.ReadUInt32BigEndian(raw[4..]) };
            case 0:
                return Unspecified;
            default:
                throw new ProtocolException($"sock_addr: unsupported address family {family}");
        }
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static SockAddr FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<SockAddr>(data);

    /// <summary>Same family and address bytes; port, flowinfo and scope are ignored (how ctdb compares IP lists).</summary>
    public bool SameAddress(SockAddr? other)
    {
        if (other is null)
            return false;
        if (IsUnspecified || other.IsUnspecified)
            return IsUnspecified == other.IsUnspecified;
        if (Address.AddressFamily != other.Address.AddressFamily)
            return false;
        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        Address.TryWriteBytes(a, out var na);
        other.Address.TryWriteBytes(b, out var nb);
        return a[..na].SequenceEqual(b[..nb]);
    }

    public static bool SameAddress(SockAddr? a, SockAddr? b) => a is not null && a.SameAddress(b);

    /// <summary>The address as the tool prints it (inet_ntop form, no port, no scope).</summary>
    public override string ToString() => IsUnspecified ? "" : FormatAddress(Address);

    /// <summary>"1.2.3.4:445" or "[fd00::1]:445".</summary>
    public string ToStringWithPort() =>
        IsIPv6 ? $"[{this}]:{Port}" : $"{this}:{Port}";

    /// <summary>inet_ntop-style text for an address: dotted quad, or RFC 5952-like IPv6 without a scope suffix.</summary>
    public static string FormatAddress(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
            return address.ToString();
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);
        Span<ushort> words = stackalloc ushort[8];
        for (var i = 0; i < 8; i++)
            words[i] = BinaryPrimitives.ReadUInt16BigEndian(b[(i * 2)..]);

        // Longest run (first on ties) of at least two zero words becomes "::".
        int bestStart = -1, bestLen = 0;
        for (var i = 0; i < 8;)
        {
            if (words[i] != 0)
            {
                i++;
                continue;
            }
            var start = i;
            while (i < 8 && words[i] == 0)
                i++;
            if (i - start > bestLen)
            {
                bestStart = start;
                bestLen = i - start;
            }
        }
        if (bestLen < 2)
            bestStart = -1;

        var sb = new StringBuilder(40);
        for (var i = 0; i < 8; i++)
        {
            if (bestStart >= 0 && i >= bestStart && i < bestStart + bestLen)
            {
                if (i == bestStart)
                    sb.Append(':');
                continue;
            }
            if (i != 0)
                sb.Append(':');
            // ::a.b.c.d (compatible) and ::ffff:a.b.c.d (mapped) keep the embedded IPv4 in dotted form.
            if (i == 6 && bestStart == 0 && (bestLen == 6 || (bestLen == 5 && words[5] == 0xffff)))
            {
                sb.Append(CultureInfo.InvariantCulture, $"{b[12]}.{b[13]}.{b[14]}.{b[15]}");
                break;
            }
            sb.Append(words[i].ToString("x", CultureInfo.InvariantCulture));
        }
        if (bestStart >= 0 && bestStart + bestLen == 8)
            sb.Append(':');
        return sb.ToString();
    }

    /// <summary>Parses "1.2.3.4", "1.2.3.4:445", "fd00::1", "[fd00::1]" or "[fd00::1]:445".</summary>
    public static bool TryParse(string? text, out SockAddr result)
    {
        result = Unspecified;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        text = text.Trim();
        ushort port = 0;
        string host = text;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0)
                return false;
            host = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length > 0 && (!rest.StartsWith(':') || !ushort.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out port)))
                return false;
        }
        else if (text.Count(c => c == ':') == 1)
        {
            var colon = text.IndexOf(':');
            host = text[..colon];
            if (!ushort.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port))
                return false;
        }
        if (!IPAddress.TryParse(host, out var ip))
            return false;
        // IPAddress.TryParse accepts shorthand such as "1" or "1.2"; inet_pton does not.
        if (ip.AddressFamily == AddressFamily.InterNetwork && host.Count(c => c == '.') != 3)
            return false;
        if (ip.AddressFamily != AddressFamily.InterNetwork && ip.AddressFamily != AddressFamily.InterNetworkV6)
            return false;
        result = new SockAddr(ip, port);
        return true;
    }

    public static SockAddr Parse(string text) =>
        TryParse(text, out var result) ? result : throw new FormatException($"not an IP address: '{text}'");
}
