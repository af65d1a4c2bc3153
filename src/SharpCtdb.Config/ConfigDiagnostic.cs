namespace SharpCtdb.Config;

/// <summary>One error or warning found while reading a configuration file; Line is 1-based (0 = whole file).</summary>
public sealed record ConfigDiagnostic(string File, int Line, string Message)
{
    public override string ToString() => $"{File}:{Line}: {Message}";
}
