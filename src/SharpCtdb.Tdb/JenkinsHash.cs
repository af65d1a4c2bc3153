using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tdb;

/// <summary>
/// Bob Jenkins' lookup3 "hashlittle" (2006, public domain), the hash libtdb exposes as tdb_jenkins_hash and CTDB uses
/// for database ids and record placement. Implemented from the published algorithm: 12-byte blocks are added into three
/// 32-bit lanes and mixed; the last 0..12 bytes are added little-endian and the lanes go through the final avalanche.
/// </summary>
public static class JenkinsHash
{
    public static uint HashLittle(ReadOnlySpan<byte> data, uint initval = 0)
    {
        uint a, b, c;
        a = b = c = 0xdeadbeef + (uint)data.Length + initval;

        while (data.Length > 12)
        {
            a += BinaryPrimitives.ReadUInt32LittleEndian(data);
            b += BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            c += BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
            Mix(ref a, ref b, ref c);
            data = data[12..];
        }

        // An empty tail only happens for empty input: lookup3 returns the seeded lane without the final mix.
        if (data.IsEmpty)
            return c;

        Span<byte> tail = stackalloc byte[12];
        tail.Clear();
        data.CopyTo(tail);
        a += BinaryPrimitives.ReadUInt32LittleEndian(tail);
        b += BinaryPrimitives.ReadUInt32LittleEndian(tail[4..]);
        c += BinaryPrimitives.ReadUInt32LittleEndian(tail[8..]);
        Final(ref a, ref b, ref c);
        return c;
    }

    private static void Mix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= BitOperations.RotateLeft(c, 4); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 6); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 8); b += a;
        a -= c; a ^= BitOperations.RotateLeft(c, 16); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 19); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 4); b += a;
    }

    private static void Final(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= BitOperations.RotateLeft(b, 14);
        a ^= c; a -= BitOperations.RotateLeft(c, 11);
        b ^= a; b -= BitOperations.RotateLeft(a, 25);
        c ^= b; c -= BitOperations.RotateLeft(b, 16);
        a ^= c; a -= BitOperations.RotateLeft(c, 4);
        b ^= a; b -= BitOperations.RotateLeft(a, 14);
        c ^= b; c -= BitOperations.RotateLeft(b, 24);
    }
}

/// <summary>CTDB database ids and record placement.</summary>
public static class DatabaseId
{
    /// <summary>db_id = hashlittle over the UTF-8 name including its terminating NUL (protocol §4.4).</summary>
    public static uint FromName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var byteCount = Encoding.UTF8.GetByteCount(name) + 1;
        Span<byte> buffer = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(name, buffer);
        buffer[^1] = 0;
        return JenkinsHash.HashLittle(buffer);
    }

    /// <summary>The hash used for record placement: hashlittle over the raw key bytes (no NUL added).</summary>
    public static uint KeyHash(ReadOnlySpan<byte> key) => JenkinsHash.HashLittle(key);

    /// <summary>lmaster(key) = map[hash(key) % map size].</summary>
    public static uint Lmaster(ReadOnlySpan<byte> key, ReadOnlySpan<uint> vnnMap)
    {
        if (vnnMap.IsEmpty)
            throw new ArgumentException("vnnmap is empty: no lmaster", nameof(vnnMap));
        return vnnMap[(int)(KeyHash(key) % (uint)vnnMap.Length)];
    }

    /// <summary>lmaster(key) for a <see cref="VnnMap"/>.</summary>
    public static uint Lmaster(ReadOnlySpan<byte> key, VnnMap vnnMap) => Lmaster(key, vnnMap.Map);
}
