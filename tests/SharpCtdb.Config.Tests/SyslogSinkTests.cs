using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol;

namespace SharpCtdb.Config.Tests;

/// <summary>
/// `[logging] location = syslog[:method]`: datagram bytes as captured from Debian's 4.17 ctdbd (a socket bound in
/// place of /dev/log in a private mount namespace, and on 127.0.0.1:514), e.g.
/// syslog      "&lt;29&gt;Nov 23 16:20:40 ctdbd[4313]: CTDB_WAIT_UNTIL_RECOVERED"
/// nonblocking "&lt;28&gt;ctdbd[6876]: Cluster lock not set"
/// udp         "&lt;27&gt;ctdb-recoverd[27586]: Start election"
/// udp-rfc5424 "&lt;29&gt;1 2026-11-23T16:16:52.225517+00:00 vm ctdbd 27849 - - CTDB_WAIT_UNTIL_RECOVERED"
/// Here the sinks are pointed at sockets the test binds itself.
/// </summary>
public sealed class SyslogSinkTests
{
    private static readonly DateTimeOffset When = new DateTimeOffset(2026, 11, 3, 16, 20, 40, TimeSpan.Zero).AddTicks(2255170);

    private static Socket BindUnix(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(path));
        s.ReceiveTimeout = 10_000;
        return s;
    }

    private static Socket BindUdp()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Parse("127.0.160.9"), 0));
        s.ReceiveTimeout = 10_000;
        return s;
    }

    private static string Receive(Socket s)
    {
        var buf = new byte[65536];
        var n = s.Receive(buf);
        return Encoding.UTF8.GetString(buf, 0, n);
    }

    /// <summary>True if a datagram arrives within <paramref name="ms"/>.</summary>
    private static bool Pending(Socket s, int ms) => s.Poll(ms * 1000, SelectMode.SelectRead);

    [Theory]
    [InlineData(DebugLevel.Error, 27)]
    [InlineData(DebugLevel.Warning, 28)]
    [InlineData(DebugLevel.Notice, 29)]
    [InlineData(DebugLevel.Info, 29)]
    [InlineData(DebugLevel.Debug, 31)]
    public void PriorityIsDaemonFacilityWithCtdbsSeverityMap(DebugLevel level, int pri)
    {
        var sink = new SyslogSink(SyslogMethod.Udp, new IPEndPoint(IPAddress.Loopback, 9));
        var text = Encoding.UTF8.GetString(sink.Format(new LogEntry(level, When, "ctdbd", 42, "m")));
        Assert.Equal($"<{pri}>ctdbd[42]: m", text);
    }

    [Fact]
    public void EveryMethodFormatsAs417()
    {
        var e = new LogEntry(DebugLevel.Notice, When, "ctdbd", 4313, "CTDB_WAIT_UNTIL_RECOVERED");
        string F(SyslogMethod m) => Encoding.UTF8.GetString(new SyslogSink(m, new IPEndPoint(IPAddress.Loopback, 9), "vm").Format(e));
        var local = When.ToLocalTime();
        Assert.Equal($"<29>Nov {local.Day,2} {local:HH:mm:ss} ctdbd[4313]: CTDB_WAIT_UNTIL_RECOVERED", F(SyslogMethod.Default));
        Assert.Matches("^<29>Nov  [234] ", F(SyslogMethod.Default)); // a one-digit day is padded with a space
        Assert.Equal("<29>ctdbd[4313]: CTDB_WAIT_UNTIL_RECOVERED", F(SyslogMethod.Nonblocking));
        Assert.Equal("<29>ctdbd[4313]: CTDB_WAIT_UNTIL_RECOVERED", F(SyslogMethod.Udp));
        Assert.Equal("<29>1 2026-11-03T16:20:40.225517+00:00 vm ctdbd 4313 - - CTDB_WAIT_UNTIL_RECOVERED", F(SyslogMethod.UdpRfc5424));
    }

    [Fact]
    public void UdpMethodsSendOneDatagramPerMessageAndHonourTheLevel()
    {
        using var rx = BindUdp();
        using var sink = SyslogSink.Create("udp-rfc5424", rx.LocalEndPoint, "host1");
        var log = new CtdbLog("ctdbd", sink, (int)DebugLevel.Notice);
        log.Notice("hello");
        Assert.Matches(new Regex($@"^<29>1 \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{6}}[+-]\d\d:\d\d host1 ctdbd {Environment.ProcessId} - - hello$"), Receive(rx));

        // Above the level: nothing is sent; after a run-time change (SET_DEBUG) it is.
        log.Debug("hidden");
        Assert.False(Pending(rx, 200), "a DEBUG message was sent at level NOTICE");
        log.Level = (int)DebugLevel.Debug;
        log.Debug("shown");
        Assert.Equal($"<31>1 ", Receive(rx)[..6]);

        using var sink2 = SyslogSink.Create("udp", rx.LocalEndPoint);
        new CtdbLog("ctdbd", sink2).Error("bad");
        Assert.Equal($"<27>ctdbd[{Environment.ProcessId}]: bad", Receive(rx));
    }

    [Fact]
    public void DevLogMethodsSendToTheUnixSocket()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "log");
        using var rx = BindUnix(path);
        var target = new UnixDomainSocketEndPoint(path);

        using var plain = SyslogSink.Create("", target);
        new CtdbLog("ctdbd", plain).Warning("Cluster lock not set");
        Assert.Matches(new Regex($@"^<28>[A-Z][a-z]{{2}} [ 123]\d \d\d:\d\d:\d\d ctdbd\[{Environment.ProcessId}\]: Cluster lock not set$"), Receive(rx));

        using var nb = SyslogSink.Create("nonblocking", target);
        new CtdbLog("ctdbd", nb).Notice("x");
        Assert.Equal($"<29>ctdbd[{Environment.ProcessId}]: x", Receive(rx));
    }

    [Fact]
    public void NonblockingWithoutSyslogFailsAtStartButPlainSyslogDropsSilently()
    {
        using var dir = new TempDir();
        var missing = new UnixDomainSocketEndPoint(Path.Combine(dir.Path, "nolog"));
        // 4.17 exits 1 at start-up with syslog:nonblocking and no /dev/log; syslog(3) just loses the messages.
        Assert.Throws<IOException>(() => SyslogSink.Create("nonblocking", missing));
        using var plain = SyslogSink.Create("", missing);
        new CtdbLog("ctdbd", plain).Error("lost");

        // Once a syslog appears, the plain sink reconnects.
        using var rx = BindUnix(Path.Combine(dir.Path, "nolog"));
        new CtdbLog("ctdbd", plain).Error("found");
        Assert.EndsWith(": found", Receive(rx));
    }

    [Fact]
    public void SinkForPicksTheMethodFromTheLocation()
    {
        using var dir = new TempDir();
        Assert.Equal(SyslogMethod.Udp, Assert.IsType<SyslogSink>(CtdbLog.SinkFor("syslog:udp", "x")).Method);
        Assert.Equal(SyslogMethod.UdpRfc5424, Assert.IsType<SyslogSink>(CtdbLog.SinkFor("syslog:udp-rfc5424", "x")).Method);
        Assert.Equal(SyslogMethod.Default, Assert.IsType<SyslogSink>(CtdbLog.SinkFor("syslog", "x")).Method);
        Assert.Throws<ArgumentException>(() => CtdbLog.SinkFor("syslog:tcp", "x"));
        var file = Path.Combine(dir.Path, "log.ctdb");
        using var f = Assert.IsType<FileSink>(CtdbLog.SinkFor("file:" + file, "x"));
        Assert.Equal(file, f.Path);
    }

    [Fact]
    public void LogFileLinesHave417sLayout()
    {
        // Debian's 4.17 ctdbd, location = file:, CTDB_TEST_MODE with CTDB_BASE=.../alias.7:
        // "2026-11-23T20:06:11.456037+00:00 alias.7 ctdbd[13563]: CTDB starting on node" (no level name).
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "log.ctdb");
        using (var sink = new FileSink(file))
        {
            var log = new CtdbLog("ctdbd", sink) { Host = CtdbLog.HostFor(testMode: true, "/tmp/cluster/alias.7/") };
            log.Notice("CTDB starting on node");
            log.Info("not at NOTICE");
        }
        var line = Assert.Single(File.ReadAllLines(file));
        Assert.Matches(new Regex($@"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{6}}[+-]\d\d:\d\d alias\.7 ctdbd\[{Environment.ProcessId}\]: CTDB starting on node$"), line);
        // Outside test mode: the host name up to its first dot.
        Assert.Equal(Environment.MachineName.Split('.')[0], CtdbLog.HostFor(testMode: false, "/tmp/cluster/alias.7"));
    }
}
