using System.Globalization;
using System.Net.Sockets;
using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Config.Logging;

/// <summary>Where log lines go.</summary>
public interface ILogSink
{
    void Write(DebugLevel level, string line);
    /// <summary>Reopen the destination (SIGHUP after log rotation).</summary>
    void Reopen() { }
}

/// <summary>
/// A small thread-safe logger with CTDB's levels. Each line carries the level name so that admins can grep
/// for "ERROR:" the way they read CTDB's logs.
/// </summary>
public sealed class CtdbLog(string program, ILogSink sink, int level = (int)DebugLevel.Notice)
{
    private readonly int _pid = Environment.ProcessId;

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
        var ts = DateTimeOffset.Now.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);
        Sink.Write(l, $"{ts} {Program}[{_pid}]: {DebugLevels.NameOf((int)l)}: {message}");
    }

    public void Error(string m) => Write(DebugLevel.Error, m);
    public void Warning(string m) => Write(DebugLevel.Warning, m);
    public void Notice(string m) => Write(DebugLevel.Notice, m);
    public void Info(string m) => Write(DebugLevel.Info, m);
    public void Debug(string m) => Write(DebugLevel.Debug, m);

    /// <summary>Builds a sink from a ctdb.conf `[logging] location` value: "file:PATH", "file:" or "syslog[:method]".</summary>
    public static ILogSink SinkFor(string location, string defaultFile)
    {
        if (location.StartsWith("syslog", StringComparison.Ordinal))
            return new SyslogSink();
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

/// <summary>Sends RFC 3164 datagrams to /dev/log (daemon facility); falls back to stderr when there is no syslog.</summary>
public sealed class SyslogSink : ILogSink
{
    private readonly Lock _lock = new();
    private Socket? _socket;

    public void Write(DebugLevel level, string line)
    {
        var severity = level switch
        {
            DebugLevel.Error => 3,
            DebugLevel.Warning => 4,
            DebugLevel.Notice => 5,
            DebugLevel.Info => 6,
            _ => 7,
        };
        var payload = Encoding.UTF8.GetBytes($"<{(3 * 8) + severity}>{line}");
        lock (_lock)
        {
            try
            {
                _socket ??= Connect();
                _socket.Send(payload);
            }
            catch (SocketException)
            {
                _socket?.Dispose();
                _socket = null;
                Console.Error.WriteLine(line);
            }
        }
    }

    private static Socket Connect()
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint("/dev/log"));
        return s;
    }
}
