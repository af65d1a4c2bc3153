using System.Buffers.Binary;
using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>A backup file is truncated, has the wrong version or carries inconsistent lengths.</summary>
public sealed class DbBackupFormatException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// The file `ctdb backupdb` writes and `restoredb` / `dumpdbbackup` read (4.17, x86_64 layout, observed on Debian's tool):
/// a 104-byte header {u64 version = 3, i64 timestamp (time_t), u64 db flags, u64 buffer count, u64 record count,
/// char name[64]} followed by the buffers, each {u32 db_id, u32 record count, u64 byte length, rec_data...}.
/// Records carry their 24-byte ltdb header in the data. 4.17 leaves the buffer's db_id uninitialised, so readers ignore it.
/// </summary>
public sealed record DbBackupFile(string Name, DbFlags Flags, long Timestamp, IReadOnlyList<RecBuffer> Buffers)
{
    public const ulong Version = 3;
    public const int HeaderSize = 40 + NameSize;
    public const int NameSize = 64;
    private const int BufferHeaderSize = 16;

    public int RecordCount => Buffers.Sum(b => b.Records.Count);

    /// <summary>Writes the file image (the tool then writes it with mode 0600).</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        Span<byte> header = stackalloc byte[HeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(header, Version);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], Timestamp);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], (ulong)Buffers.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(header[32..], (ulong)RecordCount);
        // The name field keeps a terminating NUL, so at most 63 name bytes fit.
        var name = Encoding.UTF8.GetBytes(Name);
        name.AsSpan(0, Math.Min(name.Length, NameSize - 1)).CopyTo(header[40..]);
        ms.Write(header);
        Span<byte> bufHeader = stackalloc byte[BufferHeaderSize];
        foreach (var buffer in Buffers)
        {
            var w = new WireWriter();
            foreach (var rec in buffer.Records)
                rec.Write(w);
            var body = w.ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(bufHeader, buffer.DbId);
            BinaryPrimitives.WriteUInt32LittleEndian(bufHeader[4..], (uint)buffer.Records.Count);
            BinaryPrimitives.WriteUInt64LittleEndian(bufHeader[8..], (ulong)body.Length);
            ms.Write(bufHeader);
            ms.Write(body);
        }
        return ms.ToArray();
    }

    /// <summary>Only the header (what `restoredb` prints before it reads the records).</summary>
    public static DbBackupFile ReadHeader(ReadOnlySpan<byte> file, out ulong bufferCount)
    {
        if (file.Length < HeaderSize)
            throw new DbBackupFormatException("Failed to read records", 2);
        var version = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (version != Version)
            throw new DbBackupFormatException($"Wrong version of backup file, expected {Version}, got {version}", 22);
        var timestamp = BinaryPrimitives.ReadInt64LittleEndian(file[8..]);
        var flags = (DbFlags)(uint)BinaryPrimitives.ReadUInt64LittleEndian(file[16..]);
        bufferCount = BinaryPrimitives.ReadUInt64LittleEndian(file[24..]);
        var nameField = file.Slice(40, NameSize);
        var nul = nameField.IndexOf((byte)0);
        var name = Encoding.UTF8.GetString(nul < 0 ? nameField : nameField[..nul]);
        return new DbBackupFile(name, flags, timestamp, []);
    }

    /// <summary>Parses a whole file; bounds-checked, a truncated or inconsistent file throws.</summary>
    public static DbBackupFile Parse(ReadOnlySpan<byte> file)
    {
        var head = ReadHeader(file, out var bufferCount);
        var buffers = new List<RecBuffer>();
        var rest = file[HeaderSize..];
        for (ulong i = 0; i < bufferCount; i++)
        {
            if (rest.Length < BufferHeaderSize)
                throw new DbBackupFormatException("Failed to read records", 2);
            var dbId = BinaryPrimitives.ReadUInt32LittleEndian(rest);
            var count = BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]);
            var length = BinaryPrimitives.ReadUInt64LittleEndian(rest[8..]);
            rest = rest[BufferHeaderSize..];
            if (length > (ulong)rest.Length)
                throw new DbBackupFormatException("Failed to read records", 2);
            var body = rest[..(int)length];
            rest = rest[(int)length..];
            var records = new List<RecData>();
            var r = new WireReader(body);
            try
            {
                for (uint n = 0; n < count; n++)
                    records.Add(RecData.Read(ref r));
            }
            catch (ProtocolException)
            {
                throw new DbBackupFormatException("Failed to read records", 2);
            }
            buffers.Add(new RecBuffer(dbId, records));
        }
        return head with { Buffers = buffers };
    }

    /// <summary>The "@ ..." time as 4.17 prints it (local time).</summary>
    public string TimestampText() =>
        DateTimeOffset.FromUnixTimeSeconds(Timestamp).ToLocalTime().ToString("yyyy/MM/dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
}
