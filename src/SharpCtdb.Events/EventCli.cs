using System.Globalization;
using System.Net.Sockets;
using SharpCtdb.Config;
using SharpCtdb.Protocol.EventDaemon;

namespace SharpCtdb.Events;

/// <summary>
/// `ctdb event ...` and `ctdb scriptstatus`, byte-for-byte like 4.17's ctdb-event helper (texts, streams and exit
/// codes observed on Debian's binary). run/status talk to RUNDIR/eventd.socket; script list/enable/disable only
/// touch the filesystem.
/// </summary>
public static class EventCli
{
    private static readonly (string Syntax, string Help)[] Commands =
    [
        ("run <timeout> <component> <event> <args>", "Run an event"),
        ("status <component> <event>", "Get status of an event"),
        ("script list <component>", "List event scripts"),
        ("script enable <component> <script>", "Enable an event script"),
        ("script disable <component> <script>", "Disable an event script"),
    ];

    /// <summary>`ctdb event ARGS...` (= ctdb-event ARGS...). Returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Run(args, stdout, stderr, null);

    /// <summary>As <see cref="Run(string[], TextWriter, TextWriter)"/> with an explicit layout (tests; null = from the environment).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CtdbPaths? paths) =>
        Run(args, stdout, stderr, paths, json: false);

    /// <summary>
    /// As above; <paramref name="json"/> (the tool's `--json`) makes `status` print the documented JSON object
    /// (docs/tool-json.md) instead of 4.17's lines. Other subcommands ignore it.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CtdbPaths? paths, bool json)
    {
        var words = new List<string>();
        var optionsDone = false;
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (optionsDone || a.Length < 2 || a[0] != '-')
            {
                words.Add(a);
                continue;
            }
            if (a == "--")
            {
                optionsDone = true;
                continue;
            }
            if (a is "-h" or "--help")
                return FullUsage(stdout);
            if (a == "-d")
            {
                if (i + 1 >= args.Length)
                    return InvalidOption(stdout, stderr, a, "missing argument");
                i++;
                continue;
            }
            if (a.StartsWith("--debug=", StringComparison.Ordinal) || (a.StartsWith("-d", StringComparison.Ordinal) && a.Length > 2))
                continue;
            return InvalidOption(stdout, stderr, a, "unknown option");
        }

        if (words.Count == 0)
            return FullUsage(stdout);
        try
        {
            paths ??= CtdbPaths.FromEnvironment();
        }
        catch (CtdbSetupException e)
        {
            stderr.WriteLine(e.Message);
            return 1;
        }

