using System.Net.Sockets;
using SharpCtdb.Config.Logging;
using SharpCtdb.Protocol.EventDaemon;

namespace SharpCtdb.Events.Tests;

public sealed class EventDaemonServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GarbageDropsOnlyThatClient()
    {
        using var b = new TempBase();
        b.Script("10.ok", "echo ok");
        var sink = new MemorySink();
        var log = new CtdbLog("ctdb-eventd", sink, 5);
        await using var runner = b.Runner(log);
        await using var server = new EventDaemonServer(b.Socket, runner, log);
        await server.StartAsync(Ct);
        await using var good = await EventDaemonClient.ConnectAsync(b.Socket, Ct);

        using var bad = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await bad.ConnectAsync(new UnixDomainSocketEndPoint(b.Socket), Ct);
        // Valid length, unknown command 9.
        await bad.SendAsync(new byte[] { 16, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0 }, Ct);
        Assert.True(await ClosedWithoutReplyAsync(bad));
        Assert.True(await Wait.UntilAsync(() => sink.Lines.Any(l => l.Contains("dropping client"))));

        using var huge = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await huge.ConnectAsync(new UnixDomainSocketEndPoint(b.Socket), Ct);
        await huge.SendAsync(new byte[] { 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4 }, Ct);
        Assert.True(await ClosedWithoutReplyAsync(huge));

        Assert.Equal(0, await good.RunAsync("legacy", "monitor", null, 10, ct: Ct));
        var (result, status) = await good.StatusAsync("legacy", "monitor", Ct);
        Assert.Equal(0, result);
        Assert.Equal("ok\n", status!.Scripts.Single().Output);
    }

    /// <summary>EOF or a reset (unread bytes make the kernel send RST) both mean: dropped, nothing answered.</summary>
    private static async Task<bool> ClosedWithoutReplyAsync(Socket s)
    {
        try
        {
            return await s.ReceiveAsync(new byte[64], Ct) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    [Fact]
    public async Task NullOrUnsafeComponentIsEinval()
    {
        using var b = new TempBase();
        await using var runner = b.Runner();
        await using var server = new EventDaemonServer(b.Socket, runner, CtdbLog.Null);
        await server.StartAsync(Ct);
        await using var client = await EventDaemonClient.ConnectAsync(b.Socket, Ct);

        Assert.Equal(22, (await client.StatusAsync("", "monitor", Ct)).Result);
        Assert.Equal(22, await client.RunAsync("../legacy", "monitor", null, 10, ct: Ct));
        Assert.Equal(2, await client.RunAsync("nope", "monitor", null, 10, ct: Ct));
    }

    [Fact]
    public async Task ScriptRequestTogglesExecuteBits()
    {
        using var b = new TempBase();
        var path = b.Script("10.x", "true");
        await using var runner = b.Runner();
        await using var server = new EventDaemonServer(b.Socket, runner, CtdbLog.Null);
        await server.StartAsync(Ct);
        await using var client = await EventDaemonClient.ConnectAsync(b.Socket, Ct);

        Assert.Equal(0, await client.ScriptAsync("legacy", "10.x", EventScriptAction.Disable, Ct));
        Assert.Equal((UnixFileMode)0x1A4, File.GetUnixFileMode(path));
        Assert.Equal(0, await client.ScriptAsync("legacy", "10.x", EventScriptAction.Enable, Ct));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(path));
        Assert.Equal(2, await client.ScriptAsync("legacy", "99.none", EventScriptAction.Enable, Ct));
    }

    [Fact]
    public async Task RequestsOnOneConnectionOverlapSoMonitorCanBePreempted()
    {
        using var b = new TempBase();
        var started = b.File_("started");
        File.Delete(started);
        b.Script("10.s", $"[ \"$1\" = monitor ] && {{ touch {started}; sleep 300; }}; echo $1");
        await using var runner = b.Runner();
        await using var server = new EventDaemonServer(b.Socket, runner, CtdbLog.Null);
        await server.StartAsync(Ct);
        await using var client = await EventDaemonClient.ConnectAsync(b.Socket, Ct);

        var monitor = client.RunAsync("legacy", "monitor", null, 60, ct: Ct);
        Assert.True(await Wait.UntilAsync(() => File.Exists(started)));
        Assert.Equal(0, await client.RunAsync("legacy", "takeip", "eth0 10.0.0.1 24", 60, ct: Ct));
        Assert.Equal(125, await monitor);
        var (_, status) = await client.StatusAsync("legacy", "takeip", Ct);
        Assert.Equal("takeip\n", status!.Scripts.Single().Output);
    }

    [Fact]
    public async Task ManyClientsAtOnce()
    {
        using var b = new TempBase();
        Directory.CreateDirectory(Path.Combine(b.EventsDir, "c1"));
        b.Script("10.echo", "echo $1", dir: Path.Combine(b.EventsDir, "c1"));
        await using var runner = b.Runner();
        await using var server = new EventDaemonServer(b.Socket, runner, CtdbLog.Null);
        await server.StartAsync(Ct);

        var tasks = Enumerable.Range(0, 8).Select(async i =>
        {
            await using var c = await EventDaemonClient.ConnectAsync(b.Socket, Ct);
            Assert.Equal(0, await c.RunAsync("c1", $"ev{i}", null, 30, ct: Ct));
            var (r, s) = await c.StatusAsync("c1", $"ev{i}", Ct);
            Assert.Equal(0, r);
            Assert.Equal($"ev{i}\n", s!.Scripts.Single().Output);
        });
        await Task.WhenAll(tasks);
    }
}
