using System.Diagnostics;

namespace SharpCtdb.Events.Tests.Dist;

public sealed class NotifyScriptTests : IDisposable
{
    private readonly DistHarness _h = new();

    public void Dispose() => _h.Dispose();

    private string Handler(string name, string body, bool executable = true)
    {
        var path = Path.Combine(_h.Base, "events", "notification", name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, executable ? (UnixFileMode)0x1ED : (UnixFileMode)0x1A4);
        return path;
    }

    private async Task<(int Status, string Stderr)> NotifyAsync(string eventName)
    {
        var psi = new ProcessStartInfo(Path.Combine(DistHarness.DistDir, "notify.sh"), [eventName])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        psi.Environment.Clear();
        foreach (var (k, v) in _h.Environment())
            psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (p.ExitCode, await stderr);
    }

    [Fact]
    public async Task RunsEveryExecutableHandlerWithTheEvent_FailuresLoggedNotFatal()
    {
        Handler("a-first", "echo \"a $1\" >>\"$STUB_LOG\"");
        Handler("b-fails", "echo \"b $1\" >>\"$STUB_LOG\"; exit 3");
        Handler("c-last", "echo \"c $1\" >>\"$STUB_LOG\"");
        Handler("d-disabled", "echo \"d $1\" >>\"$STUB_LOG\"", executable: false);

        var (status, stderr) = await NotifyAsync("unhealthy");

        Assert.Equal(0, status);
        Assert.Equal(["a unhealthy", "b unhealthy", "c unhealthy"], _h.Calls());
        Assert.Contains("b-fails unhealthy failed with status 3", stderr);
    }

    [Fact]
    public async Task SyslogWhenEnabled()
    {
        _h.Stub("logger");
        _h.ExtraEnv["CTDB_NOTIFY_SYSLOG"] = "yes";

        var (status, _) = await NotifyAsync("healthy");

        Assert.Equal(0, status);
        Assert.Equal(["logger -t ctdbd-notify event: healthy"], _h.Calls());
    }

    [Fact]
    public async Task NoNotificationDirectory_Succeeds()
    {
        Directory.Delete(Path.Combine(_h.Base, "events", "notification"));

        var (status, _) = await NotifyAsync("startup");

        Assert.Equal(0, status);
        Assert.Empty(_h.Calls());
    }
}
