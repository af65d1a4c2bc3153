using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Failover;

/// <summary>The controls a takeover run sends. Implemented by the leader over the node transport (and by test fakes).</summary>
public interface ITakeoverControls
{
    /// <summary>GET_PUBLIC_IPS to <paramref name="pnn"/>, with the ONLY_AVAILABLE flag when <paramref name="onlyAvailable"/>.</summary>
    Task<IReadOnlyList<PublicIp>> GetPublicIpsAsync(uint pnn, bool onlyAvailable, CancellationToken ct);

    /// <summary>RELEASE_IP to <paramref name="pnn"/>; <c>ip.Pnn</c> is the new owner or <see cref="Pnn.Unknown"/>.</summary>
    Task ReleaseIpAsync(uint pnn, PublicIp ip, CancellationToken ct);

    /// <summary>TAKEOVER_IP to <paramref name="pnn"/> (which is also <c>ip.Pnn</c>).</summary>
    Task TakeoverIpAsync(uint pnn, PublicIp ip, CancellationToken ct);

    /// <summary>IPREALLOCATED to <paramref name="pnn"/> (runs the ipreallocated event there).</summary>
    Task IpReallocatedAsync(uint pnn, CancellationToken ct);
}

/// <summary>
/// Optional first part of a run (behaviour §6.4 step 1): GET_ALL_TUNABLES and GET_NODEMAP from the leader itself.
/// The leader may instead pass its settings and node map directly to <see cref="TakeoverRunner.RunAsync(SharpCtdb.Protocol.NodeMap, IReadOnlyDictionary{uint, RunState}?, TakeoverSettings, IReadOnlyCollection{uint}, ITakeoverControls, SharpCtdb.Config.Logging.CtdbLog, TimeProvider, CancellationToken)"/>.
/// </summary>
public interface ITakeoverRunSource
{
    /// <summary>PNN of the leader (the node both controls go to).</summary>
    uint LeaderPnn { get; }

    /// <summary>GET_ALL_TUNABLES (plus the local [failover] disabled setting).</summary>
    Task<TakeoverSettings> GetSettingsAsync(CancellationToken ct);

    /// <summary>GET_NODEMAP from the leader.</summary>
    Task<NodeMap> GetNodeMapAsync(CancellationToken ct);
}

/// <summary>A control answered with a failure status.</summary>
public sealed class TakeoverControlException : Exception
{
    public TakeoverControlException(uint pnn, int status, string? message)
        : base(message ?? $"control failed on node {pnn} with status {status}")
    {
        Pnn = pnn;
        Status = status;
    }

    public TakeoverControlException()
        : this(SharpCtdb.Protocol.Pnn.Unknown, -1, null)
    {
    }

    public TakeoverControlException(string message)
        : this(SharpCtdb.Protocol.Pnn.Unknown, -1, message)
    {
    }

    public TakeoverControlException(string message, Exception inner)
        : base(message, inner)
    {
        Pnn = SharpCtdb.Protocol.Pnn.Unknown;
        Status = -1;
    }

    public uint Pnn { get; }

    /// <summary>The control's (non-zero) status; -1 for a generic failure.</summary>
    public int Status { get; }
}

/// <summary>Tunables and configuration a takeover run uses.</summary>
public sealed record TakeoverSettings(IpAllocAlgorithm Algorithm, bool NoIpTakeover, bool NoIpFailback, TimeSpan TakeoverTimeout, bool FailoverDisabled)
{
    /// <summary>CTDB defaults: LCP2, TakeoverTimeout 9 s, failover enabled.</summary>
    public static TakeoverSettings Default { get; } = new(IpAllocAlgorithm.Lcp2, false, false, TimeSpan.FromSeconds(9), false);
}

/// <summary>
/// Outcome of one takeover run. Status follows ctdb_takeover_helper's exit semantics: 0 success, the failing
/// control's status (normally -1) for a control error, 110 (ETIMEDOUT) when a control timed out.
/// </summary>
public sealed record TakeoverResult(
    int Status,
    IReadOnlyDictionary<uint, int> BanCredits,
    uint? Culprit,
    IReadOnlyList<string> Messages,
    IReadOnlyDictionary<IPAddress, uint> Assignment)
{
    public const int TimedOut = 110;

    public bool Succeeded => Status == 0;
}
