using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace SharpCtdb.Failover;

/// <summary>
/// CTDB's 128-bit sort/distance key for an address: IPv4 → {0,0,0,addr as host-order integer},
/// IPv6 → its four big-endian 32-bit words. IPv4 and "::a.b.c.d" deliberately share a key, as in CTDB.
/// </summary>
public readonly record struct IpKey(uint W0, uint W1, uint W2, uint W3) : IComparable<IpKey>
{
    public static IpKey Of(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            if (!address.TryWriteBytes(bytes, out _))
                throw new ArgumentException("bad IPv4 address", nameof(address));
            return new IpKey(0, 0, 0, BinaryPrimitives.ReadUInt32BigEndian(bytes));
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (!address.TryWriteBytes(bytes, out _))
                throw new ArgumentException("bad IPv6 address", nameof(address));
            return new IpKey(
                BinaryPrimitives.ReadUInt32BigEndian(bytes),
                BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]),
                BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]),
                BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]));
        }
        throw new ArgumentException($"unsupported address family {address.AddressFamily}", nameof(address));
    }

    public int CompareTo(IpKey other)
    {
        var c = W0.CompareTo(other.W0);
        if (c != 0)
            return c;
        c = W1.CompareTo(other.W1);
        if (c != 0)
            return c;
        c = W2.CompareTo(other.W2);
        return c != 0 ? c : W3.CompareTo(other.W3);
    }

    /// <summary>
    /// LCP2 "distance": per word 32 when equal, else the number of leading equal bits. All four words count
    /// (it does not stop at the first differing word), so two IPv4 addresses are always at least 96 apart.
    /// </summary>
    public static uint Distance(IpKey a, IpKey b) =>
        WordDistance(a.W0 ^ b.W0) + WordDistance(a.W1 ^ b.W1) + WordDistance(a.W2 ^ b.W2) + WordDistance(a.W3 ^ b.W3);

    /// <summary>Distance squared, the unit every LCP2 cost is made of.</summary>
    public static uint Distance2(IpKey a, IpKey b)
    {
        var d = Distance(a, b);
        return d * d;
    }

    // LeadingZeroCount(0) is 32, which is exactly the "equal word" value.
    private static uint WordDistance(uint x) => (uint)BitOperations.LeadingZeroCount(x);
}
