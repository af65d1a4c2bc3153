namespace SharpCtdb.Events.Tests;

public sealed class ScriptDirectoryTests
{
    [Theory]
    [InlineData("10.interface.script", true)]
    [InlineData("05..script", true)]
    [InlineData("00.a b.script", true)]
    [InlineData("05.x.script.script", true)]
    [InlineData("05.script", false)]
    [InlineData("1.x.script", false)]
    [InlineData("123.x.script", false)]
    [InlineData("0a.x.script", false)]
    [InlineData("05-x.script", false)]
    [InlineData("05.x.SCRIPT", false)]
    [InlineData("05.x.script~", false)]
    [InlineData("05.x.options", false)]
    [InlineData("README", false)]
    public void ScriptNamePattern(string name, bool expected) => Assert.Equal(expected, ScriptDirectory.IsScriptFileName(name));

    [Fact]
    public void ListsSortedByBytesWithEnabledFlags()
    {
        using var b = new TempBase();
        b.Script("05.x y", "true");
        b.Script("05.x", "true", executable: false);
        b.Script("05.\u00e9", "true");
        b.Script("00.a", "true");
        Directory.CreateDirectory(Path.Combine(b.Legacy, "07.dir.script"));
        File.CreateSymbolicLink(Path.Combine(b.Legacy, "08.broken.script"), "/nonexistent");
        File.CreateSymbolicLink(Path.Combine(b.Legacy, "09.link.script"), Path.Combine(b.Legacy, "00.a.script"));
        File.WriteAllText(Path.Combine(b.Legacy, "junk"), "");
        var dir = new ScriptDirectory(b.EventsDir);

        var list = dir.List("legacy")!;

        Assert.Equal(["00.a", "05.x", "05.x y", "05.\u00e9", "07.dir", "08.broken", "09.link"], list.Select(s => s.Name));
        // As 4.17's `script list`: a directory with x bits counts as enabled there; a dangling link does not.
        Assert.Equal([true, false, true, true, true, false, true], list.Select(s => s.Enabled));
        Assert.Null(dir.List("missing"));
    }

    [Fact]
    public void EnableLinksPackagedScriptAndDisableRemovesTheLink()
    {
        using var b = new TempBase();
        b.Script("20.pkg", "true", dir: b.DataLegacy);
        var dir = ScriptDirectory.FromPaths(b.Paths);
        var link = Path.Combine(b.Legacy, "20.pkg.script");

        Assert.Equal(ScriptChangeResult.Ok, dir.Enable("legacy", "20.pkg"));
        Assert.Equal(Path.Combine(b.DataLegacy, "20.pkg.script"), new FileInfo(link).LinkTarget);
        Assert.Equal(0, dir.ListForTool("legacy", out var listing));
        Assert.Equal([("20.pkg", true)], listing!.Packaged);
        Assert.Empty(listing.Installed);

        Assert.Equal(ScriptChangeResult.Ok, dir.Disable("legacy", "20.pkg"));
        Assert.False(File.Exists(link));
        Assert.Equal(ScriptChangeResult.Ok, dir.Disable("legacy", "20.pkg")); // already disabled: silent success

        var missing = dir.Enable("legacy", "99.none");
        Assert.Equal(2, missing.Errno);
        Assert.Equal("Script 99.none does not exist in legacy", missing.Message);
    }

    [Fact]
    public void EnableAndDisableChmodRegularFilesAndRefuseDirectories()
    {
        using var b = new TempBase();
        var path = b.Script("10.x", "true");
        File.SetUnixFileMode(path, (UnixFileMode)0x180); // 0600
        Directory.CreateDirectory(Path.Combine(b.Legacy, "11.d.script"));
        var dir = ScriptDirectory.FromPaths(b.Paths);

        dir.Enable("legacy", "10.x");
        Assert.Equal((UnixFileMode)0x1C9, File.GetUnixFileMode(path)); // 0711
        dir.Disable("legacy", "10.x");
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(path));

        var r = dir.Enable("legacy", "11.d");
        Assert.Equal(22, r.Errno);
        Assert.Equal($"Script {b.Legacy}/11.d.script is not a file or a link", r.Message);
    }

    [Fact]
    public void ListForToolNeedsBothDirectories()
    {
        using var b = new TempBase();
        var dir = ScriptDirectory.FromPaths(b.Paths);
        Assert.Equal(2, dir.ListForTool("other", out _));
        Directory.Delete(b.DataLegacy);
        Assert.Equal(2, dir.ListForTool("legacy", out _));
    }
}
