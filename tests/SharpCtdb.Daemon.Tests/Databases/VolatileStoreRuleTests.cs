using SharpCtdb.Daemon.Databases;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Tests.Databases;

/// <summary>4.17's store rule for volatile dbs (behaviour §12.4.3), one case per branch.</summary>
public sealed class VolatileStoreRuleTests
{
    private const uint Me = 1;
    private const uint Other = 2;

    [Fact]
    public void DataIsKeptAndRsnBumpedWhenThisNodeIsDmaster()
    {
        var d = VolatileStoreRule.Decide(new LtdbHeader(7, Me), dataEmpty: false, Me, lmaster: Other);
        Assert.True(d.Keep);
        Assert.Equal((8UL, Me), (d.Header.Rsn, d.Header.Dmaster));
        Assert.False(d.QueueForDeletion);
        Assert.True(d.UnqueueDeletion);
    }

    [Fact]
    public void DataForAnotherDmasterIsKeptWithoutRsnChange()
    {
        var d = VolatileStoreRule.Decide(new LtdbHeader(7, Other, LtdbHeader.FlagMigratedWithData), dataEmpty: false, Me, lmaster: Me);
        Assert.True(d.Keep);
        Assert.Equal(7UL, d.Header.Rsn);
        Assert.False(d.QueueForDeletion || d.UnqueueDeletion);
    }

    [Fact]
    public void SynthesisedHeaderIsStoredWithRsnOneWithoutTheAutomaticFlagAndQueuedForDeletion()
    {
        var d = VolatileStoreRule.Decide(new LtdbHeader(0, Me, LtdbHeader.FlagAutomatic), dataEmpty: true, Me, lmaster: Me);
        Assert.True(d.Keep);
        Assert.Equal(new LtdbHeader(1, Me, 0), d.Header);
        Assert.True(d.QueueForDeletion);
    }

    [Fact]
    public void EmptyNeverMigratedRecordLeavingANonLmasterIsDeleted()
    {
        var d = VolatileStoreRule.Decide(new LtdbHeader(3, Other), dataEmpty: true, Me, lmaster: Other);
        Assert.False(d.Keep);
    }

    [Fact]
    public void EmptyRecordMigratedWithDataIsKept()
    {
        var d = VolatileStoreRule.Decide(new LtdbHeader(3, Other, LtdbHeader.FlagMigratedWithData), dataEmpty: true, Me, lmaster: Other);
        Assert.True(d.Keep);
        Assert.Equal(3UL, d.Header.Rsn);
    }

    [Fact]
    public void LmasterKeepsEmptyRecordsExceptVacuumMigratedOnesItIsDmasterOf()
    {
        Assert.True(VolatileStoreRule.Decide(new LtdbHeader(3, Other), dataEmpty: true, Me, lmaster: Me).Keep);
        Assert.False(VolatileStoreRule.Decide(new LtdbHeader(3, Me, LtdbHeader.FlagVacuumMigrated), dataEmpty: true, Me, lmaster: Me).Keep);
    }

    [Fact]
    public void EmptyRecordOfOwnDmasterIsKeptBumpedAndQueued()
    {
        var d = VolatileStoreRule.Decide(new LtdbHeader(4, Me, LtdbHeader.FlagVacuumMigrated), dataEmpty: true, Me, lmaster: Other);
        Assert.True(d.Keep);
        Assert.Equal(new LtdbHeader(5, Me, 0), d.Header);
        Assert.True(d.QueueForDeletion);
    }

    [Fact]
    public void ReadOnlyFlagsKeepTheRecordAndSuppressTheRsnBump()
    {
        var d = VolatileStoreRule.Decide(new LtdbHeader(9, Me, LtdbHeader.FlagRoHaveDelegations), dataEmpty: true, Me, lmaster: Other);
        Assert.True(d.Keep);
        Assert.Equal(9UL, d.Header.Rsn);
        Assert.False(d.QueueForDeletion);
    }
}
