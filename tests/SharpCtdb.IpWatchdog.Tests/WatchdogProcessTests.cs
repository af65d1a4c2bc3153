using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SharpCtdb.IpWatchdog.Tests;

/// <summary>
/// The real watchdog program inside a network namespace of our own (scA-…): it really removes the address with
/// <c>ip addr del</c> when its stdin closes (ctdbd died) or when the lease runs out (ctdbd hung / cut off).
/// </summary>
public sealed partial class WatchdogProcessTests
{
    private static int _counter;

    [Fact]
    public async Task Stdin_eof_drops_the_address_at_once()
    {
        using var ns = TestNetns.Create();
        ns.Ip("addr add 198.51.100.101/24 dev scAd0");
        await using var wd = WatchdogProcess.Start(ns.Name);
        await wd.SendAsync($"lease {Stopwatch.GetTimestamp() + Stopwatch.Frequency * 60}");
        await wd.SendAsync("add scAd0 198.51.100.101 24");
        Assert.True(ns.HasAddress("198.51.100.101"));
        var sw = Stopwatch.StartNew();
        wd.CloseStdin();
        var line = await wd.ReadLineAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("dropped 198.51.100.101 scAd0 ctdbd exited", line);
        Assert.False(ns.HasAddress("198.51.100.101"));
        Assert.True(await wd.WaitExitAsync(TimeSpan.FromSeconds(30)));
        // Not a timing assert on the result: recorded for the report.
        TestContext.Current.SendDiagnosticMessage($"EOF to address gone: {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Lease_expiry_drops_the_address_and_reports_it_while_other_addresses_are_forgotten()
    {
        using var ns = TestNetns.Create();
        ns.Ip("addr add 198.51.100.101/24 dev scAd0");
        ns.Ip("addr add 198.51.100.102/24 dev scAd0");
        await using var wd = WatchdogProcess.Start(ns.Name);
        var now = Stopwatch.GetTimestamp();
        await wd.SendAsync($"lease {now + Stopwatch.Frequency * 3}"); // long enough for a slow start on a loaded machine
        await wd.SendAsync("add scAd0 198.51.100.101 24");
        await wd.SendAsync("add scAd0 198.51.100.102 24");
        await wd.SendAsync("del 198.51.100.102");
        var line = await wd.ReadLineAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("dropped 198.51.100.101 scAd0 ownership lease expired", line);
        Assert.True(Stopwatch.GetTimestamp() >= now + Stopwatch.Frequency * 3);
        Assert.False(ns.HasAddress("198.51.100.101"));
        Assert.True(ns.HasAddress("198.51.100.102")); // released normally, no longer the watchdog's business
        // It stays alive for the daemon; a new lease re-arms it.
        await wd.SendAsync($"lease {Stopwatch.GetTimestamp() + Stopwatch.Frequency * 60}");
        ns.Ip("addr add 198.51.100.101/24 dev scAd0");
        await wd.SendAsync("add scAd0 198.51.100.101 24");
        // A shutting-down ctdbd hands its addresses over early: "drop" removes them although the lease still runs.
        await wd.SendAsync("drop");
        Assert.StartsWith("dropped 198.51.100.101 scAd0 ctdbd shutting down", await wd.ReadLineAsync(TimeSpan.FromSeconds(30)));
        Assert.False(ns.HasAddress("198.51.100.101"));
        wd.CloseStdin();
        Assert.True(await wd.WaitExitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>A netns with an interface scAd0 (up; one end of a veth pair).</summary>
    private sealed class TestNetns : IDisposable
    {
        public string Name { get; }

        private TestNetns(string name) => Name = name;

        public static TestNetns Create()
        {
            Assert.SkipUnless(geteuid() == 0, "needs root (network namespaces)");
            var name = $"scA-wd{Environment.ProcessId % 100000}-{Interlocked.Increment(ref _counter)}";
            Run("ip", $"netns add {name}");
            var ns = new TestNetns(name);
            try
            {
                ns.Ip("link add scAd0 type veth peer name scAd1"); // no dummy module on every kernel
                ns.Ip("link set scAd0 up");
                ns.Ip("link set scAd1 up");
            }
            catch
            {
                ns.Dispose();
                throw;
            }
            return ns;
        }

        public string Ip(string args) => Run("ip", $"-n {Name} {args}");

        public bool HasAddress(string addr) => Ip("-o addr show dev scAd0").Contains($" {addr}/", StringComparison.Ordinal);

        public void Dispose()
        {
            try
            {
                Run("ip", $"netns del {Name}");
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    private sealed class WatchdogProcess : IAsyncDisposable
    {
        private readonly Process _p;

        private WatchdogProcess(Process p) => _p = p;

        /// <summary>Runs the watchdog with `ip netns exec NS` (the same program the daemon starts).</summary>
        public static WatchdogProcess Start(string ns)
        {
            var exe = Path.Combine(AppContext.BaseDirectory, "ctdb_ip_watchdog");
            var psi = new ProcessStartInfo("ip") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "netns", "exec", ns, exe })
                psi.ArgumentList.Add(a);
            return new WatchdogProcess(Process.Start(psi)!);
        }

        public async Task SendAsync(string line)
        {
            await _p.StandardInput.WriteLineAsync(line);
            await _p.StandardInput.FlushAsync();
        }

        public void CloseStdin() => _p.StandardInput.Close();

        public async Task<string?> ReadLineAsync(TimeSpan limit) =>
            await _p.StandardOutput.ReadLineAsync().WaitAsync(limit);

        public async Task<bool> WaitExitAsync(TimeSpan limit)
        {
            try
            {
                await _p.WaitForExitAsync().WaitAsync(limit);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_p.HasExited)
            {
                _p.Kill();
                await _p.WaitForExitAsync();
            }
            _p.Dispose();
        }
    }

    private static string Run(string file, string args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {args}: {err.Result}");
        return output;
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
