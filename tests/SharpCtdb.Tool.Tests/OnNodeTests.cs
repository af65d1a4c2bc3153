using SharpCtdb.FakeDaemon;
using SharpCtdb.OnNode;

namespace SharpCtdb.Tool.Tests;

public sealed class OnNodeTests : IDisposable
{
    private readonly string _dir = Path.Combine("/tmp", "sc-ko-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Dictionary<string, string?> _env;

    public OnNodeTests()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "nodes"), "127.0.82.1\n#127.0.82.2\n127.0.82.3\n");
        // A stand-in for ssh: ignores -n and the host, runs the command locally.
        var ssh = Path.Combine(_dir, "fakessh");
        File.WriteAllText(ssh, "#!/bin/sh\n[ \"$1\" = \"-n\" ] && shift\nhost=$1\nshift\nexec /bin/sh -c \"$*\"\n");
        File.SetUnixFileMode(ssh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _env = new Dictionary<string, string?>
        {
            ["CTDB_BASE"] = _dir,
            ["ONNODE_SSH"] = ssh,
            ["PATH"] = Environment.GetEnvironmentVariable("PATH"),
        };
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int Rc, string Out, string Err)> Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var rc = await OnNodeProgram.RunAsync(args, _env, o, e, TestContext.Current.CancellationToken);
        return (rc, o.ToString(), e.ToString());
    }

    [Fact]
    public async Task SerialRunOverSeveralNodesPrintsHeadersOnStderr()
    {
        var (rc, output, err) = await Run("all", "echo", "hello");
        Assert.Equal(0, rc);
        Assert.Equal("hello\nhello\n", output);
        Assert.Equal("\n>> NODE: 127.0.82.1 <<\n\n>> NODE: 127.0.82.3 <<\n", err);
    }

    [Fact]
    public async Task SingleNodeHasNoHeaderUnlessVerbose()
    {
        var (rc, output, err) = await Run("2", "echo hi");
        Assert.Equal((0, "hi\n", ""), (rc, output, err));
        (rc, output, err) = await Run("-v", "0", "echo hi");
        Assert.Equal((0, "hi\n", "\n>> NODE: 127.0.82.1 <<\n"), (rc, output, err));
    }

    [Fact]
    public async Task ParallelPrefixesEveryLineWithTheNode()
    {
        var (rc, output, _) = await Run("-p", "0,2", "echo out; echo err >&2");
        Assert.Equal(0, rc);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["[127.0.82.1] err", "[127.0.82.1] out", "[127.0.82.3] err", "[127.0.82.3] out"], lines);
    }

    [Fact]
    public async Task QuietSuppressesHeadersAndExitStatusIsTheFailure()
    {
        var (rc, output, err) = await Run("-q", "all", "exit 3");
        Assert.Equal((3, "", ""), (rc, output, err));
    }

    [Fact]
    public async Task DeletedOrMissingNodeIsAnError()
    {
        var (rc, _, err) = await Run("1", "true");
        Assert.Equal(1, rc);
        Assert.Equal("onnode: \"node 1\" does not exist\n", err);
        (rc, _, err) = await Run("foo", "true");
        Assert.Equal(1, rc);
        Assert.StartsWith("Invalid <nodespec>\n\nUsage: onnode", err);
    }

    [Fact]
    public async Task OkAndConUseTheDaemonsNodeFlags()
    {
        var state = FakeState.Parse("NODEMAP\n0 127.0.82.1 0x2 CURRENT RECMASTER\n1 127.0.82.2 0x10\n2 127.0.82.3 0x0\n");
        var socket = Path.Combine(_dir, "ctdbd.sock");
        await using var daemon = FakeCtdbd.Start(state, socket, _dir, Path.Combine(_dir, "db"));
        _env["CTDB_SOCKET"] = socket;
        var (rc, _, err) = await Run("ok", "true");
        Assert.Equal(0, rc);
        Assert.Equal("", err);
        (rc, _, err) = await Run("con", "true");
        Assert.Equal(0, rc);
        Assert.Equal("\n>> NODE: 127.0.82.1 <<\n\n>> NODE: 127.0.82.3 <<\n", err);
    }
}
