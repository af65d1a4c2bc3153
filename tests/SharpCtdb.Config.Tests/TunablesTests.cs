using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Config.Tests;

public class TunablesTests
{
    [Fact]
    public void TableHasAll62TunablesWithSpecDefaults()
    {
        Assert.Equal(62, TunableSet.Definitions.Count);
        Assert.Equal(62, TunableSet.Definitions.Select(d => d.Name.ToLowerInvariant()).Distinct().Count());
        Assert.Equal(new TunableDefinition("MaxRedirectCount", 3, true), TunableSet.Definitions[0]);
        Assert.Equal(new TunableDefinition("AllowMixedVersions", 0, false), TunableSet.Definitions[^1]);
        Assert.Equal(13, TunableSet.Definitions.Count(d => d.Obsolete));
        var t = new TunableSet();
        Assert.Equal(100001u, t["DatabaseHashSize"]);
        Assert.Equal(10485760u, t["PullDBPreallocation"]);
        Assert.Equal(100000000u, t["DBSizeWarn"]);
        Assert.Equal(1000000u, t["MaxQueueDropMsg"]);
    }

    [Fact]
    public void ListNamesIsNonObsoleteInTableOrder()
    {
        var names = new TunableSet().ListNames();
        Assert.Equal(49, names.Count);
        Assert.Equal("SeqnumInterval", names[0]);
        Assert.Equal("AllowMixedVersions", names[^1]);
        Assert.DoesNotContain("MaxRedirectCount", names);
        Assert.DoesNotContain("TDBMutexEnabled", names);
        var idx = names.ToList();
        Assert.True(idx.IndexOf("VacuumFastPathCount") < idx.IndexOf("MaxQueueDropMsg"));
    }

    [Fact]
    public void WireOrderIsAPermutationWithTheStructDifferences()
    {
        Assert.Equal(62, TunableSet.WireOrder.Count);
        Assert.Equal(TunableSet.Definitions.Select(d => d.Name).Order(), TunableSet.WireOrder.Order());
        Assert.Equal("ReclockPingPeriod", TunableSet.WireOrder[22]);
        Assert.Equal("LCP2PublicIPs", TunableSet.WireOrder[41]);
        Assert.Equal("VacuumFastPathCount", TunableSet.WireOrder[40]);
        Assert.Equal("DeferredAttachTO", TunableSet.WireOrder[39]);
    }

    [Fact]
    public void WireOrderAgreesWithTheProtocolTunableList()
    {
        Assert.Equal(TunableList.SlotNames, TunableSet.WireOrder);
        var values = new TunableSet().ToTunableListValues();
        var decoded = TunableList.FromBytes(new TunableList(values).ToBytes());
        Assert.Equal(values, decoded.Values);
    }

    [Fact]
    public void TunableListValuesFollowTheWireOrder()
    {
        var t = new TunableSet();
        for (var i = 0; i < TunableSet.Definitions.Count; i++)
            t.Set(TunableSet.Definitions[i].Name, (uint)(1000 + i));
        var wire = t.ToTunableListValues();
        Assert.Equal(62, wire.Length);
        for (var slot = 0; slot < 62; slot++)
        {
            Assert.True(t.TryGet(TunableSet.WireOrder[slot], out var v));
            Assert.Equal(v, wire[slot]);
        }
        var copy = new TunableSet();
        copy.LoadTunableListValues(wire);
        Assert.Equal(wire, copy.ToTunableListValues());
        Assert.Throws<ArgumentException>(() => copy.LoadTunableListValues(new uint[61]));
    }

    [Fact]
    public void WireStructMatchesTheProtocolTunableListSize()
    {
        // GET_ALL_TUNABLES carries 248 bytes = 62 u32.
        Assert.Equal(248, new TunableSet().ToTunableListValues().Length * 4);
    }

    [Fact]
    public void GetIsCaseInsensitiveAndObsoleteReadable()
    {
        var t = new TunableSet();
        Assert.True(t.TryGet("keepaliveinterval", out var v));
        Assert.Equal(5u, v);
        Assert.True(t.TryGet("VERIFYRECOVERYLOCK", out v));
        Assert.Equal(1u, v);
        Assert.False(t.TryGet("NoSuchTunable", out _));
        Assert.Throws<KeyNotFoundException>(() => t["NoSuchTunable"]);
    }

    [Fact]
    public void SetReturnsStatusLikeSetTunable()
    {
        var t = new TunableSet();
        Assert.Equal(0, t.Set("monitorinterval", 7));
        Assert.Equal(7u, t.MonitorInterval);
        Assert.Equal(1, t.Set("DeterministicIPs", 1));
        Assert.Equal(1u, t["DeterministicIPs"]);
        Assert.Equal(-1, t.Set("Bogus", 1));
        Assert.Equal(0, t.Set("RecoverInterval", uint.MaxValue));
        Assert.Equal(uint.MaxValue, t.RecoverInterval);
    }

