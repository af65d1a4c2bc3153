using System.Collections;
using System.Net;
using System.Net.Sockets;
using SharpCtdb.Client;
using SharpCtdb.Config;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>Ends a command with an exit code after its messages have been printed.</summary>
public sealed class ToolExitException(int exitCode) : Exception($"exit {exitCode}")
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>The `ctdb` tool: a drop-in for Debian's 4.17 ctdb. RunAsync is the whole program, usable
/// in-process (tests) with its own environment and output writers.</summary>
public static class ToolProgram
{
    public const string Version = "4.17.12-SharpCtdb";

    public static async Task<int> Main(string[] args)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            env[(string)e.Key] = e.Value as string;
        var stdout = Console.Out;
        var stderr = Console.Error;
        var rc = await RunAsync(args, env, stdout, stderr, Console.In).ConfigureAwait(false);
        await stdout.FlushAsync().ConfigureAwait(false);
        return rc;
    }

    public static Task<int> RunAsync(string[] args, IReadOnlyDictionary<string, string?> env, TextWriter stdout, TextWriter stderr) =>
        RunAsync(args, env, stdout, stderr, TextReader.Null);

    /// <summary>The whole tool; <paramref name="stdin"/> feeds ptrans/addtickle/deltickle.</summary>
    public static async Task<int> RunAsync(string[] args, IReadOnlyDictionary<string, string?> env, TextWriter stdout, TextWriter stderr,
        TextReader stdin)
    {
        var options = ToolOptions.Parse(args, env, out var error);
        if (error is not null)
        {
            await stderr.WriteLineAsync(error).ConfigureAwait(false);
            return 1;
        }
        if (options.Help)
        {
            await stdout.WriteAsync(Usage.Help()).ConfigureAwait(false);
            return 0;
        }
        if (options.Usage)
        {
            await stdout.WriteAsync(Usage.Brief()).ConfigureAwait(false);
            return 0;
        }
        if (options.Arguments.Count == 0)
        {
            await stdout.WriteAsync(Usage.Full()).ConfigureAwait(false);
            return 1;
        }
        var name = options.Arguments[0];
        var command = Commands.Find(name);
        if (command is null)
        {
            await stderr.WriteLineAsync($"Unknown command '{name}'").ConfigureAwait(false);
            var similar = Commands.Similar(name);
            if (similar.Count > 0)
                await stderr.WriteLineAsync("Did you mean: " + string.Join(", ", similar) + "?").ConfigureAwait(false);
            return 1;
        }
        var cmdArgs = options.Arguments.Skip(1).ToArray();
        if (command.WithoutDaemon && options.Node is not null)
        {
            await stderr.WriteLineAsync($"Cannot specify node for command {command.Name}").ConfigureAwait(false);
            return 1;
        }

        using var alarm = new CancellationTokenSource();
        var ctx = new ToolContext(options, env, stdout, stderr, alarm.Token) { In = stdin };
        var maxRuntime = options.MaxRuntime > 0 ? TimeSpan.FromSeconds(options.MaxRuntime) : Timeout.InfiniteTimeSpan;
        var work = RunCommandAsync(ctx, command, cmdArgs);
        try
        {
            var finished = await Task.WhenAny(work, Task.Delay(maxRuntime, CancellationToken.None)).ConfigureAwait(false);
            if (finished != work)
            {
                // Like the C tool's alarm(): give up, tell the user, exit 1.
                await alarm.CancelAsync().ConfigureAwait(false);
                await stderr.WriteLineAsync("Maximum runtime exceeded - exiting").ConfigureAwait(false);
                await ctx.DisposeAsync().ConfigureAwait(false);
                _ = work.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                return 1;
            }
            return await work.ConfigureAwait(false);
        }
        finally
        {
            await ctx.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<int> RunCommandAsync(ToolContext ctx, CommandDef command, string[] args)
    {
        try
        {
            if (!command.WithoutDaemon)
            {
                var rc = await ctx.ConnectAsync(command).ConfigureAwait(false);
                if (rc != 0)
                    return rc;
            }
            // After connecting, as 4.17 (each command checks its own arguments): with no daemon a wrong argument
            // count answers "Failed to connect", not the usage.
            if (args.Length < command.MinArgs || (command.MaxArgs >= 0 && args.Length > command.MaxArgs))
            {
                await ctx.Out.WriteAsync(Usage.ForCommand(command)).ConfigureAwait(false);
                return 1;
            }
            return await command.Run(ctx, args).ConfigureAwait(false);
        }
        catch (ToolExitException e)
        {
            return e.ExitCode;
        }
        catch (ControlErrorException e)
        {
            // The message is printed already; like the C tool, the failure code becomes the exit status.
            return e.Status & 0xFF;
        }
        catch (OperationCanceledException) when (ctx.Cancelled.IsCancellationRequested)
        {
            return 1;
        }
        catch (CtdbConnectionException)
        {
            await ctx.Err.WriteLineAsync("Connection to the CTDB daemon was lost").ConfigureAwait(false);
            return 1;
        }
    }
}

/// <summary>State of one tool run: options, connection, our pnn, the target pnn and the leader learnt from broadcasts.</summary>
public sealed partial class ToolContext(ToolOptions options, IReadOnlyDictionary<string, string?> env, TextWriter stdout, TextWriter stderr,
    CancellationToken cancelled) : IAsyncDisposable
{
    private readonly TaskCompletionSource<uint> _leaderKnown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CtdbClient? _client;

    public ToolOptions Options { get; } = options;
    public IReadOnlyDictionary<string, string?> Env { get; } = env;
    public TextWriter Out { get; } = stdout;
    public TextWriter Err { get; } = stderr;
    public TextReader In { get; init; } = TextReader.Null;
    public CancellationToken Cancelled { get; } = cancelled;

    public CtdbClient Client => _client ?? throw new InvalidOperationException("not connected");

    /// <summary>PNN of the node we are connected to.</summary>
    public uint Pnn { get; private set; }

    /// <summary>The node commands address: -n or our own.</summary>
    public uint CmdPnn { get; private set; }

    public uint Leader { get; private set; } = Protocol.Pnn.Unknown;

    public TimeSpan Timeout => TimeSpan.FromSeconds(Options.TimeLimit);

    public string Sep => Options.Separator;

    public bool Machine => Options.MachineReadable;

    public string? GetEnv(string name) => Env.TryGetValue(name, out var v) ? v : null;

    public CtdbPaths Paths()
    {
        try
        {
            return CtdbPaths.FromEnvironment(Env);
        }
        catch (CtdbSetupException e)
        {
            Err.WriteLine(e.Message);
            throw new ToolExitException(1);
        }
    }

    public string SocketPath => GetEnv("CTDB_SOCKET") is { Length: > 0 } s ? s : Paths().SocketPath;

    public string NodesFile => Paths().NodesFile;

    /// <summary>The 4.17 connection sequence (protocol.md §5.1).</summary>
    public async Task<int> ConnectAsync(CommandDef command)
    {
        var socket = SocketPath;
        try
        {
            _client = await CtdbClient.ConnectAsync(socket, Cancelled).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            var errno = e.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable => 2,
                SocketError.ConnectionRefused => 111,
                SocketError.AccessDenied => 13,
                _ => e.ErrorCode,
            };
            if (!File.Exists(socket))
                errno = 2;
            await Err.WriteLineAsync($"connect() failed, errno={errno}").ConfigureAwait(false);
            await Err.WriteLineAsync($"Failed to connect to CTDB daemon ({socket})").ConfigureAwait(false);
            await ReportNotInClusterAsync().ConfigureAwait(false);
            return 1;
        }
        _client.SetMessageHandler(Srvid.Leader, (_, data) =>
        {
            if (data.Length >= 4)
            {
                Leader = BitConverter.ToUInt32(data, 0);
                _leaderKnown.TrySetResult(Leader);
            }
        });
        Pnn = await Ctl(ControlOpcode.GetPnn, Protocol.Pnn.CurrentNode, _client.GetPnnAsync(Timeout, Cancelled)).ConfigureAwait(false);
        CmdPnn = Pnn;
        if (Options.Node is { } node)
        {
            var map = await Ctl(ControlOpcode.GetNodeMap, Pnn, _client.GetNodeMapAsync(Pnn, Timeout, Cancelled)).ConfigureAwait(false);
            var entry = map.Find((uint)node);
            if (node < 0 || entry is null)
            {
                await Err.WriteLineAsync($"Node {node} does not exist").ConfigureAwait(false);
                return 1;
            }
            if ((entry.Flags & (NodeFlags.Disconnected | NodeFlags.Deleted)) != 0)
            {
                await Err.WriteLineAsync($"Node {node} has status {NodeStatus.FlagText(entry.Flags, false)}").ConfigureAwait(false);
                return 1;
            }
            CmdPnn = (uint)node;
        }
        if (command.LocalOnly && CmdPnn != Pnn)
        {
            await Err.WriteLineAsync($"Node cannot be specified for command {command.Name}").ConfigureAwait(false);
            return 1;
        }
        await Ctl(ControlOpcode.RegisterSrvid, Pnn, _client.RegisterSrvidAsync(Srvid.Leader, Timeout, Cancelled)).ConfigureAwait(false);
        return 0;
    }

    /// <summary>After a failed connect: say whether this host is a cluster node at all.</summary>
    private async Task ReportNotInClusterAsync()
    {
        var path = NodesFile;
        List<string> addresses;
        try
        {
            addresses = NodesFileReader.Read(path).Where(n => !n.Deleted).Select(n => n.Address).ToList();
        }
        catch (IOException)
        {
            await Err.WriteLineAsync($"Failed to read nodes file \"{path}\"").ConfigureAwait(false);
            await Err.WriteLineAsync("Is this node part of CTDB cluster?").ConfigureAwait(false);
            return;
        }
        if (addresses.Any(IsLocalAddress))
            return;
        await Err.WriteLineAsync("Failed to detect PNN of the current node.").ConfigureAwait(false);
        await Err.WriteLineAsync("Is this node part of CTDB cluster?").ConfigureAwait(false);
    }

    /// <summary>An address is local when we can bind to it (as ctdb_sys_have_ip does).</summary>
    public static bool IsLocalAddress(string text)
    {
        if (!IPAddress.TryParse(text, out var addr))
            return false;
        try
        {
            using var s = new Socket(addr.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(addr, 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Awaits a control helper; on failure prints the client library's message and throws
    /// <see cref="ControlErrorException"/> so commands can add their own text.</summary>
    public async Task<T> Ctl<T>(ControlOpcode op, uint dest, Task<T> task)
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch (ControlFailedException e)
        {
            await Err.WriteLineAsync($"Control {ControlNames.Of(e.Opcode)} failed, ret={e.Status}").ConfigureAwait(false);
            throw new ControlErrorException(e.Status);
        }
        catch (ControlTimeoutException)
        {
            await Err.WriteLineAsync($"Control {ControlNames.Of(op)} failed to node {dest}, ret={ControlTimeoutException.Errno}").ConfigureAwait(false);
            throw new ControlErrorException(ControlTimeoutException.Errno);
        }
    }

    public async Task Ctl(ControlOpcode op, uint dest, Task task) =>
        await Ctl(op, dest, WrapAsync(task)).ConfigureAwait(false);

    private static async Task<bool> WrapAsync(Task t)
    {
        await t.ConfigureAwait(false);
        return true;
    }

    /// <summary>Waits up to -t seconds for the leader broadcast; Unknown when none arrives.</summary>
    public async Task<uint> GetLeaderAsync()
    {
        try
        {
            return await _leaderKnown.Task.WaitAsync(Timeout, Cancelled).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return Protocol.Pnn.Unknown;
        }
    }

    public async ValueTask DisposeAsync()
    {
        var c = _client;
        _client = null;
        if (c is not null)
            await c.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>A control failed and its message has been printed; carries the failure code.</summary>
public sealed class ControlErrorException(int status) : Exception($"control failed, ret={status}")
{
    public int Status { get; } = status;
}

/// <summary>One line of a nodes file: address, or a deleted slot (line starting with '#').</summary>
public sealed record NodesFileEntry(uint Pnn, string Address, bool Deleted);

public static class NodesFileReader
{
    /// <summary>Reads a nodes file like the 4.17 tool: '#' lines are deleted nodes keeping their pnn, trailing blank lines ignored.
    /// Throws IOException when the file cannot be read or is empty.</summary>
    public static List<NodesFileEntry> Read(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"cannot read {path}", e);
        }
        var list = lines.Select(l => l.Trim()).ToList();
        while (list.Count > 0 && list[^1].Length == 0)
            list.RemoveAt(list.Count - 1);
        if (list.Count == 0)
            throw new IOException($"{path} is empty");
        var result = new List<NodesFileEntry>();
        for (var i = 0; i < list.Count; i++)
        {
            var line = list[i];
            if (line.StartsWith('#') || line.Length == 0)
            {
                result.Add(new NodesFileEntry((uint)i, "", true));
                continue;
            }
            var addr = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0];
            if (!IPAddress.TryParse(addr, out _))
                throw new IOException($"invalid node address {addr}");
            result.Add(new NodesFileEntry((uint)i, addr, false));
        }
        return result;
    }
}
