using System.Diagnostics;
using SharpCtdb.Config.Logging;

namespace SharpCtdb.Daemon;

/// <summary>
/// ctdbd's side of the IP watchdog process (<c>ctdb_ip_watchdog</c>, next to ctdbd): a line protocol over its stdin
/// (<c>add IFACE ADDR BITS</c>, <c>del ADDR</c>, <c>lease TICKS</c>) and its stdout (<c>dropped ADDR IFACE WHY</c>,
/// <c>log TEXT</c>). Writes are small and go straight into the pipe buffer; the reader posts every line to
/// the line callback given to <see cref="Start"/>. Closing stdin (dispose) makes it drop everything and exit.
/// </summary>
internal sealed class LeaseWatchdog : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _stdin;
    private readonly Task _reader;
    private bool _broken;

    private LeaseWatchdog(Process process, Action<string?> onLine)
    {
        _process = process;
        _stdin = process.StandardInput;
        _stdin.AutoFlush = true;
        var stdout = process.StandardOutput;
        _reader = Task.Run(async () =>
        {
            try
            {
                while (await stdout.ReadLineAsync().ConfigureAwait(false) is { } line)
                    onLine(line);
            }
            catch (IOException)
            {
            }
            onLine(null); // the watchdog exited
        });
    }

    public int Pid => _process.Id;

    /// <summary>Path of the watchdog: $CTDB_IP_WATCHDOG, else next to this executable; null if missing.</summary>
    public static string? Locate()
    {
        if (Environment.GetEnvironmentVariable("CTDB_IP_WATCHDOG") is { Length: > 0 } env)
            return env;
        var ours = Path.Combine(AppContext.BaseDirectory, "ctdb_ip_watchdog");
        return File.Exists(ours) ? ours : null;
    }

    public static LeaseWatchdog? Start(string path, Action<string?> onLine, CtdbLog log)
    {
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        try
        {
            var p = Process.Start(psi);
            if (p is null)
                return null;
            return new LeaseWatchdog(p, onLine);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            log.Error($"Failed to start the IP watchdog {path}: {e.Message}");
            return null;
        }
    }

    /// <summary>Sends one command; false once the pipe is broken (the watchdog died).</summary>
    public bool Send(string line)
    {
        if (_broken)
            return false;
        try
        {
            _stdin.WriteLine(line);
            return true;
        }
        catch (IOException)
        {
            _broken = true;
            return false;
        }
        catch (ObjectDisposedException)
        {
            _broken = true;
            return false;
        }
    }

    /// <summary>Closes its stdin (it drops what it holds and exits) and reaps it, waiting up to <paramref name="wait"/>.</summary>
    public async Task StopAsync(TimeSpan wait)
    {
        try
        {
            _stdin.Dispose();
        }
        catch (IOException)
        {
        }
        try
        {
            await _process.WaitForExitAsync().WaitAsync(wait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            try
            {
                _process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
        }
        try
        {
            await _reader.WaitAsync(wait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    public void Dispose()
    {
        try
        {
            _stdin.Dispose();
        }
        catch (IOException)
        {
        }
        _process.Dispose();
    }
}