    [Fact]
    public void ConvenienceProperties()
    {
        var t = new TunableSet();
        Assert.Equal(5u, t.KeepaliveInterval);
        Assert.Equal(5u, t.KeepaliveLimit);
        Assert.Equal(1u, t.RecoverInterval);
        Assert.Equal(30u, t.RecoverTimeout);
        Assert.Equal(3u, t.ElectionTimeout);
        Assert.Equal(9u, t.TakeoverTimeout);
        Assert.Equal(15u, t.MonitorInterval);
        Assert.Equal(30u, t.EventScriptTimeout);
        Assert.Equal(20u, t.MonitorTimeoutCount);
        Assert.Equal(300u, t.RecoveryBanPeriod);
        Assert.Equal(120u, t.RecoveryGracePeriod);
        Assert.Equal(10u, t.RerecoveryTimeout);
        Assert.Equal(1u, t.EnableBans);
        Assert.Equal(0u, t.NoIPFailback);
        Assert.Equal(0u, t.NoIPTakeover);
        Assert.Equal(2u, t.IPAllocAlgorithm);
        Assert.Equal(60u, t.ControlTimeout);
        Assert.Equal(100001u, t.DatabaseHashSize);
        Assert.Equal(5u, t.DatabaseMaxDead);
        Assert.Equal(1u, t.AllowClientDBAttach);
        Assert.Equal(0u, t.AllowMixedVersions);
        Assert.Equal(20u, t.TickleUpdateInterval);
        Assert.Equal(120u, t.RecoveryDropAllIPs);
        t.Set("TakeoverTimeout", 4);
        Assert.Equal(4u, t.TakeoverTimeout);
    }

    [Fact]
    public async Task ConcurrentReadsAndWritesAreSafe()
    {
        var t = new TunableSet();
        var ct = TestContext.Current.CancellationToken;
        var writer = Task.Run(() =>
        {
            for (uint i = 0; i < 20000; i++)
                t.Set("KeepaliveLimit", i % 2 == 0 ? 5u : 7u);
        }, ct);
        var reader = Task.Run(() =>
        {
            for (var i = 0; i < 20000; i++)
                Assert.Contains(t.KeepaliveLimit, new[] { 5u, 7u });
        }, ct);
        await Task.WhenAll(writer, reader);
    }

    private sealed class CollectingSink : ILogSink
    {
        public List<(DebugLevel Level, string Line)> Lines { get; } = [];

        public void Write(DebugLevel level, string line)
        {
            lock (Lines)
                Lines.Add((level, line));
        }
    }

    [Fact]
    public void TunablesFileAppliesValidAndObsoleteAndLogsEveryProblem()
    {
        using var dir = new TempDir();
        var path = dir.Write("ctdb.tunables", """
            # comment
            MonitorInterval=7
            keepalivelimit = 0x9
            [section]
            NoValue
            Empty=
            EnableBans=1x
            NoSuchTunable=3
            VerifyRecoveryLock=0
            TakeoverTimeout = \
            12
            RecoverTimeout=010
              ElectionTimeout=4
            """);
        var sink = new CollectingSink();
        var t = new TunableSet();
        var problems = TunablesFile.Apply(t, path, new CtdbLog("ctdbd", sink));
        Assert.Equal(7u, t.MonitorInterval);
        Assert.Equal(9u, t.KeepaliveLimit);
        Assert.Equal(1u, t.EnableBans);
        Assert.Equal(0u, t["VerifyRecoveryLock"]);
        Assert.Equal(12u, t.TakeoverTimeout);
        Assert.Equal(8u, t.RecoverTimeout);
        Assert.Equal(4u, t.ElectionTimeout);
        Assert.Equal([4, 5, 6, 7, 8, 9], problems.Select(p => p.Line));
        Assert.Equal("Invalid line for section [section] - sections not supported", problems[0].Message);
        Assert.Equal("Invalid line containing \"NoValue\"", problems[1].Message);
        Assert.Equal("Invalid line containing \"Empty\"", problems[2].Message);
        Assert.Equal("Unknown tunable \"NoSuchTunable\"", problems[4].Message);
        Assert.Equal("Obsolete tunable \"VerifyRecoveryLock\"", problems[5].Message);
        Assert.Equal("Invalid value \"1x\" for tunable \"EnableBans\"", problems[3].Message);
        Assert.Contains("Obsolete", problems[5].Message);
        Assert.Equal(6, sink.Lines.Count);
        Assert.All(sink.Lines, l => Assert.Equal(DebugLevel.Error, l.Level));
        Assert.Contains($"{path}:7:", sink.Lines[3].Line);
    }

    [Fact]
    public void MissingTunablesFileIsFine()
    {
        var t = new TunableSet();
        Assert.Empty(TunablesFile.Apply(t, "/tmp/sc-does-not-exist/ctdb.tunables", CtdbLog.Null));
        Assert.Equal(15u, t.MonitorInterval);
    }
}
