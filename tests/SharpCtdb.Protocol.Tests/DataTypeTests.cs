using System.Buffers.Binary;
using System.Net;

namespace SharpCtdb.Protocol.Tests;

public class DataTypeTests
{
    public static TheoryData<string> SampleNames() => new(DataTypeSamples.All.Select(s => s.Name));

    private static WireSample Sample(string name) => DataTypeSamples.All.Single(s => s.Name == name);

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void EncodesToTheSpecSizeAndRoundTrips(string name)
    {
        var s = Sample(name);
        Assert.Equal(s.ExpectedSize, s.Encoded.Length);
        Assert.Equal(s.Encoded, s.Reencode(s.Encoded));
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void RejectsTruncatedInput(string name)
    {
        var s = Sample(name);
        for (var n = 0; n < s.Encoded.Length; n++)
        {
            var prefix = s.Encoded[..n];
            if (s.PrefixMayBeValid)
            {
                // Only prefixes that form a whole shorter value may decode; they must then re-encode to themselves.
                try
                {
                    Assert.Equal(prefix, s.Reencode(prefix));
                }
                catch (ProtocolException)
                {
                }
                continue;
            }
            Assert.Throws<ProtocolException>(() => s.Decode(prefix));
        }
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void RejectsTrailingBytes(string name)
    {
        var s = Sample(name);
        Assert.Throws<ProtocolException>(() => s.Decode([.. s.Encoded, 0]));
    }

    [Fact]
    public void SampleCoverEveryWireType()
    {
        var types = typeof(IWireType<>).Assembly.GetTypes()
            .Where(t => t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IWireType<>)))
            .Select(t => t.Name).ToHashSet();
        var sampled = DataTypeSamples.All.Select(s => s.Decode(s.Encoded).GetType().Name).ToHashSet();
        Assert.Empty(types.Except(sampled));
        Assert.True(types.Count >= 45, $"only {types.Count} wire types");
    }

    [Fact]
    public void SockAddrLayoutIsTheKernelSockaddr()
    {
        var v4 = new SockAddr(IPAddress.Parse("1.2.3.4"), 445).ToBytes();
        Assert.Equal("0200" + "01BD" + "01020304" + new string('0', 40), Convert.ToHexString(v4));
        var v6 = new SockAddr(IPAddress.Parse("fd00::1%5"), 4379) { FlowInfo = 0x01020304 }.ToBytes();
        Assert.Equal("0A00" + "111B" + "01020304" + "FD000000000000000000000000000001" + "05000000", Convert.ToHexString(v6));
    }

    [Theory]
    [InlineData("1.2.3.4", "1.2.3.4")]
    [InlineData("fd00::5357:5f02", "fd00::5357:5f02")]
    [InlineData("::", "::")]
    [InlineData("::1", "::1")]
    [InlineData("fe80::1%3", "fe80::1")]
    [InlineData("1:0:0:2:0:0:0:3", "1:0:0:2::3")]
    [InlineData("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0")]
    [InlineData("1:0:0:2:3:0:0:4", "1::2:3:0:0:4")]
    [InlineData("2001:db8::", "2001:db8::")]
    [InlineData("::ffff:1.2.3.4", "1.2.3.4")]
    [InlineData("::1.2.3.4", "::1.2.3.4")]
    [InlineData("FD00:0:0:0:0:0:0:ABCD", "fd00::abcd")]
    public void SockAddrPrintsLikeInetNtop(string input, string expected) =>
        Assert.Equal(expected, new SockAddr(IPAddress.Parse(input)).ToString());

    [Fact]
    public void SockAddrWithPortAndParsing()
    {
        Assert.Equal("1.2.3.4:445", SockAddr.Parse("1.2.3.4:445").ToStringWithPort());
        Assert.Equal("[fd00::1]:445", SockAddr.Parse("[fd00::1]:445").ToStringWithPort());
        Assert.Equal(445, SockAddr.Parse("[fd00::1]:445").Port);
        Assert.Equal(0, SockAddr.Parse("fd00::1").Port);
        Assert.True(SockAddr.Parse("fd00::1").IsIPv6);
        Assert.Equal("1.2.3.4", SockAddr.Parse("::ffff:1.2.3.4").ToString());
        Assert.False(SockAddr.Parse("::ffff:1.2.3.4").IsIPv6);
        foreach (var bad in new[] { "", "1.2.3", "1", "1.2.3.4:", "1.2.3.4:99999", "[fd00::1", "[fd00::1]x", "host", "1.2.3.4:x" })
        {
            Assert.False(SockAddr.TryParse(bad, out _), bad);
            Assert.Throws<FormatException>(() => SockAddr.Parse(bad));
        }
    }

