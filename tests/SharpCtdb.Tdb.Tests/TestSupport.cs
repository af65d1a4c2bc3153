using System.Diagnostics;
using System.Text;

namespace SharpCtdb.Tdb.Tests;

/// <summary>A fresh /tmp/sc-tdb-* directory, removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = Directory.CreateTempSubdirectory("sc-tdb-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Sub(string name) => Directory.CreateDirectory(File(name)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}

internal static class Tools
{
    /// <summary>Runs a tool to completion (30 s limit) and returns its stdout; fails the test on a non-zero exit.</summary>
    public static string Run(string file, string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        if (stdin is not null)
            p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            p.Kill();
            p.WaitForExit();
            throw new TimeoutException($"{file} did not finish");
        }
        Assert.True(p.ExitCode == 0, $"{file} exited {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    /// <summary>Parses tdbdump output into (key, value) pairs, decoding its \XX escapes.</summary>
    public static List<(byte[] Key, byte[] Value)> ParseTdbDump(string output)
    {
        var result = new List<(byte[], byte[])>();
        byte[]? key = null;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("key(", StringComparison.Ordinal))
                key = DecodeQuoted(line);
            else if (line.StartsWith("data(", StringComparison.Ordinal))
            {
                Assert.NotNull(key);
                result.Add((key, DecodeQuoted(line)));
                key = null;
            }
        }
        return result;
    }

    private static byte[] DecodeQuoted(string line)
    {
        var open = line.IndexOf("= \"", StringComparison.Ordinal) + 3;
        var body = line[open..^1];
        var declared = int.Parse(line[(line.IndexOf('(') + 1)..line.IndexOf(')')], System.Globalization.CultureInfo.InvariantCulture);
        var bytes = new List<byte>();
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] == '\\')
            {
                bytes.Add(Convert.ToByte(body.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add((byte)body[i]);
            }
        }
        Assert.Equal(declared, bytes.Count);
        return [.. bytes];
    }

    public static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
