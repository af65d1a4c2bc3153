using System.Text.Json;

namespace SharpCtdb.Protocol.Tests;

/// <summary>One packet captured between the real ctdb tool and the real ctdbd.</summary>
/// <summary>For node-to-node recordings <see cref="From"/>/<see cref="To"/> are the node addresses and ToDaemon is false.</summary>
public sealed record GoldenPacket(int Conn, bool ToDaemon, byte[] Bytes, string? From = null, string? To = null)
{
    public bool IsNodeTraffic => From is not null;

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
            Assert.True(dir is "to-daemon" or "to-client" or "to-node", $"{name}: unexpected direction {dir}");
            string? from = null, to = null;
            if (dir == "to-node")
            {
                from = p.GetProperty("from").GetString();
                to = p.GetProperty("to").GetString();
            }
            packets.Add(new GoldenPacket(p.GetProperty("conn").GetInt32(), dir == "to-daemon",
                Convert.FromHexString(p.GetProperty("hex").GetString()!), from, to));
        }
        return new GoldenRecording(name, root.GetProperty("name").GetString()!, root.GetProperty("exit").GetInt32(),
            root.GetProperty("stdout").GetString()!, root.GetProperty("stderr").GetString()!, packets);
    }

    /// <summary>Each REQ_CONTROL with its REPLY_CONTROL (same reqid, on the same client connection or between the same
    /// two nodes in the opposite direction, first one after the request); null when no reply was captured.</summary>
    public IEnumerable<(ReqControl Request, ReplyControl? Reply)> Controls()
    {
        for (var i = 0; i < Packets.Count; i++)
        {
            var p = Packets[i];
            if (p.Header.Operation != Operation.ReqControl || !(p.ToDaemon || p.IsNodeTraffic))
                continue;
            var req = ReqControl.Decode(p.Bytes);
            ReplyControl? reply = null;
            for (var j = 0; j < Packets.Count && reply is null; j++)
            {
                var q = Packets[j];
                if (q.Header.Operation != Operation.ReplyControl || q.Header.ReqId != req.Header.ReqId)
                    continue;
                var samePeer = p.IsNodeTraffic ? q.From == p.To && q.To == p.From && j > i : !q.ToDaemon && q.Conn == p.Conn;
                if (samePeer)
                    reply = ReplyControl.Decode(q.Bytes);
            }
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
        Packets.Where(p => !p.ToDaemon && !p.IsNodeTraffic && p.Header.Operation == Operation.ReqMessage).Select(p => ReqMessage.Decode(p.Bytes));
}
