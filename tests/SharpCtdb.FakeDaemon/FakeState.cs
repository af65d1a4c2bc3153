using System.Globalization;
using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.FakeDaemon;

public sealed class FakeNode
{
    public uint Pnn { get; set; }
    public IPAddress Address { get; set; } = IPAddress.Any;
    public NodeFlags Flags { get; set; }
    public Capabilities Capabilities { get; set; } = Capabilities.Recmaster | Capabilities.Lmaster;
    /// <summary>Controls sent to this node are never answered.</summary>
    public bool Timeout { get; set; }
}

public sealed class FakeIface
{
    public required string Name { get; init; }
    public bool LinkUp { get; set; }
    public uint References { get; set; }
}

public sealed class FakeDb
{
    public uint Id { get; init; }
    public required string Name { get; init; }
    public DbFlags Flags { get; set; }
    public ulong Seqnum { get; set; }
    public string Path { get; set; } = "";
}

public sealed class FakePublicIp
{
    public required IPAddress Address { get; init; }
    public uint Pnn { get; set; }
    /// <summary>Nodes that may host the address; null = every node.</summary>
    public uint[]? Allowed { get; init; }
}

public enum FailureKind { Error, Timeout }

public sealed record ControlFailure(ControlOpcode Opcode, uint Pnn, FailureKind Kind, string Comment);

/// <summary>
/// The cluster a fake daemon pretends to be, in upstream fake_ctdbd's text grammar (conformance/tool/README.md):
/// NODEMAP, IFACES, VNNMAP, DBMAP, PUBLICIPS, RECLOCK, RUNSTATE, CONTROLFAILS sections separated by blank lines.
/// </summary>
public sealed class FakeState
{
    public List<FakeNode> Nodes { get; } = [];
    public uint CurrentPnn { get; set; }
    /// <summary>The leader (RECMASTER token); Unknown when none was named.</summary>
    public uint LeaderPnn { get; set; } = Pnn.Unknown;
    public List<FakeIface> Ifaces { get; } = [];
    public uint Generation { get; set; }
    public List<uint> VnnMap { get; } = [];
    public RecoveryMode RecMode { get; set; }
    public List<FakeDb> Dbs { get; } = [];
    public List<FakePublicIp> PublicIps { get; } = [];
    public string? Reclock { get; set; }
    public RunState RunState { get; set; } = RunState.Running;
    public List<ControlFailure> ControlFailures { get; } = [];
    public bool UseNodesCommand { get; set; }

    public FakeNode? Node(uint pnn) => Nodes.Find(n => n.Pnn == pnn);

