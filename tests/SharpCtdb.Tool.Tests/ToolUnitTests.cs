using SharpCtdb.FakeDaemon;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool.Tests;

public sealed class ToolUnitTests
{
    private static readonly Dictionary<string, string?> NoEnv = [];

    [Fact]
    public void OptionsMayAppearAfterTheCommandAndBundle()
    {
        var o = ToolOptions.Parse(["status", "-Xv", "-n1", "-t", "3", "--maxruntime=7"], NoEnv, out var error);
        Assert.Null(error);
        Assert.True(o.MachineReadable);
        Assert.True(o.Verbose);
        Assert.Equal(1, o.Node);
        Assert.Equal(3, o.TimeLimit);
        Assert.Equal(7, o.MaxRuntime);
        Assert.Equal(["status"], o.Arguments);
    }

    [Fact]
    public void OptionErrorsUsePoptWording()
    {
        ToolOptions.Parse(["-Z", "pnn"], NoEnv, out var error);
        Assert.Equal("Invalid option -Z: unknown option", error);
        ToolOptions.Parse(["-n", "all", "pnn"], NoEnv, out error);
        Assert.Equal("Invalid option all: invalid numeric value", error);
        ToolOptions.Parse(["pnn", "-x"], NoEnv, out error);
        Assert.Equal("Invalid option -x: missing argument", error);
    }

    [Fact]
    public void MaxRuntimeDefaultsToCtdbTimeout()
    {
        var o = ToolOptions.Parse(["pnn"], new Dictionary<string, string?> { ["CTDB_TIMEOUT"] = "42" }, out _);
        Assert.Equal(42, o.MaxRuntime);
    }

    [Fact]
    public void FlagTextFollows417Order()
    {
        Assert.Equal("DISABLED|STOPPED|INACTIVE", NodeStatus.FlagText((NodeFlags)0x24, false));
        Assert.Equal("UNHEALTHY|STOPPED|INACTIVE", NodeStatus.FlagText((NodeFlags)0x22, false));
        Assert.Equal("DISCONNECTED|INACTIVE", NodeStatus.FlagText(NodeFlags.Disconnected, false));
        Assert.Equal("OK", NodeStatus.FlagText(0, false));
        Assert.Equal("PARTIALLYONLINE", NodeStatus.FlagText(0, true));
    }

    private static async Task<(int Rc, string Output)> Run(Dictionary<string, string?> env, params string[] args)
    {
        var sw = new StringWriter();
        var rc = await ToolProgram.RunAsync(args, env, sw, sw);
        return (rc, sw.ToString());
    }

    [Fact]
    public async Task UnknownCommandSuggestsCloseNames()
    {
        var (rc, output) = await Run(NoEnv, "stauts");
        Assert.Equal(1, rc);
        Assert.Equal("Unknown command 'stauts'\nDid you mean: stats, status?\n", output);
    }

    [Fact]
    public async Task WrongArgumentCountPrintsCommandUsage()
    {
        var (rc, output) = await Run(NoEnv, "listnodes", "extra");
        Assert.Equal(1, rc);
        Assert.EndsWith("Commands:\n  listnodes                                    list nodes in the cluster\n", output);
        // A command that needs the daemon checks its arguments only once connected, as 4.17 does.
        (rc, output) = await Run(new Dictionary<string, string?> { ["CTDB_SOCKET"] = "/nonexistent/ctdbd.socket" }, "getvar");
        Assert.Equal(1, rc);
        Assert.Contains("Failed to connect to CTDB daemon (/nonexistent/ctdbd.socket)", output);
        Assert.DoesNotContain("Usage", output);
    }

    [Fact]
    public async Task JsonStatusAndIpAgainstFakeDaemon()
    {
        var dir = Path.Combine("/tmp", "sc-kj-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var state = FakeState.Parse("NODEMAP\n0 192.168.20.41 0x0 CURRENT RECMASTER\n1 192.168.20.42 0x4\n\n" +
                "IFACES\n:eth0:1:1:\n\nVNNMAP\n7\n0\n\nPUBLICIPS\n10.0.0.1 0\n10.0.0.2 -1\n");
            var socket = Path.Combine(dir, "s.sock");
            await using var daemon = FakeCtdbd.Start(state, socket, dir, Path.Combine(dir, "db"));
            var env = new Dictionary<string, string?> { ["CTDB_SOCKET"] = socket, ["CTDB_BASE"] = dir };
            var (rc, output) = await Run(env, "--json", "status");
            Assert.Equal(0, rc);
            using (var doc = System.Text.Json.JsonDocument.Parse(output))
            {
                var root = doc.RootElement;
                Assert.Equal(0, root.GetProperty("this_node").GetInt32());
                Assert.Equal("DISABLED", root.GetProperty("nodes")[1].GetProperty("status").GetString());
                Assert.Equal(7u, root.GetProperty("vnnmap").GetProperty("generation").GetUInt32());
                Assert.Equal("NORMAL", root.GetProperty("recovery_mode").GetString());
                Assert.Equal(0, root.GetProperty("leader").GetInt32());
            }
            (rc, output) = await Run(env, "ip", "--json");
            Assert.Equal(0, rc);
            using (var doc = System.Text.Json.JsonDocument.Parse(output))
            {
                var ips = doc.RootElement.GetProperty("ips");
                Assert.Equal("10.0.0.1", ips[0].GetProperty("address").GetString());
                Assert.Equal("eth0", ips[0].GetProperty("active_interface").GetString());
                Assert.Equal(System.Text.Json.JsonValueKind.Null, ips[1].GetProperty("pnn").ValueKind);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task IpReallocateGivesUpAtTheRuntimeLimitWithoutALeader()
    {
        var dir = Path.Combine("/tmp", "sc-kr-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            // No RECMASTER: nobody answers the takeover-run request.
            var state = FakeState.Parse("NODEMAP\n0 192.168.20.41 0x0 CURRENT\n1 192.168.20.42 0x0\n");
            var socket = Path.Combine(dir, "s.sock");
            await using var daemon = FakeCtdbd.Start(state, socket, dir, Path.Combine(dir, "db"));
            var env = new Dictionary<string, string?> { ["CTDB_SOCKET"] = socket, ["CTDB_BASE"] = dir };
            var (rc, output) = await Run(env, "-t", "1", "-T", "3", "ipreallocate");
            Assert.Equal(110, rc);
            Assert.Contains("IP reallocation failed: no leader answered the takeover run request within 3 seconds", output,
                StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
