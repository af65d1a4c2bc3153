using System.Diagnostics;

namespace SharpCtdb.Config.Tests;

public class CtdbPathsTests
{
    private static CtdbPaths From(params (string Key, string? Value)[] vars) =>
        CtdbPaths.FromEnvironment(vars.ToDictionary(v => v.Key, v => v.Value));

    [Fact]
    public void NormalModeUsesCompiledRoots()
    {
        var p = From();
        Assert.False(p.TestMode);
        Assert.Equal("/etc/ctdb", p.CtdbBase);
        Assert.Equal("/etc/ctdb", p.EtcDir);
        Assert.Equal("/run/ctdb", p.RunDir);
        Assert.Equal("/var/lib/ctdb", p.VarDir);
        Assert.Equal("/usr/share/ctdb", p.DataDir);
        Assert.Equal("/run/ctdb/ctdbd.socket", p.SocketPath);
        Assert.Equal("/run/ctdb/ctdbd.pid", p.PidFile);
        Assert.Equal("/run/ctdb/eventd.socket", p.EventdSocket);
        Assert.Equal("/etc/ctdb/ctdb.conf", p.ConfigFile);
        Assert.Equal("/etc/ctdb/nodes", p.NodesFile);
        Assert.Equal("/etc/ctdb/public_addresses", p.PublicAddressesFile);
        Assert.Equal("/etc/ctdb/ctdb.tunables", p.TunablesFile);
        Assert.Equal("/etc/ctdb/notify.sh", p.NotifyScript);
        Assert.Equal("/etc/ctdb/events", p.EventsDir);
        Assert.Equal("/var/lib/ctdb/scripts", p.ScriptVarDir);
        Assert.Equal("/usr/libexec/ctdb", p.HelperDir);
        Assert.Equal("/usr/libexec/ctdb/ctdb_mutex_fcntl_helper", p.ClusterMutexHelper);
        Assert.Equal("/var/log/ctdb/log.ctdb", p.DefaultLogFile);
    }

    [Fact]
    public void NormalModeCtdbBaseMovesOnlyBaseRelativeFiles()
    {
        var p = From(("CTDB_BASE", "/opt/c"));
        Assert.False(p.TestMode);
        Assert.Equal("/opt/c/nodes", p.NodesFile);
        Assert.Equal("/opt/c/public_addresses", p.PublicAddressesFile);
        Assert.Equal("/opt/c/notify.sh", p.NotifyScript);
        // ETCDIR stays compiled in normal mode: the asymmetry of §1.1.
        Assert.Equal("/etc/ctdb/ctdb.conf", p.ConfigFile);
        Assert.Equal("/etc/ctdb/ctdb.tunables", p.TunablesFile);
    }

    [Fact]
    public void TestModeRelocatesRootsButNotDatabaseDefaults()
    {
        var p = From(("CTDB_TEST_MODE", ""), ("CTDB_BASE", "/tmp/b"));
        Assert.True(p.TestMode);
        Assert.Equal("/tmp/b", p.EtcDir);
        Assert.Equal("/tmp/b/run", p.RunDir);
        Assert.Equal("/tmp/b/var", p.VarDir);
        Assert.Equal("/tmp/b/share", p.DataDir);
        Assert.Equal("/tmp/b/run/ctdbd.socket", p.SocketPath);
        Assert.Equal("/tmp/b/ctdb.conf", p.ConfigFile);
        Assert.Equal("/tmp/b/var/scripts", p.ScriptVarDir);
        Assert.Equal("/var/lib/ctdb/volatile", p.DefaultVolatileDbDir);
        Assert.Equal("/var/lib/ctdb/persistent", p.DefaultPersistentDbDir);
        Assert.Equal("/var/lib/ctdb/state", p.DefaultStateDbDir);
        Assert.Equal("/run/ctdb/.socket_lock", p.SocketLockFile);
    }

    [Fact]
    public void TestModeWithoutBaseIsAClearError()
    {
        var e = Assert.Throws<CtdbSetupException>(() => From(("CTDB_TEST_MODE", "yes")));
        Assert.Equal("CTDB_BASE not set in test mode", e.Message);
    }

    [Fact]
    public void CtdbSocketMovesOnlyTheDaemonSocket()
    {
        var p = From(("CTDB_TEST_MODE", "1"), ("CTDB_BASE", "/tmp/b"), ("CTDB_SOCKET", "/tmp/s.sock"));
        Assert.Equal("/tmp/s.sock", p.SocketPath);
        Assert.Equal("/tmp/b/run/eventd.socket", p.EventdSocket);
    }

    [Fact]
    public void HelperOverridesComeFromTheEnvironment()
    {
        var p = From(("CTDB_CLUSTER_MUTEX_HELPER", "/x/helper"), ("CTDB_EVENTD", "/x/eventd"),
            ("CTDB_RECOVERY_HELPER", "/x/rec"), ("CTDB_TAKEOVER_HELPER", "/x/tko"));
        Assert.Equal("/x/helper", p.ClusterMutexHelper);
        Assert.Equal("/x/eventd", p.EventdPath);
        Assert.Equal("/x/rec", p.RecoveryHelper);
        Assert.Equal("/x/tko", p.TakeoverHelper);
    }

    [Fact]
    public void EtcRelativeUsesTheBasename()
    {
        var p = From(("CTDB_TEST_MODE", "1"), ("CTDB_BASE", "/tmp/b"));
        Assert.Equal("/tmp/b/debug.sh", p.EtcRelative("/usr/local/bin/debug.sh"));
    }

    [Theory]
    [InlineData("etcdir", "")]
    [InlineData("rundir", "/run")]
    [InlineData("vardir", "/var")]
    [InlineData("datadir", "/share")]
    public void TestModeRootsAgreeWithRealCtdbPath(string command, string suffix)
    {
        const string tool = "/usr/libexec/ctdb/ctdb-path";
        Assert.SkipUnless(File.Exists(tool), "real ctdb-path not installed");
        var psi = new ProcessStartInfo(tool, command) { RedirectStandardOutput = true, UseShellExecute = false };
        psi.Environment["CTDB_TEST_MODE"] = "yes";
        psi.Environment["CTDB_BASE"] = "/tmp/sc-base";
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        var ours = From(("CTDB_TEST_MODE", "yes"), ("CTDB_BASE", "/tmp/sc-base"));
        var value = command switch
        {
            "etcdir" => ours.EtcDir,
            "rundir" => ours.RunDir,
            "vardir" => ours.VarDir,
            _ => ours.DataDir,
        };
        Assert.Equal("/tmp/sc-base" + suffix, output);
        Assert.Equal(output, value);
    }
}
