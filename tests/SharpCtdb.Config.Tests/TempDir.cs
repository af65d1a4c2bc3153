namespace SharpCtdb.Config.Tests;

/// <summary>A short-named scratch directory under /tmp, removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine("/tmp", "sc-cfg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, string content)
    {
        var p = System.IO.Path.Combine(Path, name);
        File.WriteAllText(p, content);
        return p;
    }

    public CtdbPaths TestModePaths() => CtdbPaths.FromEnvironment(new Dictionary<string, string?>
    {
        ["CTDB_TEST_MODE"] = "yes",
        ["CTDB_BASE"] = Path,
    });

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
