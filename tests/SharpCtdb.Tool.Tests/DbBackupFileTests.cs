using System.Diagnostics;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool.Tests;

/// <summary>The backupdb file format against files written by Debian's 4.17 `ctdb backupdb`.</summary>
public sealed class DbBackupFileTests
{
    // `ctdb backupdb t.tdb` of a persistent db with k1=v1, key2=value-two (seqnum 2), written by Samba's tool.
    private const string PersistentBackup =
        "0300000000000000703c046b00000000010000000000000001000000000000000300000000000000742e7464620000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000e0445ab203000000" +
        "a800000000000000350000000000000004000000210000006b65793201000000000000000000000000000000000000000000000076616c75" +
        "652d74776f2c00000000000000020000001a0000006b31010000000000000000000000000000000000000000000000763147000000000000" +
        "0017000000200000005f5f64625f73657175656e63655f6e756d6265725f5f00020000000000000000000000000000000000000000000000" +
        "0200000000000000";

    // `ctdb backupdb v.tdb` of a volatile db with a=b (rsn 3).
    private const string VolatileBackup =
        "0300000000000000713c046b00000000000000000000000001000000000000000100000000000000762e7464620000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000e024cae001000000" +
        "2a000000000000002a0000000000000001000000190000006103000000000000000000000000000000000000000000000062";

    [Fact]
    public void ParsesSambasBackupFile()
    {
        var file = DbBackupFile.Parse(Convert.FromHexString(PersistentBackup));
        Assert.Equal("t.tdb", file.Name);
        Assert.Equal(DbFlags.Persistent, file.Flags);
        Assert.Equal(0x6b043c70, file.Timestamp);
        Assert.Equal(3, file.RecordCount);
        var recs = file.Buffers.Single().Records;
        Assert.Equal("key2"u8.ToArray(), recs[0].Key);
        Assert.True(recs[0].TrySplitHeader(out var h, out var v));
        Assert.Equal(1ul, h.Rsn);
        Assert.Equal("value-two"u8.ToArray(), v);
        Assert.Equal("__db_sequence_number__\0"u8.ToArray(), recs[2].Key);
    }

    [Theory]
    [InlineData(PersistentBackup)]
    [InlineData(VolatileBackup)]
    public void WritesTheSameBytesAsSamba(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        var file = DbBackupFile.Parse(bytes);
        var ours = file.ToBytes();
        // 4.17 leaves the buffer's db_id uninitialised (bytes 104..107): everything else must match.
        Assert.Equal(bytes.Length, ours.Length);
        Assert.Equal(bytes[..104], ours[..104]);
        Assert.Equal(bytes[108..], ours[108..]);
    }

    [Fact]
    public void RejectsWrongVersionAndTruncatedFiles()
    {
        var bytes = Convert.FromHexString(PersistentBackup);
        var wrong = (byte[])bytes.Clone();
        wrong[0] = 4;
        var e = Assert.Throws<DbBackupFormatException>(() => DbBackupFile.Parse(wrong));
        Assert.Equal("Wrong version of backup file, expected 3, got 4", e.Message);
        Assert.Equal(22, e.ExitCode);
        for (var len = 0; len < bytes.Length; len += 7)
            Assert.Throws<DbBackupFormatException>(() => DbBackupFile.Parse(bytes.AsSpan(0, len)));
    }

    [Fact]
    public async Task DumpDbBackupPrintsWhatDebiansToolPrints()
    {
        var dir = Directory.CreateTempSubdirectory("sc-dbb-");
        try
        {
            var path = Path.Combine(dir.FullName, "t.bak");
            await File.WriteAllBytesAsync(path, Convert.FromHexString(PersistentBackup), TestContext.Current.CancellationToken);
            var sw = new StringWriter();
            var rc = await ToolProgram.RunAsync(["dumpdbbackup", path], new Dictionary<string, string?>(), sw, sw);
            Assert.Equal(0, rc);
            var ours = sw.ToString();
            Assert.Contains("Dumping database t.tdb from backup @ ", ours, StringComparison.Ordinal);
            Assert.EndsWith("data(8) = \"\\02\\00\\00\\00\\00\\00\\00\\00\"\n\nDumped 3 record(s)\n", ours, StringComparison.Ordinal);
            if (!File.Exists("/usr/bin/ctdb"))
                return;
            var psi = new ProcessStartInfo("/usr/bin/ctdb", ["dumpdbbackup", path]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var real = await p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            await p.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, p.ExitCode);
            Assert.Equal(real, ours);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
