using System.Text;
using SharpCtdb.Config;

namespace SharpCtdb.Events;

/// <summary>One event script in a component directory.</summary>
/// <param name="Name">Display name: file name without ".script" (e.g. "10.interface").</param>
/// <param name="Path">Full path in the component directory (may be a symlink).</param>
/// <param name="Enabled">stat (following symlinks) succeeded and the owner-execute bit is set — what `script list` shows as "*".</param>
public sealed record EventScriptEntry(string Name, string Path, bool Enabled);

/// <summary>What `ctdb event script list COMPONENT` prints: packaged scripts (with "linked" flags), then the rest.</summary>
/// <param name="Packaged">Scripts in DATADIR/events/COMPONENT; Linked = the component directory has a symlink to exactly that file.</param>
/// <param name="Installed">Scripts in the component directory that are not such links.</param>
public sealed record ScriptListing(IReadOnlyList<(string Name, bool Linked)> Packaged, IReadOnlyList<EventScriptEntry> Installed);

/// <summary>Result of a filesystem enable/disable: 0 or a positive errno plus the tool's message (null = silent).</summary>
public readonly record struct ScriptChangeResult(int Errno, string? Message)
{
    public static ScriptChangeResult Ok => default;
}

/// <summary>
/// The on-disk layout of event scripts (behaviour.md §9.1, checked against the 4.17 ctdb-event tool):
/// ETCDIR/events/COMPONENT/NN.name.script, packaged copies in DATADIR/events/COMPONENT/.
/// A file is a script iff its name is two ASCII digits, '.', anything (even empty), ".script". Junk names, hidden
/// files, "*.options", "1.x.script", "123.x.script" are ignored. Entries are sorted by byte order (alphasort in C).
/// </summary>
public sealed class ScriptDirectory(string eventsDir, string? dataEventsDir = null)
{
    public const string Suffix = ".script";

    /// <summary>ETCDIR/events.</summary>
    public string EventsDir { get; } = eventsDir;

    /// <summary>DATADIR/events (packaged scripts), or null when there is none.</summary>
    public string? DataEventsDir { get; } = dataEventsDir;

    public static ScriptDirectory FromPaths(CtdbPaths paths) =>
        new(paths.EventsDir, System.IO.Path.Combine(paths.DataDir, "events"));

    public string ComponentDir(string component) => System.IO.Path.Combine(EventsDir, component);

    public bool ComponentExists(string component) => Directory.Exists(ComponentDir(component));

    /// <summary>True for names like "10.interface.script" and "05..script"; false for "1.x.script", "05.script", "README".</summary>
    public static bool IsScriptFileName(string fileName) =>
        fileName.Length >= 3 + Suffix.Length
        && char.IsAsciiDigit(fileName[0])
        && char.IsAsciiDigit(fileName[1])
        && fileName[2] == '.'
        && fileName.EndsWith(Suffix, StringComparison.Ordinal);

    /// <summary>Byte-wise comparison of the UTF-8 names, i.e. strcmp in the C locale.</summary>
    public static int CompareNames(string a, string b)
    {
        var ba = Encoding.UTF8.GetBytes(a);
        var bb = Encoding.UTF8.GetBytes(b);
        return ba.AsSpan().SequenceCompareTo(bb);
    }

    /// <summary>Lists the scripts of <paramref name="component"/>, or null when the directory does not exist.</summary>
    public IReadOnlyList<EventScriptEntry>? List(string component) => ListDir(ComponentDir(component));

    private static List<EventScriptEntry>? ListDir(string dir)
    {
        string[] names;
        try
        {
            names = Directory.GetFileSystemEntries(dir);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var result = new List<EventScriptEntry>();
        foreach (var full in names)
        {
            var file = System.IO.Path.GetFileName(full);
            if (!IsScriptFileName(file))
                continue;
            var info = FileProbe.Stat(full);
            result.Add(new EventScriptEntry(file[..^Suffix.Length], full, info.Error == 0 && info.OwnerExecute));
        }
        result.Sort((x, y) => CompareNames(x.Name, y.Name));
        return result;
    }

    /// <summary>
    /// The `script list` view: packaged scripts flagged "*" when the component directory holds a symlink whose
    /// target text is exactly the packaged path; those links are not repeated in the second list.
    /// Returns the errno (ENOENT) when either directory is missing, as the 4.17 tool does.
    /// </summary>
    public int ListForTool(string component, out ScriptListing? listing)
    {
        listing = null;
        var dataDir = DataEventsDir is null ? null : System.IO.Path.Combine(DataEventsDir, component);
        var packaged = dataDir is null ? [] : ListDir(dataDir);
        if (packaged is null)
            return Errno.ENOENT;
        var installed = ListDir(ComponentDir(component));
        if (installed is null)
            return Errno.ENOENT;

        var packagedFlags = new List<(string, bool)>();
        var linked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in packaged)
        {
            var isLinked = false;
            foreach (var i in installed)
            {
                if (i.Name == p.Name && ReadLink(i.Path) == p.Path)
                {
                    isLinked = true;
                    linked.Add(i.Name);
                    break;
                }
            }
            packagedFlags.Add((p.Name, isLinked));
        }
        listing = new ScriptListing(packagedFlags, installed.Where(i => !linked.Contains(i.Name)).ToList());
        return 0;
    }

