using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Config.Logging;

/// <summary>One log message before formatting (syslog sinks format it their own way).</summary>
public readonly record struct LogEntry(DebugLevel Level, DateTimeOffset Time, string Program, int Pid, string Message, string Host = "")
{
    /// <summary>
    /// The line written to stderr and log files, as 4.17 writes its log file: "TIMESTAMP HOST PROGRAM[PID]: MESSAGE"
    /// (no level name: admins' log parsers expect exactly this).
    /// </summary>
    public string FormatLine() =>
        $"{Time.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture)} {(Host.Length == 0 ? CtdbLog.DefaultHost : Host)} {Program}[{Pid}]: {Message}";
}

/// <summary>Where log lines go.</summary>
public interface ILogSink
{
    void Write(DebugLevel level, string line);

    /// <summary>Writes one entry; line-oriented sinks get the formatted line.</summary>
    void Write(in LogEntry entry) => Write(entry.Level, entry.FormatLine());
    /// <summary>Reopen the destination (SIGHUP after log rotation).</summary>
    void Reopen() { }
}

/// <summary>A small thread-safe logger with CTDB's levels.</summary>
public sealed class CtdbLog(string program, ILogSink sink, int level = (int)DebugLevel.Notice)
{
    private readonly int _pid = Environment.ProcessId;

    /// <summary>The machine's host name up to the first dot, as 4.17 puts it in its log lines.</summary>
    public static string DefaultHost { get; } = ShortHostName();

    /// <summary>
    /// Host name in each line: 4.17 uses the base name of CTDB_BASE in test mode (so the nodes of a local test
    /// cluster are told apart), else the short host name.
    /// </summary>
    public string Host { get; set; } = DefaultHost;

    /// <summary>The host name 4.17 logs for a daemon with these settings.</summary>
    public static string HostFor(bool testMode, string ctdbBase) =>
        testMode && Path.GetFileName(ctdbBase.TrimEnd('/')) is { Length: > 0 } b ? b : DefaultHost;

    private static string ShortHostName()
    {
        var h = Environment.MachineName;
        var dot = h.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? h[..dot] : h;
    }

    public static CtdbLog Null { get; } = new("null", new NullSink(), -1);

    public string Program { get; } = program;
    public ILogSink Sink { get; } = sink;

    /// <summary>Current numeric level; messages above it are dropped. Changed at run time by SET_DEBUG.</summary>
    public int Level { get; set; } = level;

    public bool IsEnabled(DebugLevel l) => (int)l <= Level;

    public void Write(DebugLevel l, string message)
    {
        if (!IsEnabled(l))
            return;
        Sink.Write(new LogEntry(l, DateTimeOffset.Now, Program, _pid, message, Host));
    }

    public void Error(string m) => Write(DebugLevel.Error, m);
    public void Warning(string m) => Write(DebugLevel.Warning, m);
    public void Notice(string m) => Write(DebugLevel.Notice, m);
    public void Info(string m) => Write(DebugLevel.Info, m);
    public void Debug(string m) => Write(DebugLevel.Debug, m);

    /// <summary>
    /// Builds a sink from a ctdb.conf `[logging] location` value: "file:PATH", "file:" or "syslog[:method]".
    /// Throws <see cref="IOException"/> when syslog:nonblocking cannot reach /dev/log (4.17 then fails to start).
    /// </summary>
    public static ILogSink SinkFor(string location, string defaultFile)
    {
        if (location == "syslog" || location.StartsWith("syslog:", StringComparison.Ordinal))
            return SyslogSink.Create(location.Length > 7 ? location[7..] : "");
        if (location.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = location["file:".Length..];
            return new FileSink(path.Length == 0 ? defaultFile : path);
        }
        throw new ArgumentException($"invalid logging location '{location}'");
    }

    private sealed class NullSink : ILogSink
    {
        public void Write(DebugLevel level, string line) { }
    }
}

public sealed class StderrSink : ILogSink
{
    private readonly Lock _lock = new();

    public void Write(DebugLevel level, string line)
    {
        lock (_lock)
            Console.Error.WriteLine(line);
    }
}

/// <summary>Appends to a file; reopened on SIGHUP so logrotate works.</summary>
public sealed class FileSink : ILogSink, IDisposable
{
    private readonly string _path;
    private readonly Lock _lock = new();
    private StreamWriter? _writer;

    public FileSink(string path)
    {
        _path = path;
        Open();
    }

    public string Path => _path;

    private void Open()
    {
        var dir = System.IO.Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);
        var fs = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        _writer = new StreamWriter(fs, new UTF8Encoding(false)) { AutoFlush = true };
    }

    public void Write(DebugLevel level, string line)
    {
        lock (_lock)
            _writer?.WriteLine(line);
    }

    public void Reopen()
    {
        lock (_lock)
        {
            _writer?.Dispose();
            Open();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }
}

