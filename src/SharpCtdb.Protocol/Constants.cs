namespace SharpCtdb.Protocol;

/// <summary>Packet operations (ctdb_req_header.operation).</summary>
public enum Operation : uint
{
    ReqCall = 0,
    ReplyCall = 1,
    ReqDmaster = 2,
    ReplyDmaster = 3,
    ReplyError = 4,
    ReqMessage = 5,
    ReqControl = 7,
    ReplyControl = 8,
    ReqKeepalive = 9,
    ReqTunnel = 10,
}

/// <summary>Well-known node numbers and header constants.</summary>
public static class Pnn
{
    public const uint CurrentNode = 0xF0000001;
    public const uint BroadcastAll = 0xF0000002;
    public const uint BroadcastActive = 0xF0000003;
    public const uint BroadcastConnected = 0xF0000004;
    public const uint Multicast = 0xF0000005;
    public const uint Unknown = 0xFFFFFFFF;

    public static bool IsBroadcast(uint pnn) => pnn is BroadcastAll or BroadcastActive or BroadcastConnected or Multicast;
}

public static class Wire
{
    /// <summary>"CTDB" read as a little-endian u32.</summary>
    public const uint Magic = 0x43544442;
    public const uint ProtocolVersion = 1;
    public const int HeaderSize = 32;
    public const uint InvalidGeneration = 1;
    /// <summary>Default TCP port of the node transport.</summary>
    public const int DefaultPort = 4379;
    /// <summary>Largest packet we accept from a peer or client; anything larger is treated as garbage.</summary>
    public const int MaxPacketSize = 64 * 1024 * 1024;

    public static int Align8(int n) => (n + 7) & ~7;
}

/// <summary>Node flags (node_and_flags.flags).</summary>
[Flags]
public enum NodeFlags : uint
{
    None = 0,
    Disconnected = 0x01,
    Unhealthy = 0x02,
    PermanentlyDisabled = 0x04,
    Banned = 0x08,
    Deleted = 0x10,
    Stopped = 0x20,
    /// <summary>Tool-internal marker, never sent by a daemon.</summary>
    Unknown = 0x40,
    Disabled = Unhealthy | PermanentlyDisabled,
    Inactive = Deleted | Disconnected | Banned | Stopped,
}

[Flags]
public enum Capabilities : uint
{
    None = 0,
    Recmaster = 0x1,
    Lmaster = 0x2,
    Lvs = 0x4,
    Natgw = 0x8,
    ParallelRecovery = 0x10000,
    FragmentedControls = 0x20000,
    Default = Recmaster | Lmaster | ParallelRecovery | FragmentedControls,
}

public enum RunState : uint
{
    Unknown = 0,
    Init = 1,
    Setup = 2,
    FirstRecovery = 3,
    Startup = 4,
    Running = 5,
    Shutdown = 6,
}

public enum RecoveryMode : uint
{
    Normal = 0,
    Active = 1,
}

/// <summary>REQ_CONTROL flags.</summary>
[Flags]
public enum ControlFlags : uint
{
    None = 0,
    NoReply = 0x1,
    PublicIpOnlyAvailable = 0x00010000,
    AttachRecovery = 0x00020000,
}

/// <summary>Database flags as reported in GET_DBMAP.</summary>
[Flags]
public enum DbFlags : byte
{
    None = 0,
    Persistent = 0x01,
    ReadOnly = 0x02,
    Sticky = 0x04,
    Replicated = 0x08,
}

/// <summary>Well-known message ports.</summary>
public static class Srvid
{
    public const ulong Recovery = 0xF001000000000000;
    public const ulong Banning = 0xF002000000000000;
    public const ulong Election = 0xF100000000000000;
    public const ulong Leader = 0xF101000000000000;
    public const ulong Reconfigure = 0xF200000000000000;
    public const ulong ReleaseIp = 0xF300000000000000;
    public const ulong TakeIp = 0xF301000000000000;
    public const ulong SetNodeFlags = 0xF400000000000000;
    public const ulong RecdUpdateIp = 0xF500000000000000;
    public const ulong VacuumFetch = 0xF700000000000000;
    public const ulong DetachDatabase = 0xF701000000000000;
    public const ulong MemDump = 0xF800000000000000;
    public const ulong GetLog = 0xF801000000000000;
    public const ulong ClearLog = 0xF802000000000000;
    public const ulong PushNodeFlags = 0xF900000000000000;
    public const ulong ReloadNodes = 0xFA00000000000000;
    public const ulong TakeoverRun = 0xFB00000000000000;
    public const ulong RebalanceNode = 0xFB01000000000000;
    public const ulong DisableTakeoverRuns = 0xFB03000000000000;
    public const ulong DisableRecoveries = 0xFB04000000000000;
    public const ulong DisableIpCheck = 0xFC00000000000000;
    public const ulong SambaNotify = 0xFE00000000000000;
    public const ulong ToolRange = 0xCE00000000000000;
    public const ulong ClientRange = 0xBE00000000000000;
    public const ulong TestRange = 0xAE00000000000000;
    public const ulong All = 0xFFFFFFFFFFFFFFFF;
}

/// <summary>Call ids for REQ_CALL.</summary>
public static class CallId
{
    public const uint NullFunc = 0xFF000001;
    public const uint FetchFunc = 0xFF000002;
    public const uint FetchWithHeaderFunc = 0xFF000003;
}
