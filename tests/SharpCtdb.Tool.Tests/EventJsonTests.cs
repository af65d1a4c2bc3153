using System.Text.Json;
using SharpCtdb.Config.Logging;
using SharpCtdb.Events;

namespace SharpCtdb.Tool.Tests;

/// <summary>`ctdb --json scriptstatus` and `ctdb --json event status` (docs/tool-json.md) against our event daemon server.</summary>
public sealed class EventJsonTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sc-ev-j").FullName;
    private readonly EventRunner _runner;
    private readonly EventDaemonServer _server;

    public EventJsonTests()
    {
        var legacy = Path.Combine(_dir, "events", "legacy");
        Directory.CreateDirectory(legacy);
        Directory.CreateDirectory(Path.Combine(_dir, "run"));
        Script(legacy, "01.ok", "echo \"hi $1\"");
        Script(legacy, "02.off", "exit 1", executable: false);
        Script(legacy, "03.maybe", "case \"$1\" in monitor) echo bad; exit 3 ;; hang) echo hanging; sleep 60 ;; esac");
        _runner = new EventRunner(new EventRunnerSettings { EventsDir = Path.Combine(_dir, "events") }, CtdbLog.Null);
        _server = new EventDaemonServer(Path.Combine(_dir, "run", "eventd.socket"), _runner, CtdbLog.Null);
    }

    private static void Script(string dir, string name, string body, bool executable = true)
    {
        var path = Path.Combine(dir, name + ".script");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, executable ? (UnixFileMode)0x1ED : (UnixFileMode)0x1A4);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _runner.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<(int Rc, string Stdout, string Stderr)> Tool(params string[] args)
    {
        var env = new Dictionary<string, string?> { ["CTDB_TEST_MODE"] = "yes", ["CTDB_BASE"] = _dir };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var rc = await ToolProgram.RunAsync(args, env, stdout, stderr);
        return (rc, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task ScriptStatusAndEventStatusAsJson()
    {
        var ct = TestContext.Current.CancellationToken;
        await _server.StartAsync(ct);
        await _runner.RunAsync("legacy", "monitor", [], TimeSpan.FromSeconds(30), ct: ct);
        await _runner.RunAsync("legacy", "hang", [], TimeSpan.FromSeconds(1), ct: ct);

        var (rc, stdout, stderr) = await Tool("--json", "scriptstatus");
        Assert.Equal(0, rc); // as the text form: scriptstatus ignores the event's result
        Assert.Equal("", stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var root = doc.RootElement;
            Assert.Equal("legacy", root.GetProperty("component").GetString());
            Assert.Equal("monitor", root.GetProperty("event").GetString());
            Assert.True(root.GetProperty("ran").GetBoolean());
            Assert.Equal(3, root.GetProperty("result").GetInt32());
            Assert.Equal("ERROR", root.GetProperty("status").GetString());
            var scripts = root.GetProperty("scripts").EnumerateArray().ToList();
            Assert.Equal(["01.ok", "02.off", "03.maybe"], scripts.Select(s => s.GetProperty("name").GetString()));
            Assert.Equal(["OK", "DISABLED", "ERROR"], scripts.Select(s => s.GetProperty("status").GetString()));
            Assert.Equal([0, -8, 3], scripts.Select(s => s.GetProperty("result").GetInt32()));
            Assert.Equal("hi monitor\n", scripts[0].GetProperty("output").GetString());
            Assert.Equal("bad\n", scripts[2].GetProperty("output").GetString());
            Assert.Equal(JsonValueKind.Null, scripts[1].GetProperty("begin").ValueKind);
            Assert.Equal(JsonValueKind.Null, scripts[1].GetProperty("output").ValueKind);
            var begin = scripts[0].GetProperty("begin").GetDouble();
            Assert.InRange(begin, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
            Assert.InRange(scripts[0].GetProperty("duration").GetDouble(), 0, 30);
            Assert.Equal(scripts[0].GetProperty("end").GetDouble() - begin, scripts[0].GetProperty("duration").GetDouble(), 3);
        }

        // `event status` with --json anywhere on the line; exit code as the text form (the failing script's status).
        (rc, stdout, _) = await Tool("event", "status", "legacy", "hang", "--json");
        Assert.Equal(110, rc);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var root = doc.RootElement;
            Assert.Equal(-110, root.GetProperty("result").GetInt32());
            Assert.Equal("TIMEDOUT", root.GetProperty("status").GetString());
            var last = root.GetProperty("scripts").EnumerateArray().Last();
            Assert.Equal("TIMEDOUT", last.GetProperty("status").GetString());
            Assert.Equal("hanging\n", last.GetProperty("output").GetString());
        }

        // Never run: still one JSON object, the 4.17 message as "error", EINVAL as the exit code.
        (rc, stdout, _) = await Tool("--json", "event", "status", "legacy", "startup");
        Assert.Equal(22, rc);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.False(doc.RootElement.GetProperty("ran").GetBoolean());
            Assert.Equal("Event startup has never run in legacy", doc.RootElement.GetProperty("error").GetString());
            Assert.Equal(0, doc.RootElement.GetProperty("scripts").GetArrayLength());
        }

        // Without --json nothing changes.
        (rc, stdout, _) = await Tool("scriptstatus");
        Assert.Equal(0, rc);
        Assert.StartsWith("01.ok                OK         ", stdout);
        Assert.Contains("02.off               DISABLED  \n03.maybe             ERROR      ", stdout);
        Assert.Contains("  OUTPUT: bad\n", stdout);
    }
}
