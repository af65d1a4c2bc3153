using System.Diagnostics;
using System.Net.Sockets;

namespace SharpCtdb.FakeDaemon;

/// <summary>fake_ctdbd as a child process (so that it does not share libtdb's per-process locks with an in-process tool).</summary>
public sealed class FakeDaemonProcess : IAsyncDisposable
{
    private readonly Process _process;

    private FakeDaemonProcess(Process process) => _process = process;

    /// <summary>Starts <c>fake_ctdbd</c> from next to this assembly and waits (up to 30 s) until its socket accepts connections.</summary>
    public static async Task<IAsyncDisposable> StartAsync(string stateText, string socket, string baseDir, string dbDir, CancellationToken ct)
    {
        var stateFile = Path.Combine(Path.GetDirectoryName(socket)!, "state.txt");
        await File.WriteAllTextAsync(stateFile, stateText, ct).ConfigureAwait(false);
        var dir = AppContext.BaseDirectory;
        var psi = new ProcessStartInfo(Path.Combine(dir, "fake_ctdbd"))
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var a in new[] { "--socket", socket, "--state", stateFile, "--base", baseDir, "--dbdir", dbDir })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start fake_ctdbd");
        var d = new FakeDaemonProcess(p);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (p.HasExited)
                throw new InvalidOperationException($"fake_ctdbd exited: {await p.StandardError.ReadToEndAsync(ct).ConfigureAwait(false)}");
            if (File.Exists(socket))
            {
                using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct).ConfigureAwait(false);
                    return d;
                }
                catch (SocketException)
                {
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                await d.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException("fake_ctdbd did not start listening within 30 s");
            }
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }
        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        _process.Dispose();
    }
}
