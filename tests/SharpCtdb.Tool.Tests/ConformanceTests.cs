using SharpCtdb.FakeDaemon;

namespace SharpCtdb.Tool.Tests;

/// <summary>Every ../shared/conformance/tool/*.json case, run through our tool in-process against fake_ctdbd (one theory
/// row per case). The cases are split over four classes only so that xunit runs the quarters in parallel.</summary>
public abstract class ConformanceTests
{
    /// <summary>Cases whose data cannot be reproduced: upstream fed stdin to `ctdb ptrans`, the JSON does not carry it
    /// (the real 4.17 tool fails it the same way).</summary>
    private static readonly Dictionary<string, string> KnownDataGaps = new(StringComparer.Ordinal)
    {
        ["ctdb.ptrans.001"] = "the case lacks the stdin upstream piped into `ctdb ptrans`",
    };

    public static TheoryData<string> Cases0() => Cases(0);

    public static TheoryData<string> Cases1() => Cases(1);

    public static TheoryData<string> Cases2() => Cases(2);

    public static TheoryData<string> Cases3() => Cases(3);

    private static TheoryData<string> Cases(int quarter)
    {
        var dir = ConformanceRunner.FindCaseDirectory(AppContext.BaseDirectory);
        var files = Directory.GetFiles(dir, "*.json").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new InvalidOperationException($"no conformance cases in {dir}");
        var data = new TheoryData<string>();
        for (var i = quarter; i < files.Count; i += 4)
            data.Add(files[i]);
        return data;
    }

    protected static async Task RunCase(string file)
    {
        var path = Path.Combine(ConformanceRunner.FindCaseDirectory(AppContext.BaseDirectory), file);
        var c = ConformanceCase.Load(path);
        var result = await ConformanceRunner.RunAsync(c, InProcessTool.Invoke, InProcessTool.Binary, TestContext.Current.CancellationToken,
            FakeDaemonProcess.StartAsync);
        if (!result.Passed && KnownDataGaps.TryGetValue(c.Name, out var why))
            Assert.Skip($"{c.Name}: {why}\n{result.Describe()}");
        Assert.True(result.Passed, $"{c.Name} failed:\n{result.Describe()}");
    }
}

public sealed class ConformanceTestsA : ConformanceTests
{
    [Theory]
    [MemberData(nameof(Cases0), MemberType = typeof(ConformanceTests))]
    public Task Case(string file) => RunCase(file);
}

public sealed class ConformanceTestsB : ConformanceTests
{
    [Theory]
    [MemberData(nameof(Cases1), MemberType = typeof(ConformanceTests))]
    public Task Case(string file) => RunCase(file);
}

public sealed class ConformanceTestsC : ConformanceTests
{
    [Theory]
    [MemberData(nameof(Cases2), MemberType = typeof(ConformanceTests))]
    public Task Case(string file) => RunCase(file);
}

public sealed class ConformanceTestsD : ConformanceTests
{
    [Theory]
    [MemberData(nameof(Cases3), MemberType = typeof(ConformanceTests))]
    public Task Case(string file) => RunCase(file);
}

/// <summary>Runs our tool in this process with stdout and stderr merged, as a shell redirect of stderr into stdout would.</summary>
public static class InProcessTool
{
    /// <summary>The tool's executable next to the tests (what natgw/lvs helper scripts call back as $CTDB).</summary>
    public static string Binary => Path.Combine(AppContext.BaseDirectory, "ctdb");

    public static async Task<(int ExitCode, string Output)> Invoke(string[] argv, IReadOnlyDictionary<string, string?> env, CancellationToken ct)
    {
        using var sw = new StringWriter();
        var merged = TextWriter.Synchronized(sw);
        var rc = await ToolProgram.RunAsync(argv, env, merged, merged);
        await merged.FlushAsync(ct);
        return (rc, sw.ToString());
    }
}
