using System.Text.Json;

namespace SharpCtdb.FakeDaemon;

/// <summary>Command line of fake_ctdbd:
/// <c>fake_ctdbd --socket PATH --state FILE [--base DIR] [--dbdir DIR]</c> serves a state (a case .json or a
/// state_text file) until SIGTERM/SIGINT or stdin EOF with --stdin-exit;
/// <c>fake_ctdbd run-cases --tool PATH CASE.json...</c> runs conformance cases against a tool binary.</summary>
public static class FakeDaemonCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "run-cases")
            return await ConformanceCli.RunAsync(args[1..]).ConfigureAwait(false);
        string? socket = null, stateFile = null, baseDir = null, dbDir = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--socket": socket = Next(); break;
                case "--state": stateFile = Next(); break;
                case "--base": baseDir = Next(); break;
                case "--dbdir": dbDir = Next(); break;
                default:
                    await Console.Error.WriteLineAsync($"fake_ctdbd: unknown argument '{args[i]}'").ConfigureAwait(false);
                    return 2;
            }
        }
        if (socket is null || stateFile is null)
        {
            await Console.Error.WriteLineAsync("usage: fake_ctdbd --socket PATH --state FILE [--base DIR] [--dbdir DIR]\n" +
                "       fake_ctdbd run-cases --tool PATH CASE.json...").ConfigureAwait(false);
            return 2;
        }
        var text = await File.ReadAllTextAsync(stateFile).ConfigureAwait(false);
        if (stateFile.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            using var doc = JsonDocument.Parse(text);
            text = doc.RootElement.GetProperty("state_text").GetString() ?? "";
        }
        var state = FakeState.Parse(text);
        baseDir ??= Environment.GetEnvironmentVariable("CTDB_BASE") ?? Path.GetDirectoryName(Path.GetFullPath(socket))!;
        dbDir ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(socket))!, "db");
        using var done = new CancellationTokenSource();
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM,
            c => { c.Cancel = true; done.Cancel(); });
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; done.Cancel(); };
        await using var daemon = FakeCtdbd.Start(state, socket, baseDir, dbDir);
        try
        {
            await Task.Delay(Timeout.Infinite, done.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        return 0;
    }
}