    [Fact]
    public void SockAddrSameAddressIgnoresPortFlowAndScope()
    {
        Assert.True(SockAddr.Parse("1.2.3.4:1").SameAddress(SockAddr.Parse("1.2.3.4:2")));
        Assert.False(SockAddr.Parse("1.2.3.4").SameAddress(SockAddr.Parse("1.2.3.5")));
        Assert.True(new SockAddr(IPAddress.Parse("fe80::1%2")).SameAddress(new SockAddr(IPAddress.Parse("fe80::1")) { FlowInfo = 3 }));
        Assert.True(SockAddr.Parse("::ffff:10.0.0.1").SameAddress(SockAddr.Parse("10.0.0.1")));
        Assert.False(SockAddr.Parse("::1").SameAddress(SockAddr.Parse("0.0.0.1")));
        Assert.False(SockAddr.SameAddress(null, SockAddr.Parse("::1")));
        Assert.False(SockAddr.Unspecified.SameAddress(SockAddr.Parse("0.0.0.0")));
        Assert.True(SockAddr.Unspecified.SameAddress(SockAddr.FromBytes(new byte[28])));
    }

    [Fact]
    public void SockAddrRejectsUnknownFamily()
    {
        var raw = new byte[28];
        raw[0] = 1; // AF_UNIX
        Assert.Throws<ProtocolException>(() => SockAddr.FromBytes(raw));
    }

