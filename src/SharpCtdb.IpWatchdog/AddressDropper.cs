using System.Diagnostics;

namespace SharpCtdb.IpWatchdog;

/// <summary>Removes addresses with <c>ip addr del</c> (all in parallel) and reports each as <c>dropped ADDR</c>.</summary>
internal sealed class AddressDropper(string ipTool, TextWriter report)
{
    public async Task DropAsync(IReadOnlyList<HeldAddress> addresses, string why)
    {
        if (addresses.Count == 0)
            return;
        // Deleting a primary IPv4 address takes its secondaries with it unless they are promoted (10.interface's
        // init sets this for "all"; make sure, so other public addresses in the subnet survive).
        foreach (var iface in addresses.Where(a => !a.Address.Contains(':')).Select(a => a.Iface).Distinct())
            PromoteSecondaries(iface);
        var runs = addresses.Select(a => DelAsync(a)).ToList();
        await Task.WhenAll(runs);
        foreach (var (a, r) in addresses.Zip(runs))
            await report.WriteLineAsync($"dropped {a.Address} {a.Iface} {why}{(r.Result is { } err ? ": " + err : "")}");
    }

    private static void PromoteSecondaries(string iface)
    {
        if (iface.Contains('/') || iface.Contains(".."))
            return;
        try
        {
            File.WriteAllText($"/proc/sys/net/ipv4/conf/{iface}/promote_secondaries", "1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // not fatal: without it a secondary may go too, and the daemon re-takes what it still should host
        }
    }

    /// <summary>null on success or when the address was not there; else the error text.</summary>
    private async Task<string?> DelAsync(HeldAddress a)
    {
        var psi = new ProcessStartInfo(ipTool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "addr", "del", $"{a.Address}/{a.MaskBits}", "dev", a.Iface })
            psi.ArgumentList.Add(arg);
        try
        {
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            await p.StandardOutput.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill();
                await p.WaitForExitAsync();
                return "ip addr del timed out";
            }
            var text = (await err).Trim();
            // "Cannot assign requested address": it was not (or no longer) there, which is what we want.
            return p.ExitCode == 0 || text.Contains("Cannot assign requested address", StringComparison.Ordinal) ? null : text;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }
}
