using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tdb;

/// <summary>ltdb_header.flags bits (behaviour §12.3), typed; the bit values are the protocol's <see cref="LtdbHeader"/> constants.</summary>
[Flags]
public enum RecordFlags : uint
{
    None = 0,
    MigratedWithData = LtdbHeader.FlagMigratedWithData,
    /// <summary>Transient marker; never stored.</summary>
    VacuumMigrated = LtdbHeader.FlagVacuumMigrated,
    /// <summary>Transient marker; never stored.</summary>
    Automatic = LtdbHeader.FlagAutomatic,
    RoHaveDelegations = LtdbHeader.FlagRoHaveDelegations,
    RoHaveReadonly = LtdbHeader.FlagRoHaveReadonly,
    RoRevokingReadonly = LtdbHeader.FlagRoRevokingReadonly,
    RoRevokeComplete = LtdbHeader.FlagRoRevokeComplete,

    /// <summary>All read-only delegation bits.</summary>
    RoFlags = RoHaveDelegations | RoHaveReadonly | RoRevokingReadonly | RoRevokeComplete,
    /// <summary>Bits the daemon strips before every store.</summary>
    Transient = VacuumMigrated | Automatic,
}

/// <summary>One record as CTDB stores it: key, 24-byte ltdb header and user data.</summary>
public sealed record LocalRecord(byte[] Key, LtdbHeader Header, byte[] Data)
{
    /// <summary>Header only (a deleted record in CTDB terms).</summary>
    public bool IsEmpty => Data.Length == 0;

    public RecordFlags Flags => (RecordFlags)Header.Flags;

    /// <summary>The stored tdb value: header followed by data.</summary>
    public byte[] ToValue() => LtdbRecord.Build(Header, Data);
}

/// <summary>Encoding of tdb values in CTDB databases: a 24-byte ltdb header in front of the user data.</summary>
public static class LtdbRecord
{
    public const int HeaderSize = LtdbHeader.Size;

    /// <summary>The persistent/replicated db sequence number key: "__db_sequence_number__" plus its NUL (23 bytes).</summary>
    public static ReadOnlySpan<byte> SequenceNumberKey => "__db_sequence_number__\0"u8;

    /// <summary>Reads the header at the start of a stored value; throws <see cref="ProtocolException"/> if shorter than 24 bytes.</summary>
    public static LtdbHeader ReadHeader(ReadOnlySpan<byte> value)
    {
        if (!TryReadHeader(value, out var header))
            throw new ProtocolException($"ltdb record of {value.Length} bytes is shorter than the {HeaderSize}-byte header");
        return header;
    }

    /// <summary>False for values shorter than the header (which CTDB treats as a missing record).</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> value, [NotNullWhen(true)] out LtdbHeader? header)
    {
        if (value.Length < HeaderSize)
        {
            header = null;
            return false;
        }
        header = new LtdbHeader(
            BinaryPrimitives.ReadUInt64LittleEndian(value),
            BinaryPrimitives.ReadUInt32LittleEndian(value[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(value[16..]))
        {
            Reserved1 = BinaryPrimitives.ReadUInt32LittleEndian(value[12..]),
        };
        return true;
    }

    /// <summary>The user data after the header; throws if the value is shorter than the header.</summary>
    public static ReadOnlySpan<byte> Data(ReadOnlySpan<byte> value) =>
        value.Length >= HeaderSize ? value[HeaderSize..] : throw new ProtocolException($"ltdb record of {value.Length} bytes has no header");

    /// <summary>Writes the 24 header bytes (padding zeroed) into <paramref name="destination"/>.</summary>
    public static void WriteHeader(Span<byte> destination, LtdbHeader header)
    {
        if (destination.Length < HeaderSize)
            throw new ArgumentException($"need {HeaderSize} bytes for an ltdb header", nameof(destination));
        BinaryPrimitives.WriteUInt64LittleEndian(destination, header.Rsn);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], header.Dmaster);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], header.Reserved1);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], header.Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], 0);
    }

    /// <summary>header + data as one tdb value (exactly 24 bytes for empty data).</summary>
    public static byte[] Build(LtdbHeader header, ReadOnlySpan<byte> data)
    {
        var value = new byte[HeaderSize + data.Length];
        WriteHeader(value, header);
        data.CopyTo(value.AsSpan(HeaderSize));
        return value;
    }

    /// <summary>An empty ("deleted") record: exactly the header.</summary>
    public static bool IsEmpty(ReadOnlySpan<byte> value) => value.Length == HeaderSize;

    /// <summary>Parses a stored value into header and data (copied).</summary>
    public static LocalRecord Parse(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) =>
        new(key.ToArray(), ReadHeader(value), value[HeaderSize..].ToArray());

    /// <summary>The u64 in a stored __db_sequence_number__ value (header + u64); 0 when the value carries no number.</summary>
    public static ulong ReadSequenceNumber(ReadOnlySpan<byte> value) =>
        value.Length >= HeaderSize + sizeof(ulong) ? BinaryPrimitives.ReadUInt64LittleEndian(value[HeaderSize..]) : 0;

    /// <summary>Builds a __db_sequence_number__ value.</summary>
    public static byte[] BuildSequenceNumber(LtdbHeader header, ulong sequenceNumber)
    {
        Span<byte> number = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(number, sequenceNumber);
        return Build(header, number);
    }
}
