using System.Text.Json;

namespace SharpCtdb.Protocol.Tests;

/// <summary>One packet captured between the real ctdb tool and the real ctdbd.</summary>
public sealed record GoldenPacket(int Conn, bool ToDaemon, byte[] Bytes)
{
    public PacketHeader Header => PacketHeader.Read(Bytes);
}

/// <summary>A recording made by scripts/record-ctdb-traffic (one `ctdb` command).</summary>
public sealed record GoldenRecording(string File, string Name, int Exit, string Stdout, string Stderr, IReadOnlyList<GoldenPacket> Packets)
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Golden");

    public static IEnumerable<string> AllFiles() =>
        Directory.GetFiles(Dir, "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!;

    public static GoldenRecording Load(string name)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(Path.Combine(Dir, name + ".json")));
        var root = doc.RootElement;
        var packets = new List<GoldenPacket>();
        foreach (var p in root.GetProperty("packets").EnumerateArray())
        {
            var dir = p.GetProperty("dir").GetString();
            Assert.True(dir is "to-daemon" or "to-client", $"{name}: unexpected direction {dir}");
            packets.Add(new GoldenPacket(p.GetProperty("conn").GetInt32(), dir == "to-daemon",
                Convert.FromHexString(p.GetProperty("hex").GetString()!)));
        }
        return new GoldenRecording(name, root.GetProperty("name").GetString()!, root.GetProperty("exit").GetInt32(),
            root.GetProperty("stdout").GetString()!, root.GetProperty("stderr").GetString()!, packets);
    }

    public IEnumerable<(ReqControl Request, ReplyControl? Reply)> Controls()
    {
        var replies = Packets.Where(p => !p.ToDaemon && p.Header.Operation == Operation.ReplyControl)
            .Select(p => (p.Conn, Reply: ReplyControl.Decode(p.Bytes))).ToList();
        foreach (var p in Packets.Where(p => p.ToDaemon && p.Header.Operation == Operation.ReqControl))
        {
            var req = ReqControl.Decode(p.Bytes);
            var reply = replies.FirstOrDefault(r => r.Conn == p.Conn && r.Reply.Header.ReqId == req.Header.ReqId).Reply;
            yield return (req, reply);
        }
    }

    public (ReqControl Request, ReplyControl Reply) Control(ControlOpcode opcode, int index = 0)
    {
        var (req, rep) = Controls().Where(c => c.Request.Opcode == opcode).ElementAt(index);
        Assert.NotNull(rep);
        return (req, rep);
    }

    public IEnumerable<ReqMessage> MessagesToClient() =>
        Packets.Where(p => !p.ToDaemon && p.Header.Operation == Operation.ReqMessage).Select(p => ReqMessage.Decode(p.Bytes));
}
