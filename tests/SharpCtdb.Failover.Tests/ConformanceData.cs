namespace SharpCtdb.Failover.Tests;

/// <summary>Locates ../shared/conformance relative to the repository (the directory holding SharpCtdb.slnx).</summary>
internal static class ConformanceData
{
    public const string Missing = "<conformance directory missing>";

    public static string? RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SharpCtdb.slnx")))
                return dir.FullName;
        }
        return null;
    }

    public static string? Directory(string suite)
    {
        var root = RepoRoot();
        if (root is null)
            return null;
        var dir = Path.GetFullPath(Path.Combine(root, "..", "shared", "conformance", suite));
        return System.IO.Directory.Exists(dir) ? dir : null;
    }

    public static string RequireDirectory(string suite) =>
        Directory(suite) ?? throw new InvalidOperationException(
            $"conformance directory '../shared/conformance/{suite}' not found next to the repository root ({RepoRoot() ?? "SharpCtdb.slnx not found above " + AppContext.BaseDirectory})");

    /// <summary>Case names (file names without .json); a single <see cref="Missing"/> row when the data is absent so the theory fails loudly.</summary>
    public static TheoryData<string> CaseNames(string suite)
    {
        var data = new TheoryData<string>();
        var dir = Directory(suite);
        if (dir is null)
        {
            data.Add(Missing);
            return data;
        }
        foreach (var f in System.IO.Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(f));
        if (data.Count == 0)
            data.Add(Missing);
        return data;
    }

    public static string Read(string suite, string name)
    {
        var dir = RequireDirectory(suite);
        if (name == Missing)
            throw new InvalidOperationException($"no conformance cases found in {dir}");
        return File.ReadAllText(Path.Combine(dir, name + ".json"));
    }
}
