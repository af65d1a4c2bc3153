using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using SharpCtdb.TestSupport;

namespace SharpCtdb.Tool.Tests;

/// <summary>
/// `ctdb tickle` (our tool and Debian's 4.17, both run with `ip netns exec` in a namespace of the test's own, so
/// every packet stays there): the tickle ACK on the wire, and exit codes and texts for bad input and failed sends.
/// </summary>
public sealed class TickleTests(TickleNamespace fixture) : IClassFixture<TickleNamespace>
{
    private const string Debian = "/usr/bin/ctdb";

    private static Task<ProcessResult> InNamespace(Netns ns, string tool, string? stdin, params string[] args) =>
        ChildProcess.RunAsync("ip", ["netns", "exec", ns.Name, tool, .. args], stdin: stdin, timeout: TimeSpan.FromSeconds(60));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public void Tickle_sends_debians_packet_and_the_peer_answers_with_a_real_ack(string loopback)
    {
        var ns = fixture.Namespace;
        var ip = IPAddress.Parse(loopback);
        var v4 = ip.AddressFamily == AddressFamily.InterNetwork;
        var ipLen = v4 ? 20 : 40;
        var (debian, ours) = ns.Run(() =>
        {
            using var listener = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(ip, 0));
            listener.Listen();
            using var client = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(listener.LocalEndPoint!);
            using var server = listener.Accept();
            var c = (IPEndPoint)client.LocalEndPoint!;
            var s = (IPEndPoint)server.LocalEndPoint!;
            // `ctdb tickle CLIENT SERVER`: the ACK goes from the second endpoint to the first.
            string[] args = ["tickle", Endpoint(c), Endpoint(s)];
            bool Segment(byte[] f, IPEndPoint from, IPEndPoint to) => f.Length >= 14 + ipLen + 20
                && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == (v4 ? 0x0800 : 0x86dd) && f[14 + (v4 ? 9 : 6)] == 6
                && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + ipLen)) == from.Port
                && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + ipLen + 2)) == to.Port;
            (byte[] Tickle, byte[] Answer) Capture(string tool)
            {
                using var cap = new PacketCapture("lo");
                var r = InNamespace(ns, tool, null, args).GetAwaiter().GetResult();
                Assert.True(r.ExitCode == 0 && r.Stdout.Length == 0 && r.Stderr.Length == 0, $"{tool} {string.Join(' ', args)}: {r}");
                var tickle = Assert.Single(cap.Collect(f => Segment(f, s, c), 1, TimeSpan.FromSeconds(20)));
                var answer = Assert.Single(cap.Collect(f => Segment(f, c, s), 1, TimeSpan.FromSeconds(20)));
                return (tickle[14..], answer[14..]);
            }
            return (Capture(Debian), Capture(InProcessTool.Binary));
        });
        var tcp = ours.Tickle.AsSpan(ipLen);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(tcp[4..])); // seq
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(tcp[8..])); // ack
        Assert.Equal(0x10, tcp[13]); // ACK only
        Assert.Equal(1234, BinaryPrimitives.ReadUInt16BigEndian(tcp[14..]));
        // Byte for byte Debian's packet, but for the IPv4 identification the kernel picks (and the header checksum over it).
        Assert.Equal(Convert.ToHexString(Normalise(debian.Tickle, v4)), Convert.ToHexString(Normalise(ours.Tickle, v4)));
        // The peer's stack answers our tickle with an ACK carrying its real sequence numbers, as it answers Debian's.
        foreach (var answer in new[] { debian.Answer, ours.Answer })
        {
            Assert.Equal(0x10, answer[ipLen + 13] & 0x17);
            Assert.NotEqual(0u, BinaryPrimitives.ReadUInt32BigEndian(answer.AsSpan(ipLen + 4)));
        }
    }

    private static string Endpoint(IPEndPoint e) => e.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{e.Address}]:{e.Port}" : e.ToString();

    private static byte[] Normalise(byte[] packet, bool v4)
    {
        var p = (byte[])packet.Clone();
        if (v4)
        {
            p.AsSpan(4, 2).Clear();
            p.AsSpan(10, 2).Clear();
        }
        return p;
    }

    private static readonly (string Stdin, string[] Args)[] BadInput =
    [
        ("", ["127.0.0.1:5"]),
        ("", ["127.0.0.1:5", "127.0.0.2:6", "x"]),
        ("", ["bad", "127.0.0.1:5"]),
        ("", ["127.0.0.1:5", "bad"]),
        ("", ["127.0.0.1", "127.0.0.2:5"]),
        ("", ["127.0.0.1:12a", "127.0.0.2:5"]),
        ("", ["127.0.0.1:-1", "127.0.0.2:5"]),
        ("", ["127.0.0.1:0x10", "127.0.0.2:5"]),
        ("", ["010.0.0.1:5", "127.0.0.2:5"]),
        ("", ["127.1:5", "127.0.0.2:5"]),
        ("", ["fe80::1%lo:5", "fe80::2%lo:6"]),
        ("", ["[::1]", "127.0.0.2:5"]),
        ("", ["-n", "1", "tickle", "127.0.0.1:5", "127.0.0.2:6"]),
        // Sends that fail: mixed families (EAFNOSUPPORT at sendto), no route in the empty namespace.
        ("", ["127.0.0.1:5", "::1:6"]),
        ("", ["10.1.1.1:5", "10.2.2.2:6"]),
        // Ports as 4.17 reads them: '+', leading zeros, and values past 65535 truncated; from stdin.
        ("", ["127.0.0.1:+5", "127.0.0.2:070000"]),
        ("garbage\n127.0.0.1:7 127.0.0.2:8\n", []),
        ("127.0.0.1:7 ::1:8\n", []),
        ("  # indented\n", []),
        ("10.1.1.1:5 10.2.2.2:6\n10.1.1.1:7 10.2.2.2:8\n", []),
        ("# comment\n\n127.0.0.1:9\t127.0.0.2:10 extra\n", []),
        ("", []),
    ];

    [Fact]
    public async Task Exit_codes_and_messages_match_debians_tool()
    {
        var ns = fixture.Namespace;
        // All cases at once (each tool start costs ~100 ms-1 s on a loaded CI machine); mismatches are reported together.
        var results = await Task.WhenAll(BadInput.Select(async c =>
        {
            string[] argv = c.Args.Length > 0 && c.Args[0] == "-n" ? c.Args : ["tickle", .. c.Args];
            var expected = InNamespace(ns, Debian, c.Stdin, argv);
            var actual = InNamespace(ns, InProcessTool.Binary, c.Stdin, argv);
            return (Case: $"ctdb {string.Join(' ', argv)} <<< {c.Stdin.ReplaceLineEndings("\\n")}", Expected: await expected, Actual: await actual);
        }));
        var mismatches = results.Where(r => r.Expected.TimedOut
                || (r.Expected.ExitCode, r.Expected.Stdout, r.Expected.Stderr) != (r.Actual.ExitCode, r.Actual.Stdout, r.Actual.Stderr))
            .Select(r => $"{r.Case}\n  Debian: {r.Expected}\n  ours:   {r.Actual}").ToList();
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }
}

/// <summary>One network namespace (prefix scT-) for all tickle tests: loopback up, no routes beyond it.</summary>
public sealed class TickleNamespace : IDisposable
{
    private readonly Lazy<Netns> _ns = new(() =>
    {
        var ns = Netns.Create("tk", "scT-");
        // Both tools tickle the same connection; without this the peer's out-of-window answers are rate limited.
        ns.Run(() =>
        {
            File.WriteAllText("/proc/sys/net/ipv4/tcp_invalid_ratelimit", "0");
            return 0;
        });
        return ns;
    });

    /// <summary>Created on first use, so that a test without root is skipped rather than failing in the fixture.</summary>
    public Netns Namespace => _ns.Value;

    public void Dispose()
    {
        if (_ns.IsValueCreated)
            _ns.Value.Dispose();
    }
}
