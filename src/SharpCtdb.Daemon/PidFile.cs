using SharpCtdb.Config.Logging;

namespace SharpCtdb.Daemon;

/// <summary>RUNDIR/ctdbd.pid, fcntl-locked for the daemon's lifetime so a second ctdbd refuses to start (exit 11).</summary>
internal sealed class PidFile : IDisposable
{
    private readonly FileStream _stream;
    private readonly string _path;
    private bool _removed;

    private PidFile(FileStream stream, string path)
    {
        _stream = stream;
        _path = path;
    }

    public static PidFile? TryCreate(string path, CtdbLog log)
    {
        FileStream fs;
        try
        {
            var dir = Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(dir))
                Directory.CreateDirectory(dir);
            // FileShare.ReadWrite: .NET would otherwise take an flock(); we want a POSIX fcntl lock like ctdbd.
            fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error($"Failed to create pid file {path}: {e.Message}");
            return null;
        }
        if (!Native.TryLockFile(fs.SafeFileHandle.DangerousGetHandle()))
        {
            log.Error($"Unable to lock pid file {path}: another ctdbd is running");
            Console.Error.WriteLine($"Unable to lock pid file {path}: another ctdbd is running");
            fs.Dispose();
            return null;
        }
        fs.SetLength(0);
        var bytes = System.Text.Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n");
        fs.Write(bytes);
        fs.Flush();
        return new PidFile(fs, path);
    }

    public void Remove()
    {
        if (_removed)
            return;
        _removed = true;
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
        }
    }

    public void Dispose() => _stream.Dispose();
}
