using System.Collections;
using System.Diagnostics;
using System.Globalization;
using SharpCtdb.Client;
using SharpCtdb.Config;
using SharpCtdb.Protocol;

namespace SharpCtdb.OnNode;

/// <summary>
/// onnode: run a command on cluster nodes through $ONNODE_SSH (default ssh), with the behaviour and output of CTDB's
/// onnode script: "&gt;&gt; NODE: ADDR &lt;&lt;" headers on stderr for several nodes, "[ADDR] " line prefixes with -p,
/// exit status = the last non-zero status.
/// </summary>
public static class OnNodeProgram
{
    private const string Prog = "onnode";

    private const string UsageText =
        "Usage: onnode [OPTION] ... <NODES> <COMMAND> ...\n" +
        "  options:\n" +
        "    -c          Run in current working directory on specified nodes.\n" +
        "    -f          Specify nodes file, overriding default.\n" +
        "    -i          Keep standard input open - the default is to close it.\n" +
        "    -n          Allow nodes to be specified by name.\n" +
        "    -p          Run command in parallel on specified nodes.\n" +
        "    -P          Push given files to nodes instead of running commands.\n" +
        "    -q          Do not print node addresses (overrides -v).\n" +
        "    -v          Print node address even for a single node.\n" +
        "  <NODES>       \"all\", \"any\", \"ok\" (or \"healthy\"), \"con\" (or \"connected\") ; or\n" +
        "                a node number (0 base); or\n" +
        "                a hostname (if -n is specified); or\n" +
        "                list (comma separated) of <NODES>; or\n" +
        "                range (hyphen separated) of node numbers.\n";

    private sealed class ExitException(int code) : Exception($"exit {code}")
    {
        public int Code { get; } = code;
    }

    private sealed class Options
    {
        public bool Current;
        public string? NodesFile;
        public bool NamesOk;
        public bool Parallel;
        public bool Quiet;
        public bool Verbose;
        public bool Push;
        public bool Stdin;
        public string NodeSpec = "";
        public string Command = "";
    }

