using System.Diagnostics;
using SharpCtdb.Daemon.Tests.Cluster;

namespace SharpCtdb.Daemon.Tests.Admin;

/// <summary>
/// One node of a <see cref="TestCluster"/> started by the test itself (so that it can see the exit code): `ctdbd -i`
/// with stdin kept open, stderr appended to the node's stderr.log. Killed (by pid) on dispose if still running.
/// </summary>
internal sealed class OwnedDaemon : IAsyncDisposable
{
    private readonly Process _p;

    public OwnedDaemon(TestCluster c, int pnn)
    {
        _p = TestCluster.StartDaemon(c.NodeBase(pnn), ["-i"]);
        var log = Path.Combine(c.NodeBase(pnn), "stderr.log");
        _ = DrainAsync(_p.StandardError, log);
        _ = DrainAsync(_p.StandardOutput, log + ".out");
    }

    public Process Process => _p;
    public int Pid => _p.Id;

    private static async Task DrainAsync(StreamReader r, string path)
    {
        try
        {
            await using var w = new StreamWriter(path, append: true) { AutoFlush = true };
            while (await r.ReadLineAsync() is { } line)
                await w.WriteLineAsync(line);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Waits for the exit and returns the exit code, or null if it is still running after <paramref name="limit"/>.</summary>
    public async Task<int?> ExitCodeAsync(TimeSpan limit) => await AdminKit.ExitsWithinAsync(_p, limit) ? _p.ExitCode : null;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_p.HasExited)
                _p.Kill();
            await _p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }
        _p.Dispose();
    }
}
