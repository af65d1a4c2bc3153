namespace SharpCtdb.Failover;

/// <summary>Values of the IPAllocAlgorithm tunable.</summary>
public enum IpAllocAlgorithm
{
    Deterministic = 0,
    NonDeterministic = 1,
    Lcp2 = 2,
}

public static class IpAllocAlgorithms
{
    /// <summary>Maps a tunable value to an algorithm; CTDB treats every unknown value as LCP2.</summary>
    public static IpAllocAlgorithm FromTunable(uint value) => value switch
    {
        0 => IpAllocAlgorithm.Deterministic,
        1 => IpAllocAlgorithm.NonDeterministic,
        _ => IpAllocAlgorithm.Lcp2,
    };

    /// <summary>Parses the CLI spelling (det, nondet, lcp2) or a number.</summary>
    public static bool TryParse(string text, out IpAllocAlgorithm algorithm)
    {
        switch (text.ToLowerInvariant())
        {
            case "det" or "deterministic":
                algorithm = IpAllocAlgorithm.Deterministic;
                return true;
            case "nondet" or "nondeterministic" or "non-deterministic":
                algorithm = IpAllocAlgorithm.NonDeterministic;
                return true;
            case "lcp2":
                algorithm = IpAllocAlgorithm.Lcp2;
                return true;
        }
        if (uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v))
        {
            algorithm = FromTunable(v);
            return true;
        }
        algorithm = IpAllocAlgorithm.Lcp2;
        return false;
    }

    public static string NameOf(IpAllocAlgorithm algorithm) => algorithm switch
    {
        IpAllocAlgorithm.Deterministic => "DETERMINISTIC",
        IpAllocAlgorithm.NonDeterministic => "NONDETERMINISTIC",
        _ => "LCP2",
    };
}
