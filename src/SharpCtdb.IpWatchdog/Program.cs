using System.Diagnostics;
using System.Runtime.InteropServices;
using SharpCtdb.IpWatchdog;

// ctdb_ip_watchdog: started by ctdbd (stdin/stdout are pipes to it), outlives it in its own session, and removes
// the node's public addresses itself when ctdbd dies (stdin EOF), is hung, or is cut off from the cluster (the
// ownership lease it renews here runs out). See docs/failover-safety.md.
Native.NewSession();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => ctx.Cancel = true);
using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx => ctx.Cancel = true);
using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => ctx.Cancel = true);
var ipTool = args.Length == 2 && args[0] == "--ip" ? args[1] : "ip";
var watch = new LeaseWatch();
var stdin = new StreamReader(Console.OpenStandardInput());
var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
var dropper = new AddressDropper(ipTool, stdout);
var pending = stdin.ReadLineAsync();
while (true)
{
    var wait = watch.TicksUntilDeadline(Stopwatch.GetTimestamp()) is { } t
        ? TimeSpan.FromSeconds((double)t / Stopwatch.Frequency) + TimeSpan.FromMilliseconds(1)
        : Timeout.InfiniteTimeSpan;
    var done = await Task.WhenAny(pending, Task.Delay(wait));
    if (done == pending)
    {
        string? line;
        try
        {
            line = await pending;
        }
        catch (IOException)
        {
            line = null;
        }
        if (line is null)
        {
            // ctdbd is gone (killed, crashed or shut down): nobody renews the lease any more, drop at once.
            await dropper.DropAsync(watch.Lapse(), "ctdbd exited");
            return 0;
        }
        try
        {
            var why = line == "drop" ? "ctdbd shutting down" : "no valid ownership lease";
            await dropper.DropAsync(watch.Handle(line, Stopwatch.GetTimestamp()), why);
        }
        catch (FormatException e)
        {
            await stdout.WriteLineAsync($"log {e.Message}");
        }
        pending = stdin.ReadLineAsync();
    }
    await dropper.DropAsync(watch.Check(Stopwatch.GetTimestamp()), "ownership lease expired");
}

internal static partial class Native
{
    [LibraryImport("libc")]
    private static partial int setsid();

    /// <summary>Own session: a signal to ctdbd's process group (e.g. a restart script) must not take us down with it.</summary>
    public static void NewSession() => _ = setsid();
}
