using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SharpCtdb.TestSupport;

/// <summary>
/// A network namespace created for one test (name prefixed with the caller's prefix, <c>scA-</c> by default; deleted on dispose). Code that must open
/// sockets inside it runs on a dedicated thread that joined the namespace with setns(2): a socket stays in the
/// namespace it was created in, whichever thread uses it later.
/// </summary>
public sealed partial class Netns : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private static int _counter;

    public string Name { get; }

    private Netns(string name) => Name = name;

    /// <summary>Skips the test unless we are root and iproute2 is there.</summary>
    public static void RequireRoot()
    {
        Assert.SkipUnless(geteuid() == 0, "needs root (network namespaces, raw sockets)");
        Assert.SkipUnless(File.Exists("/usr/sbin/ip") || File.Exists("/sbin/ip") || File.Exists("/usr/bin/ip"), "needs iproute2");
    }

    public static Netns Create(string tag, string prefix = "scA-")
    {
        RequireRoot();
        var name = $"{prefix}{tag}{Environment.ProcessId % 100000}-{Interlocked.Increment(ref _counter)}";
        Ip($"netns add {name}");
        var ns = new Netns(name);
        try
        {
            ns.Exec("link set lo up");
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>Runs <c>ip -n NAME ARGS</c>; throws with its stderr when it fails.</summary>
    public string Exec(string args) => Ip($"-n {Name} {args}");

    public static string Ip(string args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"ip {args} failed ({p.ExitCode}): {stderr}");
        return stdout.Result;
    }

    /// <summary>Runs <paramref name="f"/> on a fresh thread inside the namespace.</summary>
    public T Run<T>(Func<T> f)
    {
        T? result = default;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                using var fd = File.OpenHandle($"/run/netns/{Name}");
                if (setns((int)fd.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new InvalidOperationException($"setns({Name}) failed: errno {Marshal.GetLastPInvokeError()}");
                result = f();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        t.Start();
        t.Join();
        if (error is not null)
            throw new InvalidOperationException($"in netns {Name}: {error.Message}", error);
        return result!;
    }

    public void Dispose()
    {
        try
        {
            Ip($"netns del {Name}");
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
