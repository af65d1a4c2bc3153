using System.Diagnostics;
using SharpCtdb.Daemon.Tests.Cluster;
using SharpCtdb.TestSupport;

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
        _ = ChildProcess.DrainToFileAsync(_p.StandardError, log);
        _ = ChildProcess.DrainToFileAsync(_p.StandardOutput, log + ".out");
    }

    public Process Process => _p;
    public int Pid => _p.Id;

    /// <summary>Waits for the exit and returns the exit code, or null if it is still running after <paramref name="limit"/>.</summary>
    public async Task<int?> ExitCodeAsync(TimeSpan limit) => await AdminKit.ExitsWithinAsync(_p, limit) ? _p.ExitCode : null;

    public async ValueTask DisposeAsync() => await ChildProcess.KillAndReapAsync(_p);
}