        switch (words[0])
        {
            case "run":
                if (words.Count < 4)
                    return ShortUsage(stdout, 0);
                return DoRun(words, stdout, stderr, paths);
            case "status":
                if (words.Count != 3)
                    return ShortUsage(stdout, 1);
                return DoStatus(words[1], words[2], stdout, stderr, paths, json);
            case "script" when words.Count >= 2:
                switch (words[1])
                {
                    case "list":
                        if (words.Count != 3)
                            return ShortUsage(stdout, 2);
                        return DoList(words[2], stdout, stderr, paths);
                    case "enable":
                        if (words.Count != 4)
                            return ShortUsage(stdout, 3);
                        return Report(ScriptDirectory.FromPaths(paths).Enable(words[2], words[3]), stdout, stderr);
                    case "disable":
                        if (words.Count != 4)
                            return ShortUsage(stdout, 4);
                        return Report(ScriptDirectory.FromPaths(paths).Disable(words[2], words[3]), stdout, stderr);
                    default:
                        return FullUsage(stdout);
                }
            default:
                return FullUsage(stdout);
        }
    }

    /// <summary>
    /// `ctdb scriptstatus [EVENT]` = `ctdb-event status legacy EVENT` (default monitor). The 4.17 tool ignores the
    /// helper's exit code, so this returns 0 except for a usage error (1).
    /// </summary>
    public static int ScriptStatus(string[] args, TextWriter stdout, TextWriter stderr) => ScriptStatus(args, stdout, stderr, null);

    public static int ScriptStatus(string[] args, TextWriter stdout, TextWriter stderr, CtdbPaths? paths) =>
        ScriptStatus(args, stdout, stderr, paths, json: false);

    public static int ScriptStatus(string[] args, TextWriter stdout, TextWriter stderr, CtdbPaths? paths, bool json)
    {
        if (args.Length > 1)
        {
            stdout.Write(
                "Usage: [-?YXv] [-?|--help] [--usage] [-d|--debug=STRING]\n" +
                "        [-t|--timelimit=INT] [-n|--node=INT] [-Y] [-x|--separator=CHAR]\n" +
                "        [-X] [-v|--verbose] [-T|--maxruntime=INT]\n\n" +
                "Commands:\n" +
                "  scriptstatus    [init|setup|startup|monitor|takeip|releaseip|ipreallocated]  show event script status\n");
            return 1;
        }
        Run(["status", "legacy", args.Length == 1 ? args[0] : "monitor"], stdout, stderr, paths, json);
        return 0;
    }

    private static int DoRun(List<string> words, TextWriter stdout, TextWriter stderr, CtdbPaths paths)
    {
        var timeout = Atoi(words[1]);
        var component = words[2];
        var eventName = words[3];
        var eventArgs = words.Count > 4 ? string.Join(' ', words.Skip(4)) : null;
        int result;
        try
        {
            result = WithClient(paths, stderr, c => c.RunAsync(component, eventName, eventArgs, (uint)Math.Max(timeout, 0)), out var failed);
            if (failed)
                return Errno.EIO;
        }
        catch (IOException)
        {
            stderr.WriteLine($"Failed to run event {eventName} in {component}, ret={Errno.EIO}");
            return Errno.EIO;
        }
        switch (result)
        {
            case 0:
                break;
            case Errno.ENOENT:
                stdout.WriteLine($"Event dir for {component} does not exist");
                break;
            case Errno.ETIMEDOUT:
                stdout.WriteLine($"Event {eventName} in {component} timed out");
                break;
            case Errno.ECANCELED:
                stdout.WriteLine($"Event {eventName} in {component} got cancelled");
                break;
            case Errno.ENOEXEC:
                stdout.WriteLine($"Event {eventName} in {component} failed");
                break;
            default:
                stdout.WriteLine($"Failed to run event {eventName} in {component}, result={result}");
                break;
        }
        return result;
    }

    private static int DoStatus(string component, string eventName, TextWriter stdout, TextWriter stderr, CtdbPaths paths, bool json)
    {
        (int Result, EventScriptStatusList? Status) reply;
        try
        {
            reply = WithClient(paths, stderr, c => c.StatusAsync(component, eventName), out var failed);
            if (failed)
                return Errno.EIO;
        }
        catch (IOException)
        {
            stderr.WriteLine($"Failed to get status for event {eventName} in {component}, ret={Errno.EIO}");
            return Errno.EIO;
        }
        if (json)
        {
            // Same exit codes as the text form; the answer (including "never run") is always one JSON object.
            stdout.WriteLine(EventStatusJson.Format(component, eventName, reply.Result, reply.Status));
            var summary = reply.Result == 0 ? reply.Status?.Summary ?? 0 : 0;
            return reply.Result != 0 ? reply.Result : summary < 0 ? -summary : summary;
        }
        switch (reply.Result)
        {
            case 0:
                var list = reply.Status ?? new EventScriptStatusList(0, []);
                stdout.Write(FormatStatus(list));
                return list.Summary < 0 ? -list.Summary : list.Summary;
            case Errno.ENOENT:
                stdout.WriteLine($"Event dir for {component} does not exist");
                return reply.Result;
            case Errno.EINVAL:
                stdout.WriteLine($"Event {eventName} has never run in {component}");
                return reply.Result;
            default:
                stdout.WriteLine($"Unknown error ({reply.Result}) for event {eventName} in {component}");
                return reply.Result;
        }
    }

    /// <summary>The `status` lines of the 4.17 tool (ctime() of the begin time, local time zone).</summary>
    public static string FormatStatus(EventScriptStatusList list)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var s in list.Scripts)
        {
            var begin = s.Begin.ToDateTimeOffset();
            switch (s.Result)
            {
                case 0 or > 0:
                    var duration = (s.End.TotalSeconds - s.Begin.TotalSeconds).ToString("0.000", CultureInfo.InvariantCulture);
                    sb.Append(CultureInfo.InvariantCulture, $"{s.Name,-20} {(s.Result == 0 ? "OK" : "ERROR"),-10} {duration} {CTime(begin)}");
                    break;
                case -Errno.ETIMEDOUT:
                    sb.Append(CultureInfo.InvariantCulture, $"{s.Name,-20} {"TIMEDOUT",-10} {CTime(begin)}");
                    break;
                case -Errno.ENOEXEC:
                    sb.Append(CultureInfo.InvariantCulture, $"{s.Name,-20} {"DISABLED",-10}\n");
                    break;
                default:
                    sb.Append(CultureInfo.InvariantCulture, $"{s.Name,-20} {"CANNOT RUN",-10} ({Errno.Message(-s.Result)})\n");
                    break;
            }
            if (s.Result != 0 && s.Result != -Errno.ENOEXEC)
                sb.Append("  OUTPUT: ").Append(s.Output ?? "").Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>ctime(3): "Mon Nov 23 10:35:34 2026\n" in local time.</summary>
    public static string CTime(DateTimeOffset t)
    {
        var local = t.ToLocalTime();
        return local.ToString("ddd MMM ", CultureInfo.InvariantCulture)
            + local.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)
            + local.ToString(" HH:mm:ss yyyy", CultureInfo.InvariantCulture) + "\n";
    }

    private static int DoList(string component, TextWriter stdout, TextWriter stderr, CtdbPaths paths)
    {
        var rc = ScriptDirectory.FromPaths(paths).ListForTool(component, out var listing);
        if (rc != 0)
        {
            stderr.WriteLine($"Command script list finished with result={rc}");
            return rc;
        }
        foreach (var (name, linked) in listing!.Packaged)
            stdout.WriteLine($"{(linked ? '*' : ' ')} {name}");
        if (listing.Packaged.Count > 0 && listing.Installed.Count > 0)
            stdout.WriteLine();
        foreach (var s in listing.Installed)
            stdout.WriteLine($"{(s.Enabled ? '*' : ' ')} {s.Name}");
        return 0;
    }

    private static int Report(ScriptChangeResult r, TextWriter stdout, TextWriter stderr)
    {
        if (r.Message is not null)
            stdout.WriteLine(r.Message);
        if (r.Errno != 0 && r.Message is null)
            stderr.WriteLine($"Command script finished with result={r.Errno}");
        return r.Errno;
    }

    private static T WithClient<T>(CtdbPaths paths, TextWriter stderr, Func<EventDaemonClient, Task<T>> action, out bool connectFailed)
    {
        connectFailed = false;
        EventDaemonClient client;
        try
        {
            client = EventDaemonClient.ConnectAsync(paths.EventdSocket).GetAwaiter().GetResult();
        }
        catch (SocketException)
        {
            stderr.WriteLine($"socket connect failed - {paths.EventdSocket}");
            stderr.WriteLine($"Failed to initialize event client, ret={Errno.EIO}");
            connectFailed = true;
            return default!;
        }
        try
        {
            return action(client).GetAwaiter().GetResult();
        }
        finally
        {
            client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>C atoi: optional sign and leading digits, anything else gives 0.</summary>
    private static int Atoi(string s)
    {
        var i = 0;
        while (i < s.Length && char.IsWhiteSpace(s[i]))
            i++;
        var neg = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
            neg = s[i++] == '-';
        long v = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]) && v < int.MaxValue)
            v = (v * 10) + (s[i++] - '0');
        v = Math.Min(v, int.MaxValue);
        return (int)(neg ? -v : v);
    }

    private static int InvalidOption(TextWriter stdout, TextWriter stderr, string option, string reason)
    {
        stderr.WriteLine($"Invalid option {option}: {reason}");
        return FullUsage(stdout);
    }

    // The 4.17 tool prints the full help twice (once from its option parser, once from the command dispatcher).
    private static int FullUsage(TextWriter stdout)
    {
        var width = Commands.Max(c => c.Syntax.Length);
        var text = new System.Text.StringBuilder();
        text.Append("Usage: ctdb-event [<options>] <command> [<args>]\n\n")
            .Append("Help Options:\n")
            .Append("  -h, --help                                      Show this help message\n\n")
            .Append("Options:\n")
            .Append("  -d, --debug=ERROR|WARNING|NOTICE|INFO|DEBUG     debug level\n\n")
            .Append("Commands:\n");
        foreach (var (syntax, help) in Commands)
            text.Append("  ").Append(syntax.PadRight(width)).Append("     ").Append(help).Append('\n');
        stdout.Write(text.ToString());
        stdout.Write(text.ToString());
        return 1;
    }

    private static int ShortUsage(TextWriter stdout, int command)
    {
        var (syntax, help) = Commands[command];
        stdout.Write("Usage: ctdb-event [-h] [-h|--help]\n" +
            "        [-d|--debug=ERROR|WARNING|NOTICE|INFO|DEBUG] <command> [<args>]\n\n" +
            $"  {syntax}     {help}\n");
        return 1;
    }
}
