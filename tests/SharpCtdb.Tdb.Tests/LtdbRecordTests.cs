using SharpCtdb.Protocol;

namespace SharpCtdb.Tdb.Tests;

public class LtdbRecordTests
{
    [Fact]
    public void BuildLaysOutHeaderThenData()
    {
        var value = LtdbRecord.Build(new LtdbHeader(0x0102030405060708, 0x11223344, 0x00010000), "xy"u8);
        Assert.Equal(26, value.Length);
        Assert.Equal(
            Convert.FromHexString("0807060504030201" + "44332211" + "00000000" + "00000100" + "00000000" + "7879"),
            value);
    }

    [Fact]
    public void EmptyRecordIsExactlyTheHeader()
    {
        var value = LtdbRecord.Build(new LtdbHeader(1, 2), []);
        Assert.Equal(24, value.Length);
        Assert.True(LtdbRecord.IsEmpty(value));
        Assert.False(LtdbRecord.IsEmpty(LtdbRecord.Build(new LtdbHeader(1, 2), "a"u8)));
        Assert.True(LtdbRecord.Parse("k"u8, value).IsEmpty);
    }

    [Fact]
    public void ReadHeaderRoundTripsIncludingReserved()
    {
        var header = new LtdbHeader(99, 3, (uint)(RecordFlags.MigratedWithData | RecordFlags.RoHaveDelegations)) { Reserved1 = 7 };
        var value = LtdbRecord.Build(header, "data"u8);
        var back = LtdbRecord.ReadHeader(value);
        Assert.Equal(header, back);
        Assert.Equal("data"u8.ToArray(), LtdbRecord.Data(value).ToArray());
        var record = LtdbRecord.Parse("key"u8, value);
        Assert.Equal(RecordFlags.MigratedWithData | RecordFlags.RoHaveDelegations, record.Flags);
        Assert.Equal(value, record.ToValue());
    }

    [Fact]
    public void ShortValuesAreRejected()
    {
        Assert.Throws<ProtocolException>(() => LtdbRecord.ReadHeader(new byte[23]));
        Assert.Throws<ProtocolException>(() => LtdbRecord.Data(new byte[5]));
        Assert.False(LtdbRecord.TryReadHeader(new byte[23], out var h));
        Assert.Null(h);
        Assert.Throws<ArgumentException>(() => LtdbRecord.WriteHeader(new byte[10], new LtdbHeader(0, 0)));
    }

    [Fact]
    public void FlagValuesMatchCtdb()
    {
        Assert.Equal(0x00010000u, (uint)RecordFlags.MigratedWithData);
        Assert.Equal(0x00020000u, (uint)RecordFlags.VacuumMigrated);
        Assert.Equal(0x00040000u, (uint)RecordFlags.Automatic);
        Assert.Equal(0x01000000u, (uint)RecordFlags.RoHaveDelegations);
        Assert.Equal(0x02000000u, (uint)RecordFlags.RoHaveReadonly);
        Assert.Equal(0x04000000u, (uint)RecordFlags.RoRevokingReadonly);
        Assert.Equal(0x08000000u, (uint)RecordFlags.RoRevokeComplete);
        Assert.Equal(0x0F000000u, (uint)RecordFlags.RoFlags);
        Assert.Equal(0x00060000u, (uint)RecordFlags.Transient);
    }

    [Fact]
    public void SequenceNumberKeyAndValue()
    {
        Assert.Equal(23, LtdbRecord.SequenceNumberKey.Length);
        Assert.Equal("__db_sequence_number__\0"u8.ToArray(), LtdbRecord.SequenceNumberKey.ToArray());
        var value = LtdbRecord.BuildSequenceNumber(new LtdbHeader(3, 0), 3);
        // Bytes observed on a real 4.17 node after three commits.
        Assert.Equal(Convert.FromHexString("0300000000000000" + new string('0', 32) + "0300000000000000"), value);
        Assert.Equal(3ul, LtdbRecord.ReadSequenceNumber(value));
        Assert.Equal(0ul, LtdbRecord.ReadSequenceNumber(new byte[24]));
    }
}
