using System.Diagnostics;
using SharpCtdb.Events;
using SharpCtdb.Failover;

namespace SharpCtdb.Tool;

public static partial class Cmd
{
    private const string HelperDir = "/usr/libexec/ctdb";

    /// <summary>Runs a helper program with the tool's environment, passing its output and exit status through.
    /// The child (and anything it started) is killed if the tool gives up (-T).</summary>
    public static async Task<int> RunHelperAsync(ToolContext ctx, string program, IEnumerable<string> args)
    {
        var inherit = ReferenceEquals(ctx.Out, Console.Out) && ReferenceEquals(ctx.Err, Console.Error);
        var psi = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = !inherit,
            RedirectStandardError = !inherit,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in ctx.Env)
        {
            if (v is not null)
                psi.Environment[k] = v;
        }
        Process? p;
        try
        {
            p = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            await ctx.Err.WriteLineAsync($"Failed to run {program}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        if (p is null)
            return 1;
        using (p)
        {
            // Pipe reads do not observe cancellation: kill the helper (and what it started) as soon as we give up.
            using var kill = ctx.Cancelled.Register(() =>
            {
                try
                {
                    p.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
            });
            try
            {
                if (!inherit)
                {
                    var copyOut = CopyAsync(p.StandardOutput, ctx.Out, ctx.Cancelled);
                    var copyErr = CopyAsync(p.StandardError, ctx.Err, ctx.Cancelled);
                    await Task.WhenAll(copyOut, copyErr).ConfigureAwait(false);
                }
                await p.WaitForExitAsync(ctx.Cancelled).ConfigureAwait(false);
                return p.ExitCode;
            }
            catch (OperationCanceledException)
            {
                await p.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }
    }

    private static async Task CopyAsync(StreamReader from, TextWriter to, CancellationToken ct)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await from.ReadAsync(buffer.AsMemory(), ct).ConfigureAwait(false)) > 0)
            await to.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
    }

    private static async Task<int> NatgwLvsAsync(ToolContext ctx, string[] args, string envName, string helper)
    {
        var program = ctx.GetEnv(envName) is { Length: > 0 } h ? h : Path.Combine(HelperDir, helper);
        return await RunHelperAsync(ctx, program, args).ConfigureAwait(false);
    }

    public static Task<int> NatgwAsync(ToolContext ctx, string[] args) => NatgwLvsAsync(ctx, args, "CTDB_NATGW_HELPER", "ctdb_natgw");

    public static Task<int> LvsAsync(ToolContext ctx, string[] args) => NatgwLvsAsync(ctx, args, "CTDB_LVS_HELPER", "ctdb_lvs");

    public static Task<int> EventAsync(ToolContext ctx, string[] args) => Task.FromResult(EventCli.Run(args, ctx.Out, ctx.Err, ctx.Paths(), ctx.Options.Json));

    public static Task<int> ScriptStatusAsync(ToolContext ctx, string[] args) =>
        Task.FromResult(EventCli.ScriptStatus(args, ctx.Out, ctx.Err, ctx.Paths(), ctx.Options.Json));

    public static Task<int> IpAllocAsync(ToolContext ctx, string[] args) => Task.FromResult(IpAllocCli.Run(args, ctx.Out, ctx.Err));
}