    public static FakeState Parse(string text)
    {
        var state = new FakeState();
        var lines = text.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        string? section = null;
        var vnnLines = new List<string>();
        var sawVnnmap = false;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                section = null;
                continue;
            }
            if (section is null)
            {
                section = line;
                if (section == "USENODESCOMMAND")
                {
                    state.UseNodesCommand = true;
                    section = null;
                }
                else if (section == "VNNMAP")
                {
                    sawVnnmap = true;
                }
                else if (section is not ("NODEMAP" or "IFACES" or "DBMAP" or "PUBLICIPS" or "RECLOCK" or "RUNSTATE" or "CONTROLFAILS"))
                {
                    throw new FormatException($"unknown section '{section}'");
                }
                continue;
            }
            var f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            switch (section)
            {
                case "NODEMAP":
                    state.ParseNode(f);
                    break;
                case "IFACES":
                    if (line.StartsWith(":Name:", StringComparison.Ordinal))
                        break;
                    var parts = line.Split(':');
                    if (parts.Length < 4)
                        throw new FormatException($"bad IFACES line '{line}'");
                    state.Ifaces.Add(new FakeIface { Name = parts[1], LinkUp = ParseU32(parts[2]) != 0, References = ParseU32(parts[3]) });
                    break;
                case "VNNMAP":
                    vnnLines.Add(f[0]);
                    break;
                case "DBMAP":
                    state.ParseDb(f);
                    break;
                case "PUBLICIPS":
                    var pnn = f[1] == "-1" ? Pnn.Unknown : ParseU32(f[1]);
                    uint[]? allowed = f.Length > 2 ? [.. f[2].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ParseU32)] : null;
                    state.PublicIps.Add(new FakePublicIp { Address = IPAddress.Parse(f[0]), Pnn = pnn, Allowed = allowed });
                    break;
                case "RECLOCK":
                    state.Reclock = line;
                    break;
                case "RUNSTATE":
                    state.RunState = ParseRunState(f[0]) ?? throw new FormatException($"bad runstate '{f[0]}'");
                    break;
                case "CONTROLFAILS":
                    var kind = f[2] switch
                    {
                        "ERROR" => FailureKind.Error,
                        "TIMEOUT" => FailureKind.Timeout,
                        _ => throw new FormatException($"bad CONTROLFAILS kind '{f[2]}'"),
                    };
                    state.ControlFailures.Add(new ControlFailure((ControlOpcode)ParseU32(f[0]), ParseU32(f[1]), kind,
                        string.Join(' ', f.Skip(3))));
                    break;
            }
        }
        if (sawVnnmap && vnnLines.Count > 0)
        {
            state.Generation = ParseU32(vnnLines[0]);
            state.VnnMap.AddRange(vnnLines.Skip(1).Select(ParseU32));
        }
        else
        {
            // Without a VNNMAP the generation is random (never INVALID) and the map holds the active nodes.
            state.Generation = (uint)Random.Shared.Next(2, int.MaxValue);
        }
        return state;
    }

    private void ParseNode(string[] f)
    {
        var node = new FakeNode
        {
            Pnn = ParseU32(f[0]),
            Address = IPAddress.Parse(f[1]),
            Flags = (NodeFlags)ParseU32(f[2]),
        };
        foreach (var token in f.Skip(3))
        {
            switch (token)
            {
                case "CURRENT":
                    CurrentPnn = node.Pnn;
                    break;
                case "RECMASTER":
                    LeaderPnn = node.Pnn;
                    break;
                case "-CTDB_CAP_RECMASTER":
                    node.Capabilities &= ~Capabilities.Recmaster;
                    break;
                case "-CTDB_CAP_LMASTER":
                    node.Capabilities &= ~Capabilities.Lmaster;
                    break;
                case "TIMEOUT":
                    node.Timeout = true;
                    break;
                default:
                    throw new FormatException($"bad NODEMAP token '{token}'");
            }
        }
        Nodes.Add(node);
    }

    private void ParseDb(string[] f)
    {
        var db = new FakeDb { Id = ParseU32(f[0]), Name = f[1] };
        foreach (var token in f.Skip(2))
        {
            switch (token)
            {
                case "PERSISTENT": db.Flags |= DbFlags.Persistent; break;
                case "STICKY": db.Flags |= DbFlags.Sticky; break;
                case "READONLY": db.Flags |= DbFlags.ReadOnly; break;
                case "REPLICATED": db.Flags |= DbFlags.Replicated; break;
                default: db.Seqnum = ParseU64(token); break;
            }
        }
        Dbs.Add(db);
    }

    public static RunState? ParseRunState(string name) => name.ToUpperInvariant() switch
    {
        "UNKNOWN" => RunState.Unknown,
        "INIT" => RunState.Init,
        "SETUP" => RunState.Setup,
        "FIRST_RECOVERY" => RunState.FirstRecovery,
        "STARTUP" => RunState.Startup,
        "RUNNING" => RunState.Running,
        "SHUTDOWN" => RunState.Shutdown,
        _ => null,
    };

    public static uint ParseU32(string s) => (uint)ParseU64(s);

    public static ulong ParseU64(string s) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);
}
