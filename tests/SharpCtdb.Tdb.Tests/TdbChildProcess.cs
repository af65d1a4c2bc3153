using System.Diagnostics;
using System.Globalization;

namespace SharpCtdb.Tdb.Tests;

/// <summary>
/// A second process (this test executable in child mode) that opens a tdb and takes locks on command, standing in for
/// smbd / the ctdb tool. Needed because fcntl locks are per process and libtdb refuses a second open in one process.
/// Line protocol on stdin/stdout: lock|trylock|unlock HEX, lockall, unlockall, txstart, txcancel, store HEX HEX,
/// fetch HEX, count, flags,
/// quit. Replies "OK [value]", "BUSY", "NONE" or "ERR message". "-" stands for empty bytes.
/// </summary>
internal sealed class TdbChildProcess : IDisposable
{
    public const string Marker = "--sc-tdb-child";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private bool _disposed;

    private TdbChildProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public static TdbChildProcess Start(string path, int tdbFlags, int openFlags)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "SharpCtdb.Tdb.Tests");
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (File.Exists(exe))
        {
            psi.FileName = exe;
        }
        else
        {
            psi.FileName = "dotnet";
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SharpCtdb.Tdb.Tests.dll"));
        }
        psi.ArgumentList.Add(Marker);
        psi.ArgumentList.Add(path);
        psi.ArgumentList.Add(tdbFlags.ToString(CultureInfo.InvariantCulture));
        psi.ArgumentList.Add(openFlags.ToString(CultureInfo.InvariantCulture));
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start child");
        var child = new TdbChildProcess(process);
        var first = child.ReadLine();
        if (first != "READY")
        {
            child.Dispose();
            throw new InvalidOperationException($"child failed to open {path}: {first} {process.StandardError.ReadToEnd()}");
        }
        return child;
    }

    public string Send(string command)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
        return ReadLine();
    }

    public static string Hex(ReadOnlySpan<byte> data) => data.IsEmpty ? "-" : Convert.ToHexString(data);

    private string ReadLine()
    {
        var task = _process.StandardOutput.ReadLineAsync();
        if (!task.Wait(Deadline))
            throw new TimeoutException("child did not answer within 30 s");
        return task.Result ?? "EOF";
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Close();
            }
        }
        catch (IOException)
        {
            // Child already gone.
        }
        if (!_process.WaitForExit(Deadline))
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    /// <summary>Child side.</summary>
    public static int RunChild(string[] args)
    {
        TdbFile tdb;
        try
        {
            tdb = TdbFile.Open(args[1], 0, int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
        }
        catch (TdbException e)
        {
            Console.Out.WriteLine("ERR " + e.Message);
            return 1;
        }
        using (tdb)
        {
            Console.Out.WriteLine("READY");
            Console.Out.Flush();
            string? line;
            while ((line = Console.In.ReadLine()) is not null && line != "quit")
            {
                string reply;
                try
                {
                    reply = Execute(tdb, line.Split(' '));
                }
                catch (Exception e)
                {
                    reply = "ERR " + e.Message.ReplaceLineEndings(" ");
                }
                Console.Out.WriteLine(reply);
                Console.Out.Flush();
            }
        }
        return 0;
    }

    private static byte[] Unhex(string s) => s == "-" ? [] : Convert.FromHexString(s);

    private static string Execute(TdbFile tdb, string[] words)
    {
        switch (words[0])
        {
            case "lock":
                tdb.ChainLock(Unhex(words[1]));
                return "OK";
            case "trylock":
                return tdb.TryChainLock(Unhex(words[1])) ? "OK" : "BUSY";
            case "unlock":
                tdb.ChainUnlock(Unhex(words[1]));
                return "OK";
            case "lockall":
                tdb.LockAll();
                return "OK";
            case "unlockall":
                tdb.UnlockAll();
                return "OK";
            case "txstart":
                tdb.TransactionStart();
                return "OK";
            case "txcancel":
                tdb.TransactionCancel();
                return "OK";
            case "store":
                tdb.Store(Unhex(words[1]), Unhex(words[2]));
                return "OK";
            case "fetch":
                var value = tdb.Fetch(Unhex(words[1]));
                return value is null ? "NONE" : "OK " + Hex(value);
            case "count":
                return "OK " + tdb.Count().ToString(CultureInfo.InvariantCulture);
            case "flags":
                return "OK " + tdb.Flags.ToString(CultureInfo.InvariantCulture);
            default:
                return "ERR unknown command";
        }
    }
}