/// <summary>How a syslog sink sends: 4.17's `syslog[:method]` locations.</summary>
public enum SyslogMethod
{
    /// <summary>"syslog": like glibc's syslog(3): RFC 3164 header with a local timestamp, to /dev/log, blocking.</summary>
    Default,
    /// <summary>"syslog:nonblocking": "&lt;PRI&gt;TAG[PID]: MSG" to /dev/log, dropped when the socket is full.</summary>
    Nonblocking,
    /// <summary>"syslog:udp": "&lt;PRI&gt;TAG[PID]: MSG" to 127.0.0.1:514.</summary>
    Udp,
    /// <summary>"syslog:udp-rfc5424": "&lt;PRI&gt;1 TIMESTAMP HOST TAG PID - - MSG" to 127.0.0.1:514.</summary>
    UdpRfc5424,
}

/// <summary>
/// Syslog datagrams as Debian's 4.17 ctdbd sends them (captured with a socket bound in place of /dev/log and on
/// 127.0.0.1:514): facility daemon; ERROR → err, WARNING → warning, NOTICE and INFO → notice, DEBUG → debug; no level
/// name in the text. /dev/log is connected lazily and re-connected after a syslog restart; without any syslog the
/// plain method drops messages silently, as syslog(3) does.
/// </summary>
public sealed class SyslogSink : ILogSink, IDisposable
{
    public const string DevLog = "/dev/log";
    private const int FacilityDaemon = 3;

    private readonly Lock _lock = new();
    private readonly EndPoint _target;
    private readonly string _hostname;
    private Socket? _socket;

    public SyslogSink(SyslogMethod method, EndPoint? target = null, string? hostname = null)
    {
        Method = method;
        _target = target ?? (method is SyslogMethod.Udp or SyslogMethod.UdpRfc5424
            ? new IPEndPoint(IPAddress.Loopback, 514)
            : new UnixDomainSocketEndPoint(DevLog));
        _hostname = hostname ?? Dns.GetHostName();
    }

    public SyslogMethod Method { get; }

    /// <summary>
    /// The sink for a location's method ("", "nonblocking", "udp", "udp-rfc5424"). nonblocking connects at once and
    /// throws <see cref="IOException"/> if /dev/log is missing, as 4.17 refuses to start then.
    /// </summary>
    public static SyslogSink Create(string method, EndPoint? target = null, string? hostname = null)
    {
        var sink = new SyslogSink(method switch
        {
            "" => SyslogMethod.Default,
            "nonblocking" => SyslogMethod.Nonblocking,
            "udp" => SyslogMethod.Udp,
            "udp-rfc5424" => SyslogMethod.UdpRfc5424,
            _ => throw new ArgumentException($"invalid syslog method '{method}'"),
        }, target, hostname);
        if (sink.Method == SyslogMethod.Nonblocking)
        {
            try
            {
                sink._socket = sink.Connect();
            }
            catch (SocketException e)
            {
                sink.Dispose();
                throw new IOException($"cannot connect to {sink._target}: {e.Message}", e);
            }
        }
        return sink;
    }

    /// <summary>Syslog severity for a CTDB level (observed: INFO is sent as notice).</summary>
    public static int Severity(DebugLevel level) => (int)level switch
    {
        <= 0 => 3,
        1 => 4,
        <= 5 => 5,
        <= 9 => 6,
        _ => 7,
    };

    /// <summary>The datagram for one entry.</summary>
    public byte[] Format(in LogEntry e)
    {
        var pri = (FacilityDaemon * 8) + Severity(e.Level);
        var text = Method switch
        {
            // syslog(3): "Mmm dd hh:mm:ss" (day padded with a space), local time, no host name.
            SyslogMethod.Default => string.Create(CultureInfo.InvariantCulture,
                $"<{pri}>{e.Time.ToLocalTime().ToString("MMM", CultureInfo.InvariantCulture)} {e.Time.ToLocalTime().Day,2} {e.Time.ToLocalTime():HH:mm:ss} {e.Program}[{e.Pid}]: {e.Message}"),
            SyslogMethod.UdpRfc5424 => string.Create(CultureInfo.InvariantCulture,
                $"<{pri}>1 {e.Time.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture)} {_hostname} {e.Program} {e.Pid} - - {e.Message}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"<{pri}>{e.Program}[{e.Pid}]: {e.Message}"),
        };
        return Encoding.UTF8.GetBytes(text);
    }

    public void Write(DebugLevel level, string line) =>
        Write(new LogEntry(level, DateTimeOffset.Now, "ctdbd", Environment.ProcessId, line));

    public void Write(in LogEntry entry)
    {
        var payload = Format(entry);
        lock (_lock)
        {
            try
            {
                _socket ??= Connect();
                if (Method == SyslogMethod.Nonblocking)
                    _socket.Send(payload, SocketFlags.None, out _); // full → dropped, never wait
                else
                    _socket.Send(payload);
            }
            catch (SocketException)
            {
                // No syslog (yet) or it restarted: drop this message, reconnect for the next one.
                _socket?.Dispose();
                _socket = null;
            }
        }
    }

    private Socket Connect()
    {
        var s = _target is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified)
            : new Socket(_target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            s.Connect(_target);
            if (Method == SyslogMethod.Nonblocking)
                s.Blocking = false;
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _socket?.Dispose();
            _socket = null;
        }
    }
}
