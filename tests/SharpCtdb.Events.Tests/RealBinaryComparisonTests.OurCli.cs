namespace SharpCtdb.Events.Tests;

public sealed partial class RealBinaryComparisonTests
{
    /// <summary>The other direction: our `ctdb event` CLI talking to Debian's real ctdb-eventd prints what Debian's tool prints.</summary>
    [Fact]
    public async Task OurCliAgainstRealEventdMatchesRealTool()
    {
        Assert.SkipUnless(File.Exists(RealEventd) && File.Exists(RealTool), "Debian ctdb not installed");
        using var toolBase = new TempBase();
        using var cliBase = new TempBase();
        Populate(toolBase);
        Populate(cliBase);

        var expected = new List<string>();
        var real = await StartRealEventdAsync(toolBase);
        try
        {
            foreach (var cmd in DaemonCommands)
                expected.Add(await RunToolAsync(toolBase, cmd));
        }
        finally
        {
            await StopAsync(real);
        }

        var actual = new List<string>();
        real = await StartRealEventdAsync(cliBase);
        try
        {
            foreach (var cmd in DaemonCommands)
                actual.Add(RunOurCli(cliBase, cmd));
        }
        finally
        {
            await StopAsync(real);
        }
        Assert.Equal(expected, actual);
    }
}