    [Fact]
    public void IfaceNameIsForcedToSeventeenBytes()
    {
        var raw = new byte[24];
        "abcdefghijklmnopqr"u8.CopyTo(raw); // 18 bytes, no NUL
        BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(18), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(20), 4);
        var i = Iface.FromBytes(raw);
        Assert.Equal("abcdefghijklmnopq", i.Name);
        Assert.Equal((ushort)1, i.LinkState);
        Assert.Equal(4u, i.References);
        Assert.Throws<ProtocolException>(() => new Iface("abcdefghijklmnopqr", 1, 0).ToBytes());
        Assert.Equal(24, new Iface("abcdefghijklmnopq", 1, 0).ToBytes().Length);
    }

    [Fact]
    public void CountsThatCannotFitAreRejectedBeforeAllocating()
    {
        foreach (var decode in new Func<byte[], object>[]
        {
            d => NodeMap.FromBytes(d), d => DbIdMap.FromBytes(d), d => PublicIpList.FromBytes(d), d => IfaceList.FromBytes(d),
            d => RecBuffer.FromBytes(d),
        })
        {
            var huge = new byte[8 + 40];
            BinaryPrimitives.WriteUInt32LittleEndian(huge, 0xFFFFFFFF);
            BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(4), 0xFFFFFFFF);
            Assert.Throws<ProtocolException>(() => decode(huge));
        }
        var vnn = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(vnn.AsSpan(4), 2);
        Assert.Throws<ProtocolException>(() => VnnMap.FromBytes(vnn));
        var stats = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(stats, -1);
        Assert.Throws<ProtocolException>(() => StatisticsList.FromBytes(stats));
    }

    [Fact]
    public void BoolFieldsRejectValuesOtherThanZeroOrOne()
    {
        var v = new DbVacuum(1, true).ToBytes();
        v[4] = 2;
        Assert.Throws<ProtocolException>(() => DbVacuum.FromBytes(v));
    }

    [Fact]
    public void RecDataSplitsTheLtdbHeader()
    {
        var r = RecData.WithHeader(3, "k"u8.ToArray(), DataTypeSamples.Header, "value"u8);
        Assert.Equal(LtdbHeader.Size + 5, r.Data.Length);
        Assert.True(r.TrySplitHeader(out var h, out var v));
        Assert.Equal(DataTypeSamples.Header, h);
        Assert.Equal("value"u8.ToArray(), v);
        Assert.False(new RecData(0, [], [1, 2]).TrySplitHeader(out _, out _));
        Assert.True(new RecData(0, [], []).IsEndMarker);
    }

    [Fact]
    public void RecDataLengthFieldMustCoverItsContent()
    {
        var b = new RecData(0, "k"u8.ToArray(), "v"u8.ToArray()).ToBytes();
        BinaryPrimitives.WriteUInt32LittleEndian(b, 17);
        Assert.Throws<ProtocolException>(() => RecData.FromBytes(b));
        // A larger length (alignment slack) is skipped when the bytes are there.
        var slack = new byte[b.Length + 4];
        new RecData(0, "k"u8.ToArray(), "v"u8.ToArray()).ToBytes().CopyTo(slack, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(slack, (uint)slack.Length);
        Assert.Equal("v"u8.ToArray(), RecData.FromBytes(slack).Data);
    }

    [Fact]
    public void VarListIgnoresEmptyNamesAndKeepsTheLeadingSeparatorForm()
    {
        var real = new WireWriter().U32(9).Bytes(":A:B::CD"u8).U8(0).ToArray();
        var v = VarList.FromBytes(real);
        Assert.Equal(["A", "B", "CD"], v.Names);
        Assert.True(v.LeadingSeparator);
        Assert.Empty(VarList.FromBytes(new WireWriter().U32(1).U8(0).ToArray()).Names);
        Assert.Equal(":A:B\0"u8.ToArray(), new VarList(["A", "B"]).ToBytes()[4..]);
    }

    [Fact]
    public void TimevalConvertsToAndFromDateTimeOffset()
    {
        var t = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero).AddTicks(1234567);
        var tv = Timeval.FromDateTimeOffset(t);
        Assert.Equal(123456, tv.Usec);
        Assert.Equal(t.AddTicks(-7), tv.ToDateTimeOffset());
        var before = Timeval.FromDateTimeOffset(DateTimeOffset.UnixEpoch.AddTicks(-15));
        Assert.Equal(new Timeval(-1, 999_998), before); // floor: -1.5 us is -2 us
        Assert.Equal(1.5, new Timeval(1, 500_000).TotalSeconds);
    }

    [Fact]
    public void PublicIpInfoActiveIface()
    {
        var info = new PublicIpInfo(new PublicIp(0, DataTypeSamples.V4), 1, new IfaceList([new Iface("a", 1, 0), new Iface("b", 0, 1)]));
        Assert.Equal("b", info.ActiveIface?.Name);
        Assert.Null((info with { ActiveIdx = 2 }).ActiveIface);
    }

    [Fact]
    public void TunableListSlotsAndSize()
    {
        Assert.Equal(TunableList.Count, TunableList.SlotNames.Count);
        Assert.Equal(TunableList.Count, TunableList.SlotNames.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Throws<ProtocolException>(() => new TunableList(new uint[61]).ToBytes());
    }

    [Fact]
    public void LatencyCounterAccumulates()
    {
        var c = LatencyCounter.Empty.Add(0.5).Add(0.25).Add(1.0);
        Assert.Equal(new LatencyCounter(3, 0.25, 1.0, 1.75), c);
    }

    [Fact]
    public void DbStatisticsKeepsPointerBytesAndRejectsLongKeys()
    {
        var s = DbStatistics.FromBytes(Sample("DbStatistics").Encoded);
        Assert.Equal("hot"u8.ToArray(), s.HotKeys[0].Key);
        Assert.Equal(42u, s.HotKeys[0].Count);
        Assert.Null(s.HotKeyPointerBytes);
        var b = Sample("DbStatistics").Encoded.ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(224 + 8), 0x5587_35bd_ee50);
        Assert.Equal(b, DbStatistics.FromBytes(b).ToBytes());
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(224 + 16), 1UL << 40);
        Assert.Throws<ProtocolException>(() => DbStatistics.FromBytes(b));
    }

    [Fact]
    public void ControlPayloadHelpers()
    {
        Assert.Equal(7u, ControlPayloads.ReadU32(ControlPayloads.U32Payload(7)));
        Assert.Equal(-22, ControlPayloads.ReadI32(ControlPayloads.I32Payload(-22)));
        Assert.Equal(ulong.MaxValue, ControlPayloads.ReadU64(ControlPayloads.U64Payload(ulong.MaxValue)));
        Assert.Equal(0.25, ControlPayloads.ReadF64(ControlPayloads.F64Payload(0.25)));
        Assert.Equal("x.tdb\0"u8.ToArray(), ControlPayloads.StringPayload("x.tdb"));
        Assert.Empty(ControlPayloads.StringPayload(null));
        Assert.Null(ControlPayloads.ReadString([]));
        Assert.Equal("abc", ControlPayloads.ReadString("abc"u8));
        Assert.Throws<ProtocolException>(() => ControlPayloads.ReadStringStrict("abc"u8));
        Assert.Equal("abc", ControlPayloads.ReadStringStrict("abc\0"u8));
        Assert.Equal([4, 0, 0, 0, .. "abc\0"u8], ControlPayloads.StringNPayload("abc"));
        Assert.Equal("abc", ControlPayloads.ReadStringN(ControlPayloads.StringNPayload("abc")));
        Assert.Null(ControlPayloads.ReadStringN(ControlPayloads.StringNPayload(null)));
        Assert.Throws<ProtocolException>(() => ControlPayloads.ReadStringN([.. ControlPayloads.StringNPayload("a"), 0]));
        Assert.Throws<ProtocolException>(() => ControlPayloads.ReadU32(new byte[3]));
        Assert.Throws<ProtocolException>(() => ControlPayloads.ReadU32(new byte[5]));
        Assert.Equal(8, ControlPayloads.DbIdPaddedPayload(5).Length);
        Assert.Equal(5u, ControlPayloads.ReadDbIdPadded(ControlPayloads.DbIdPaddedPayload(5)));
        Assert.Throws<ProtocolException>(() => ControlPayloads.RequireEmpty([1]));
        Assert.Equal("1.2.3.4\0"u8.ToArray(), ControlPayloads.NulTerminated("1.2.3.4"));
    }
}