    public static async Task<int> Main(string[] args)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            env[(string)e.Key] = e.Value as string;
        return await RunAsync(args, env, Console.Out, Console.Error, CancellationToken.None).ConfigureAwait(false);
    }

    public static async Task<int> RunAsync(string[] args, IReadOnlyDictionary<string, string?> env, TextWriter stdout, TextWriter stderr,
        CancellationToken ct)
    {
        try
        {
            var o = ParseOptions(args, stderr);
            if (o.Push)
            {
                await stderr.WriteLineAsync($"{Prog}: -P (push) is not supported").ConfigureAwait(false);
                return 1;
            }
            string? Env(string n) => env.TryGetValue(n, out var v) && !string.IsNullOrEmpty(v) ? v : null;
            var ctdbBase = Env("CTDB_BASE") ?? "/etc/ctdb";
            var command = o.Current ? $"cd {Environment.CurrentDirectory} && {o.Command}" : o.Command;
            var ssh = (Env("ONNODE_SSH") ?? "ssh").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var sshOpts = o.Parallel || !o.Stdin ? new[] { "-n" } : [];
            var nodes = await GetNodesAsync(o, ctdbBase, env, ssh, stderr, ct).ConfigureAwait(false);
            var verbose = !o.Quiet && (o.Verbose || nodes.Count > 1);
            var retcode = 0;
            if (o.Parallel)
            {
                var tasks = nodes.Select(n => RunOnNodeAsync(ssh, sshOpts, n, command, env, stdout, stderr, verbose ? $"[{n}] " : null, ct))
                    .ToList();
                foreach (var t in tasks)
                {
                    var rc = await t.ConfigureAwait(false);
                    if (rc != 0)
                        retcode = rc;
                }
            }
            else
            {
                foreach (var n in nodes)
                {
                    if (verbose)
                    {
                        await stderr.WriteLineAsync().ConfigureAwait(false);
                        await stderr.WriteLineAsync($">> NODE: {n} <<").ConfigureAwait(false);
                    }
                    var rc = await RunOnNodeAsync(ssh, sshOpts, n, command, env, stdout, stderr, null, ct).ConfigureAwait(false);
                    if (rc != 0)
                        retcode = rc;
                }
            }
            return retcode;
        }
        catch (ExitException e)
        {
            return e.Code;
        }
    }

    private static Options ParseOptions(string[] args, TextWriter stderr)
    {
        var o = new Options();
        var i = 0;
        for (; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                i++;
                break;
            }
            if (a.Length < 2 || a[0] != '-')
                break;
            for (var j = 1; j < a.Length; j++)
            {
                switch (a[j])
                {
                    case 'c': o.Current = true; break;
                    case 'n': o.NamesOk = true; break;
                    case 'p': o.Parallel = true; break;
                    case 'q': o.Quiet = true; break;
                    case 'v': o.Verbose = true; break;
                    case 'P': o.Push = true; break;
                    case 'i': o.Stdin = true; break;
                    case 'f':
                        if (j + 1 < a.Length)
                            o.NodesFile = a[(j + 1)..];
                        else if (i + 1 < args.Length)
                            o.NodesFile = args[++i];
                        else
                            Usage(stderr);
                        j = a.Length;
                        break;
                    default:
                        Usage(stderr);
                        break;
                }
            }
        }
        if (args.Length - i < 2)
            Usage(stderr);
        o.NodeSpec = args[i];
        o.Command = string.Join(' ', args[(i + 1)..]);
        return o;
    }

    private static void Usage(TextWriter stderr)
    {
        stderr.Write(UsageText);
        throw new ExitException(1);
    }

    private static void InvalidNodeSpec(TextWriter stderr)
    {
        stderr.WriteLine("Invalid <nodespec>");
        stderr.WriteLine();
        Usage(stderr);
    }

    /// <summary>Nodes file entries: comments and spaces removed, an empty line is a dead (deleted) slot.</summary>
    private static List<string?> ReadNodes(string path)
    {
        var result = new List<string?>();
        foreach (var raw in File.ReadAllLines(path))
        {
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = (hash >= 0 ? raw[..hash] : raw).Replace(" ", "", StringComparison.Ordinal).Trim();
            result.Add(line.Length == 0 ? null : line);
        }
        return result;
    }

    private static string Nth(List<string?> all, int n, TextWriter stderr)
    {
        if (n >= 0 && n < all.Count && all[n] is { } node)
            return node;
        stderr.WriteLine($"{Prog}: \"node {n}\" does not exist");
        throw new ExitException(1);
    }

    private static async Task<List<string>> GetNodesAsync(Options o, string ctdbBase, IReadOnlyDictionary<string, string?> env,
        string[] ssh, TextWriter stderr, CancellationToken ct)
    {
        var file = Path.Combine(ctdbBase, "nodes");
        if (o.NodesFile is not null)
        {
            file = o.NodesFile;
            if (!File.Exists(file) && !Path.IsPathRooted(file))
                file = Path.Combine(ctdbBase, file);
        }
        List<string?> all;
        try
        {
            all = ReadNodes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"{Prog}: unable to open nodes file  \"{file}\"").ConfigureAwait(false);
            throw new ExitException(1);
        }
        var result = new List<string>();
        NodeMap? status = null;
        foreach (var item in o.NodeSpec.Split(','))
        {
            var dash = item.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0)
            {
                if (!int.TryParse(item[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var from) ||
                    !int.TryParse(item[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var to))
                    InvalidNodeSpec(stderr);
                else
                {
                    for (var n = from; n <= to; n++)
                        result.Add(Nth(all, n, stderr));
                }
                continue;
            }
            switch (item)
            {
                case "all":
                    result.AddRange(all.OfType<string>());
                    break;
                case "any":
                    result.Add(await AnyAvailableAsync(all, ssh, env, stderr, ct).ConfigureAwait(false));
                    break;
                case "ok" or "healthy" or "con" or "connected":
                    status ??= await NodeStatusAsync(env, stderr, ct).ConfigureAwait(false);
                    var healthy = item is "ok" or "healthy";
                    foreach (var n in status.Nodes)
                    {
                        if ((n.Flags & NodeFlags.Deleted) != 0)
                            continue;
                        if (healthy ? n.Flags != 0 : (n.Flags & NodeFlags.Disconnected) != 0)
                            continue;
                        result.Add(Nth(all, (int)n.Pnn, stderr));
                    }
                    break;
                default:
                    if (int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var pnn))
                        result.Add(Nth(all, pnn, stderr));
                    else if (o.NamesOk)
                        result.Add(item);
                    else
                        InvalidNodeSpec(stderr);
                    break;
            }
        }
        return result;
    }

    /// <summary>Node flags from the local daemon (what `ctdb -X status` reports).</summary>
    private static async Task<NodeMap> NodeStatusAsync(IReadOnlyDictionary<string, string?> env, TextWriter stderr, CancellationToken ct)
    {
        string socket;
        try
        {
            socket = env.TryGetValue("CTDB_SOCKET", out var s) && !string.IsNullOrEmpty(s) ? s : CtdbPaths.FromEnvironment(env).SocketPath;
            await using var client = await CtdbClient.ConnectAsync(socket, ct).ConfigureAwait(false);
            var pnn = await client.GetPnnAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
            return await client.GetNodeMapAsync(pnn, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or CtdbConnectionException or ControlFailedException
                                       or ControlTimeoutException or CtdbSetupException or ProtocolException)
        {
            await stderr.WriteLineAsync($"{Prog}: unable to get status of CTDB nodes").ConfigureAwait(false);
            await stderr.WriteLineAsync(e.Message).ConfigureAwait(false);
            throw new ExitException(1);
        }
    }

    /// <summary>"any": the first node on which `ctdb pnn` answers with a number.</summary>
    private static async Task<string> AnyAvailableAsync(List<string?> all, string[] ssh, IReadOnlyDictionary<string, string?> env,
        TextWriter stderr, CancellationToken ct)
    {
        foreach (var node in all.OfType<string>())
        {
            var output = new StringWriter();
            var rc = await RunOnNodeAsync(ssh, ["-n"], node, "ctdb pnn", env, output, TextWriter.Null, null, ct).ConfigureAwait(false);
            var line = output.ToString().Trim();
            if (rc == 0 && line.Length > 0 && line.All(char.IsAsciiDigit))
                return node;
        }
        throw new ExitException(1);
    }

    /// <summary>Runs <c>SSH [opts] NODE COMMAND</c>; with a prefix, stdout and stderr lines go to stdout prefixed.</summary>
    private static async Task<int> RunOnNodeAsync(string[] ssh, string[] opts, string node, string command,
        IReadOnlyDictionary<string, string?> env, TextWriter stdout, TextWriter stderr, string? prefix, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(ssh[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = opts.Length > 0,
        };
        foreach (var a in ssh.Skip(1).Concat(opts).Append(node).Append(command))
            psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in env)
        {
            if (v is not null)
                psi.Environment[k] = v;
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {ssh[0]}");
        if (opts.Length > 0)
            p.StandardInput.Close();
        var outTask = PumpAsync(p.StandardOutput, stdout, prefix, ct);
        var errTask = PumpAsync(p.StandardError, prefix is null ? stderr : stdout, prefix, ct);
        await Task.WhenAll(outTask, errTask).ConfigureAwait(false);
        await p.WaitForExitAsync(ct).ConfigureAwait(false);
        return p.ExitCode;
    }

    private static readonly Lock WriteLock = new();

    private static async Task PumpAsync(StreamReader from, TextWriter to, string? prefix, CancellationToken ct)
    {
        string? line;
        while ((line = await from.ReadLineAsync(ct).ConfigureAwait(false)) is not null)
        {
            var text = prefix is null ? line : prefix + line;
            lock (WriteLock)
                to.WriteLine(text);
        }
    }


}