    private static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private string ScriptPath(string component, string name) => System.IO.Path.Combine(ComponentDir(component), name + Suffix);

    /// <summary>
    /// `ctdb event script enable`: a missing script is linked from the packaged directory (ENOENT if not packaged
    /// either); an existing symlink is left alone; a regular file gets u+g+o execute; anything else is EINVAL.
    /// </summary>
    public ScriptChangeResult Enable(string component, string name)
    {
        var path = ScriptPath(component, name);
        var kind = LinkKind(path);
        switch (kind)
        {
            case EntryKind.Missing:
                {
                    var packaged = DataEventsDir is null ? null : System.IO.Path.Combine(DataEventsDir, component, name + Suffix);
                    if (packaged is null || FileProbe.Stat(packaged).Error != 0)
                        return new ScriptChangeResult(Errno.ENOENT, $"Script {name} does not exist in {component}");
                    try
                    {
                        File.CreateSymbolicLink(path, packaged);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        return new ScriptChangeResult(ErrnoOf(e), $"Failed to create symlink {path}");
                    }
                    return ScriptChangeResult.Ok;
                }
            case EntryKind.Symlink:
                return ScriptChangeResult.Ok;
            case EntryKind.Regular:
                return Chmod(path, enable: true);
            default:
                return new ScriptChangeResult(Errno.EINVAL, $"Script {path} is not a file or a link");
        }
    }

    /// <summary>
    /// `ctdb event script disable`: a missing script is already disabled (0, silent); a symlink is removed; a
    /// regular file loses u+g+o execute; anything else is EINVAL.
    /// </summary>
    public ScriptChangeResult Disable(string component, string name)
    {
        var path = ScriptPath(component, name);
        switch (LinkKind(path))
        {
            case EntryKind.Missing:
                return ScriptChangeResult.Ok;
            case EntryKind.Symlink:
                try
                {
                    File.Delete(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return new ScriptChangeResult(ErrnoOf(e), $"Failed to remove symlink {path}");
                }
                return ScriptChangeResult.Ok;
            case EntryKind.Regular:
                return Chmod(path, enable: false);
            default:
                return new ScriptChangeResult(Errno.EINVAL, $"Script {path} is not a file or a link");
        }
    }

    /// <summary>
    /// The event daemon's SCRIPT request: sets or clears the execute bits of a listed script (following a symlink),
    /// ENOENT when the component or script does not exist.
    /// </summary>
    public int SetExecutable(string component, string name, bool enable)
    {
        var scripts = List(component);
        var entry = scripts?.FirstOrDefault(s => s.Name == name);
        if (entry is null)
            return Errno.ENOENT;
        var info = FileProbe.Stat(entry.Path);
        if (info.Error != 0)
            return info.Error;
        return Chmod(entry.Path, enable).Errno;
    }

    private static ScriptChangeResult Chmod(string path, bool enable)
    {
        const UnixFileMode execBits = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if (OperatingSystem.IsWindows())
            return new ScriptChangeResult(Errno.EINVAL, null);
        try
        {
            var mode = File.GetUnixFileMode(path);
            File.SetUnixFileMode(path, enable ? mode | execBits : mode & ~execBits);
            return ScriptChangeResult.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ScriptChangeResult(ErrnoOf(e), null);
        }
    }

    private enum EntryKind { Missing, Symlink, Regular, Other }

    private static EntryKind LinkKind(string path)
    {
        var fi = new FileInfo(path);
        if (fi.LinkTarget is not null)
            return EntryKind.Symlink;
        if (!fi.Exists)
            return Directory.Exists(path) ? EntryKind.Other : EntryKind.Missing;
        // FileInfo.Exists is also true for fifos/devices; only regular files count.
        return FileProbe.Stat(path).IsRegular ? EntryKind.Regular : EntryKind.Other;
    }

    private static int ErrnoOf(Exception e) => e switch
    {
        UnauthorizedAccessException => Errno.EACCES,
        FileNotFoundException or DirectoryNotFoundException => Errno.ENOENT,
        _ => e.HResult is > 0 and < 4096 ? e.HResult : Errno.EIO,
    };
}
