using System.Net;

namespace SharpCtdb.Config.Tests;

public sealed class CtdbConfigFileTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly CtdbPaths _paths;

    public CtdbConfigFileTests()
    {
        _paths = _dir.TestModePaths();
    }

    public void Dispose() => _dir.Dispose();

    private ConfigLoadResult Parse(string text, bool strict = false) =>
        CtdbConfigFile.Parse(text, "ctdb.conf", _paths, strict);

    [Fact]
    public void MissingFileGivesDefaults()
    {
        var r = CtdbConfigFile.Load(Path.Combine(_dir.Path, "absent.conf"), _paths);
        Assert.True(r.Ok);
        Assert.False(r.FileExists);
        var c = r.Config;
        Assert.Equal(CtdbConfig.Default, c);
        Assert.Equal("file:/var/log/ctdb/log.ctdb", c.Logging.Location);
        Assert.Equal(3, c.Logging.LogLevel);
        Assert.Equal("tcp", c.Cluster.Transport);
        Assert.Null(c.Cluster.NodeAddress);
        Assert.Null(c.Cluster.EffectiveClusterLock);
        Assert.Equal(5, c.Cluster.LeaderTimeout);
        Assert.True(c.Cluster.LeaderCapability);
        Assert.Equal("/var/lib/ctdb/volatile", c.Database.VolatileDirectory);
        Assert.Equal("/var/lib/ctdb/persistent", c.Database.PersistentDirectory);
        Assert.Equal("/var/lib/ctdb/state", c.Database.StateDirectory);
        Assert.Null(c.Database.LockDebugScript);
        Assert.True(c.Database.TdbMutexes);
        Assert.Null(c.Event.DebugScript);
        Assert.False(c.Failover.Disabled);
        Assert.True(c.Legacy.RealtimeScheduling);
        Assert.True(c.Legacy.LmasterCapability);
        Assert.False(c.Legacy.StartAsStopped);
        Assert.False(c.Legacy.StartAsDisabled);
        Assert.Equal(0, c.Legacy.ScriptLogLevel);
    }

    [Fact]
    public void ToolDefaultLogLevelCanBeChosen()
    {
        var r = CtdbConfigFile.Parse("", "f", _paths, defaultLogLevel: 0);
        Assert.Equal(0, r.Config.Logging.LogLevel);
    }

    [Fact]
    public void FullConfigIsParsed()
    {
        var vol = Directory.CreateDirectory(Path.Combine(_dir.Path, "v")).FullName;
        var script = _dir.Write("debug.sh", "#!/bin/sh\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var r = Parse($"""
            # comment
            ; another comment
            [Logging]
                location = syslog
                log level = info
            [cluster]
                transport = tcp
                node address = ::ffff:127.0.84.1
                cluster lock = !/bin/lock a   b
                recovery lock = /old/lock
                leader timeout = 0x10
                leader capability = No
            [database]
                volatile database directory = {vol}
                persistent database directory = {vol}
                state database directory = {vol}
                lock debug script = /somewhere/else/debug.sh
                tdb mutexes = FALSE
            [event]
                debug script = debug.sh
            [failover]
                disabled = yes
            [legacy]
                realtime scheduling = false
                lmaster capability = no
                start as stopped = true
                start as disabled = YES
                script log level = NOTICE
            """);
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        var c = r.Config;
        Assert.Equal("syslog", c.Logging.Location);
        Assert.Equal(5, c.Logging.LogLevel);
        Assert.Equal(IPAddress.Parse("127.0.84.1"), c.Cluster.NodeAddress);
        Assert.Equal("!/bin/lock a b", c.Cluster.ClusterLock);
        Assert.Equal("/old/lock", c.Cluster.RecoveryLock);
        Assert.Equal("!/bin/lock a b", c.Cluster.EffectiveClusterLock);
        Assert.Equal(16, c.Cluster.LeaderTimeout);
        Assert.False(c.Cluster.LeaderCapability);
        Assert.Equal(vol, c.Database.VolatileDirectory);
        Assert.Equal(script, c.Database.LockDebugScript);
        Assert.False(c.Database.TdbMutexes);
        Assert.Equal(script, c.Event.DebugScript);
        Assert.True(c.Failover.Disabled);
        Assert.False(c.Legacy.RealtimeScheduling);
        Assert.False(c.Legacy.LmasterCapability);
        Assert.True(c.Legacy.StartAsStopped);
        Assert.True(c.Legacy.StartAsDisabled);
        Assert.Equal(3, c.Legacy.ScriptLogLevel);
        // The deprecated alias earns a warning with its line number.
        Assert.Contains(r.Warnings, w => w.Line == 10 && w.Message.Contains("recovery lock is deprecated"));
    }

    [Fact]
    public void RecoveryLockIsUsedWhenClusterLockUnset()
    {
        var r = Parse("[cluster]\nrecovery lock = /shared/lock\n");
        Assert.Equal("/shared/lock", r.Config.Cluster.EffectiveClusterLock);
    }

    [Fact]
    public void UnknownKeyIsAWarningWithSuggestionAndLine()
    {
        var r = Parse("[logging]\n\n  log levl = NOTICE\n");
        Assert.True(r.Ok);
        var w = Assert.Single(r.Warnings);
        Assert.Equal(3, w.Line);
        Assert.Equal("ctdb.conf:3: unknown key 'log levl' in section [logging]; did you mean 'log level'?", w.ToString());
    }

    [Fact]
    public void UnknownKeyIsAnErrorInStrictMode()
    {
        var r = Parse("[logging]\nlog levl = NOTICE\n", strict: true);
        Assert.False(r.Ok);
        Assert.Equal(2, Assert.Single(r.Errors).Line);
    }

    [Fact]
    public void KeysAreCaseSensitiveSectionsAreNot()
    {
        var r = Parse("[LOGGING]\nLog Level = DEBUG\nlog level = INFO\n");
        Assert.Equal(5, r.Config.Logging.LogLevel);
        var w = Assert.Single(r.Warnings);
        Assert.Equal(2, w.Line);
        Assert.Contains("did you mean 'log level'", w.Message);
    }

    [Fact]
    public void UnknownSectionAndKeyOutsideSectionAreReported()
    {
        var r = Parse("leader timeout = 3\n[clustr]\nleader timeout = 9\n");
        Assert.True(r.Ok);
        Assert.Equal(5, r.Config.Cluster.LeaderTimeout);
        Assert.Equal(2, r.Warnings.Count);
        Assert.Equal(1, r.Warnings[0].Line);
        Assert.Contains("outside any section", r.Warnings[0].Message);
        Assert.Equal(2, r.Warnings[1].Line);
        Assert.Contains("unknown section [clustr]; did you mean 'cluster'?", r.Warnings[1].Message);
        var strict = Parse("leader timeout = 3\n[clustr]\nleader timeout = 9\n", strict: true);
        Assert.Equal([1, 2], strict.Errors.Select(e => e.Line));
    }

    [Fact]
    public void FarAwayKeyGetsNoSuggestion()
    {
        var r = Parse("[cluster]\nsomething completely different = 1\n");
        Assert.DoesNotContain("did you mean", Assert.Single(r.Warnings).Message);
    }

    [Fact]
    public void EmptyValueIsAnError()
    {
        var r = Parse("[logging]\nlocation = syslog\nlog level =\n");
        Assert.False(r.Ok);
        var e = Assert.Single(r.Errors);
        Assert.Equal(3, e.Line);
        Assert.Equal("ctdb.conf:3: empty value [logging] -> \"log level\"", e.ToString());
        Assert.Equal("syslog", r.Config.Logging.Location);
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData("1")]
    [InlineData("on")]
    public void BadBooleansAreErrors(string value)
    {
        var r = Parse($"[legacy]\nstart as stopped = {value}\n");
        var e = Assert.Single(r.Errors);
        Assert.Equal(2, e.Line);
        Assert.Equal($"invalid value [legacy] -> \"start as stopped\" = \"{value}\"", e.Message);
    }

    [Theory]
    [InlineData("3x", 3)]
    [InlineData("0x10", 16)]
    [InlineData("010", 8)]
    [InlineData("2147483647", int.MaxValue)]
    [InlineData("7 # comment", 7)]
    public void IntegersFollowStrtol(string text, int expected)
    {
        var r = Parse($"[cluster]\nleader timeout = {text}\n");
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        Assert.Equal(expected, r.Config.Cluster.LeaderTimeout);
    }

    [Theory]
    [InlineData("-1", "invalid value")]
    [InlineData("2147483648", "invalid value")]
    [InlineData("0", "Invalid value for [cluster] -> leader timeout = 0")]
    [InlineData("x", "Invalid value for [cluster] -> leader timeout = 0")]
    [InlineData("09", "Invalid value for [cluster] -> leader timeout = 0")]
    public void BadLeaderTimeouts(string text, string message)
    {
        var r = Parse($"[cluster]\n\nleader timeout = {text}\n");
        var e = Assert.Single(r.Errors);
        Assert.Equal(3, e.Line);
        Assert.Contains(message, e.Message);
        Assert.Equal(5, r.Config.Cluster.LeaderTimeout);
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("TCP")]
    public void OnlyTcpTransport(string transport)
    {
        Assert.Single(Parse($"[cluster]\ntransport = {transport}\n").Errors);
    }

    [Theory]
    [InlineData("1.2.3.4", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::5357:5f02", true)]
    [InlineData("1.2.3", false)]
    [InlineData("1.2.3.4:22", false)]
    [InlineData("[::1]", false)]
    [InlineData("01.2.3.4", false)]
    [InlineData("256.1.1.1", false)]
    [InlineData("fe80::1%lo", false)]
    [InlineData("host.example", false)]
    public void NodeAddressMustBeALiteral(string text, bool ok)
    {
        var r = Parse($"[cluster]\nnode address = {text}\n");
        Assert.Equal(ok, r.Ok);
        if (ok)
            Assert.Equal(IPAddress.Parse(text), r.Config.Cluster.NodeAddress);
    }

    [Fact]
    public void DatabaseDirectoriesMustExist()
    {
        var r = Parse("[database]\nvolatile database directory = /nonexistent/sc\nstate database directory = /tmp\n");
        var e = Assert.Single(r.Errors);
        Assert.Equal(2, e.Line);
        Assert.Equal("volatile database directory \"/nonexistent/sc\" does not exist", e.Message);
        Assert.Equal("/tmp", r.Config.Database.StateDirectory);
    }

    [Fact]
    public void DebugScriptsMustExistInEtcDirAndBeExecutable()
    {
        var plain = _dir.Write("plain.sh", "x");
        File.SetUnixFileMode(plain, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var r = Parse("[event]\ndebug script = /elsewhere/missing.sh\n[database]\nlock debug script = /usr/bin/plain.sh\n");
        Assert.Equal(2, r.Errors.Count);
        Assert.Equal(2, r.Errors[0].Line);
        Assert.Equal($"debug script {_dir.Path}/missing.sh does not exist", r.Errors[0].Message);
        Assert.Equal(4, r.Errors[1].Line);
        Assert.Equal($"lock debug script {_dir.Path}/plain.sh is not executable", r.Errors[1].Message);
    }

    [Theory]
    [InlineData("syslog", true)]
    [InlineData("syslog:nonblocking", true)]
    [InlineData("syslog:udp", true)]
    [InlineData("syslog:udp-rfc5424", true)]
    [InlineData("syslog:bad", false)]
    [InlineData("file:", true)]
    [InlineData("file", true)]
    [InlineData("file:/var/log/x", true)]
    [InlineData("filex", false)]
    [InlineData("foo", false)]
    public void LoggingLocationValidation(string location, bool ok)
    {
        Assert.Equal(ok, Parse($"[logging]\nlocation = {location}\n").Ok);
    }

    [Fact]
    public void BareFileLocationIsNormalisedForTheLogger()
    {
        Assert.Equal("file:", Parse("[logging]\nlocation = file\n").Config.Logging.Location);
    }

    [Theory]
    [InlineData("ERROR", 0)]
    [InlineData("warning", 1)]
    [InlineData("Notice", 3)]
    [InlineData("INFO", 5)]
    [InlineData("debug", 10)]
    [InlineData("7", 7)]
    [InlineData("3x", 3)]
    [InlineData("10", 10)]
    public void LogLevels(string text, int level)
    {
        var r = Parse($"[logging]\nlog level = {text}\n[legacy]\nscript log level = {text}\n");
        Assert.True(r.Ok);
        Assert.Equal(level, r.Config.Logging.LogLevel);
        Assert.Equal(level, r.Config.Legacy.ScriptLogLevel);
    }

    [Theory]
    [InlineData("11")]
    [InlineData("-1")]
    [InlineData("x")]
    [InlineData("bogus")]
    public void BadLogLevels(string text)
    {
        var r = Parse($"[logging]\nlog level = {text}\n");
        Assert.Equal(2, Assert.Single(r.Errors).Line);
    }

    [Fact]
    public void ContinuationAndBlankCollapsing()
    {
        var r = Parse("[cluster]\ncluster lock = !/bin/h \\\n    --flag   x\\ \n   y\nleader timeout = 9\n");
        Assert.True(r.Ok);
        Assert.Equal("!/bin/h --flag x y", r.Config.Cluster.ClusterLock);
        Assert.Equal(9, r.Config.Cluster.LeaderTimeout);
        Assert.Equal("!/bin/h --flag x y", r.GetDisplayValue("cluster", "cluster lock"));
    }

    [Fact]
    public void ErrorLineNumberIsWhereTheContinuedLineStarts()
    {
        var r = Parse("[cluster]\n\nleader timeout = \\\n0\n");
        Assert.Equal(3, Assert.Single(r.Errors).Line);
    }

    [Fact]
    public void MalformedSectionStopsParsingWithoutError()
    {
        var r = Parse("[cluster]\nleader timeout = 7\n[logging\nlog level = bogus\n");
        Assert.True(r.Ok);
        Assert.Equal(7, r.Config.Cluster.LeaderTimeout);
        Assert.Contains(r.Warnings, w => w.Line == 3 && w.Message.Contains("rest of the file is ignored"));
    }

    [Fact]
    public void LinesWithoutEqualsAreIgnored()
    {
        var r = Parse("[cluster]\nleader timeout 7\n");
        Assert.True(r.Ok);
        Assert.Equal(5, r.Config.Cluster.LeaderTimeout);
    }

    [Fact]
    public void LastValueWinsAndErrorsAccumulate()
    {
        var r = Parse("[cluster]\nleader timeout = 7\nleader timeout = 8\ntransport = udp\n[legacy]\nstart as stopped = x\n");
        Assert.Equal(8, r.Config.Cluster.LeaderTimeout);
        Assert.Equal([4, 6], r.Errors.Select(e => e.Line));
    }

    [Fact]
    public void DisplayValuesForTheTool()
    {
        var r = Parse("[cluster]\nleader timeout = 010\n[legacy]\nstart as stopped = Yes\n");
        Assert.Equal("8", r.GetDisplayValue("cluster", "leader timeout"));
        Assert.Equal("8", r.GetDisplayValue("CLUSTER", "leader timeout"));
        Assert.Equal("true", r.GetDisplayValue("legacy", "start as stopped"));
        Assert.Equal("", r.GetDisplayValue("cluster", "node address"));
        Assert.Equal("ERROR", r.GetDisplayValue("logging", "log level"));
        Assert.Null(r.GetDisplayValue("cluster", "bogus"));
        Assert.True(r.IsSet("cluster", "leader timeout"));
        Assert.False(r.IsSet("cluster", "transport"));
    }

    [Fact]
    public void LoadReadsTheFileAndNamesItInDiagnostics()
    {
        var path = _dir.Write("ctdb.conf", "[cluster]\nleader timeout = 0\n");
        var r = CtdbConfigFile.Load(path, _paths);
        Assert.True(r.FileExists);
        Assert.Equal($"{path}:2: Invalid value for [cluster] -> leader timeout = 0", Assert.Single(r.Errors).ToString());
    }

    [Theory]
    [InlineData("0", 0L, 1)]
    [InlineData("12abc", 12L, 2)]
    [InlineData("  -5", -5L, 4)]
    [InlineData("0x1F", 31L, 4)]
    [InlineData("0x", 0L, 1)]
    [InlineData("017", 15L, 3)]
    [InlineData("08", 0L, 1)]
    [InlineData("abc", 0L, 0)]
    public void StrtolSemantics(string text, long value, int consumed)
    {
        Assert.True(CNumber.TryStrtol(text, out var v, out var c));
        Assert.Equal(value, v);
        Assert.Equal(consumed, c);
    }

    [Theory]
    [InlineData("10", true, 10u)]
    [InlineData("0x10", true, 16u)]
    [InlineData("010", true, 8u)]
    [InlineData("4294967295", true, uint.MaxValue)]
    [InlineData("4294967296", false, 0u)]
    [InlineData("10x", false, 0u)]
    [InlineData("-1", false, 0u)]
    [InlineData("", false, 0u)]
    [InlineData(" 1", false, 0u)]
    public void WholeUnsignedParsing(string text, bool ok, uint value)
    {
        Assert.Equal(ok, CNumber.TryParseWholeUInt32(text, out var v));
        Assert.Equal(value, v);
    }
}
