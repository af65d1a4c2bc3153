using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SharpCtdb.Config;
using SharpCtdb.Config.Logging;
using SharpCtdb.Daemon.Transport;
using SharpCtdb.Events;

namespace SharpCtdb.Daemon;

/// <summary>ctdbd start-up (behaviour.md §1.3, §2.2): options, configuration, daemonising, pid file, sockets.</summary>
internal static class DaemonMain
{
    public const string Version = "4.17.12";
    /// <summary>Set in the environment of the re-executed child that plays the forked daemon.</summary>
    private const string ChildMarker = "SHARPCTDB_DAEMON_CHILD";

    private const string HelpText = """
        Usage: ctdbd [OPTION...]
          -i, --interactive     don't fork, log to stderr

        Help options:
          -?, --help            Show this help message
              --usage           Display brief usage message
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var interactive = false;
        foreach (var a in args)
        {
            switch (a)
            {
                case "-i" or "--interactive":
                    interactive = true;
                    break;
                case "-?" or "--help":
                    Console.WriteLine(HelpText);
                    return 0;
                case "--usage":
                    Console.WriteLine("Usage: ctdbd [-i?] [-i|--interactive] [-?|--help] [--usage]");
                    return 0;
                default:
                    if (a.StartsWith('-'))
                    {
                        Console.Error.WriteLine($"Invalid option {a}: unknown option");
                        return 1;
                    }
                    Console.WriteLine(HelpText);
                    return 1;
            }
        }
        var isChild = Environment.GetEnvironmentVariable(ChildMarker) == "1";

        // ---- before forking: failures exit 1 and create nothing ----
        CtdbPaths paths;
        try
        {
            paths = CtdbPaths.FromEnvironment();
        }
        catch (CtdbSetupException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        if (Environment.GetEnvironmentVariable("CTDB_BASE") is null)
            Environment.SetEnvironmentVariable("CTDB_BASE", paths.CtdbBase);

        var conf = CtdbConfigFile.Load(paths.ConfigFile, paths);
        if (!conf.Ok)
        {
            foreach (var e in conf.Errors)
                Console.Error.WriteLine(e.ToString());
            Console.Error.WriteLine($"Failed to load configuration file {paths.ConfigFile}");
            return 1;
        }
        var config = conf.Config;

        ILogSink sink;
        try
        {
            sink = interactive ? new StderrSink() : CtdbLog.SinkFor(config.Logging.Location, paths.DefaultLogFile);
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Failed to initialise logging: {e.Message}");
            return 1;
        }
        var log = new CtdbLog("ctdbd", sink, config.Logging.LogLevel) { Host = CtdbLog.HostFor(paths.TestMode, paths.CtdbBase) };
        foreach (var w in conf.Warnings)
            log.Warning(w.ToString());

        var nodesFile = NodesFile.Load(paths.NodesFile);
        if (!nodesFile.Ok || nodesFile.Nodes.Count == 0)
        {
            foreach (var e in nodesFile.Errors)
                log.Error(e.ToString());
            log.Error("Failed to load nodes file");
            Console.Error.WriteLine($"Failed to load nodes file \"{paths.NodesFile}\"");
            return 1;
        }

        var ownPnn = DeterminePnn(config.Cluster.NodeAddress, nodesFile.Nodes, log);
        if (ownPnn is null)
            return 1;

        var tunables = new TunableSet();
        TunablesFile.Apply(tunables, paths.TunablesFile, log);

        var publicAddresses = PublicAddressesFile.Load(paths.PublicAddressesFile);
        if (!publicAddresses.FileExists)
            log.Warning($"Missing public address list {paths.PublicAddressesFile}; no public IP addresses");
        else if (!publicAddresses.Ok)
        {
            foreach (var e in publicAddresses.Errors)
                log.Error(e.ToString());
            Console.Error.WriteLine($"Failed to read public addresses file {paths.PublicAddressesFile}");
            return 1;
        }

        // ---- fork (§1.3): .NET cannot fork, so re-execute ourselves as the daemon child ----
        if (!interactive && !isChild)
            return await SpawnDaemonChildAsync(args, paths);
        if (isChild && !paths.TestMode)
            Native.NewSession();

        // ---- after forking ----
        log.Error($"Starting CTDBD (Version {Version}) as PID: {Environment.ProcessId}");
        using var pidFile = PidFile.TryCreate(paths.PidFile, log);
        if (pidFile is null)
            return 11;

        var clusterLock = config.Cluster.EffectiveClusterLock;
        if (clusterLock is null)
            log.Warning("Cluster lock not set");
        var nodes = nodesFile.Nodes.Select(n => new NodeInfo(n.Pnn, n.Address,
            n.Deleted ? SharpCtdb.Protocol.NodeFlags.Deleted | SharpCtdb.Protocol.NodeFlags.Disconnected
                      : SharpCtdb.Protocol.NodeFlags.Unhealthy | SharpCtdb.Protocol.NodeFlags.Disconnected)).ToList();
        var settings = new DaemonSettings
        {
            Paths = paths,
            Config = config,
            Nodes = nodes,
            OwnPnn = ownPnn.Value,
            Log = log,
            Tunables = tunables,
            ClusterLock = clusterLock,
            MutexHelperPath = DefaultMutexHelper(),
            ClusterLockLaunchSpec = clusterLock is null ? null : LockSpecDyingWithUs(clusterLock, DefaultMutexHelper()),
            PublicAddresses = [.. publicAddresses.Entries.Select(e => (e.Address, (uint)e.MaskBits, e.Interfaces))],
            FastStart = paths.TestMode,
            KeepaliveVersion = KeepaliveVersion(),
        };
        // The event daemon of 4.17 runs in-process: one runner for ctdbd's own events and the eventd socket.
        var runnerSettings = EventRunnerSettings.ForDaemon(paths, config, interactive);
        var eventRunner = new EventRunner(runnerSettings, log);
        var notifications = new NotificationRunner(paths.NotifyScript, runnerSettings.Environment, log);
        var eventd = new EventDaemonServer(paths.EventdSocket, eventRunner, log);
        var cluster = new ClusterLoop(settings, new EventRunnerHooks(eventRunner, notifications));

        ClientServer clients;
        try
        {
            clients = ClientServer.Bind(paths.SocketPath, cluster);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            log.Error($"Cannot bind to socket '{paths.SocketPath}' - {e.Message}");
            return 10;
        }
        log.Notice($"PNN is {ownPnn.Value}");
        try
        {
            await eventd.StartAsync(cluster.Stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            log.Error($"Failed to start event daemon: {e.Message}");
            clients.Stop();
            return 1;
        }

        var startTime = Stopwatch.GetTimestamp();
        var transport = new NodeTransport(new NodeTransportOptions
        {
            OwnPnn = ownPnn.Value,
            OwnAddress = nodesFile.Nodes[(int)ownPnn.Value].Address,
            Nodes = [.. nodesFile.Nodes.Select(n => new TransportNode(n.Pnn, n.Address, n.Deleted))],
            KeepaliveIntervalSeconds = () => tunables.KeepaliveInterval,
            KeepaliveLimit = () => tunables.KeepaliveLimit,
            KeepaliveVersion = KeepaliveVersion(),
            UptimeSeconds = () => (uint)Stopwatch.GetElapsedTime(startTime).TotalSeconds,
            Generation = () => cluster.CurrentGeneration,
            EventSink = cluster.Loop.Post,
            ReadOn = cluster.Loop.Watch,
        }, log);
        cluster.Attach(new PeerNetwork(transport, cluster), clients);

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cluster.RequestShutdown(0); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cluster.RequestShutdown(0); });
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
        {
            c.Cancel = true;
            sink.Reopen();
            log.Notice("Reopened logs"); // 4.17's line, written to the new file
        });

        cluster.Start();
        var accept = clients.RunAcceptLoopAsync();
        if (paths.TestMode && StdinIsPipe())
            _ = WatchStdinAsync(cluster, log);

        var exitCode = await cluster.Exited.ConfigureAwait(false);
        clients.Stop();
        await accept.ConfigureAwait(false);
        await eventd.DisposeAsync().ConfigureAwait(false);
        await eventRunner.DisposeAsync().ConfigureAwait(false);
        await notifications.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        await notifications.DisposeAsync().ConfigureAwait(false);
        pidFile.Remove();
        (sink as IDisposable)?.Dispose();
        return exitCode;
    }

    private static uint? DeterminePnn(IPAddress? nodeAddress, IReadOnlyList<NodeEntry> nodes, CtdbLog log)
    {
        if (nodeAddress is not null)
        {
            foreach (var n in nodes)
            {
                if (!n.Deleted && n.Address.Equals(nodeAddress))
                    return n.Pnn;
            }
            log.Error("Can not determine PNN - unknown node address");
            Console.Error.WriteLine("Can not determine PNN - unknown node address");
            return null;
        }
        // Auto-bind: the first nodes-file address we can bind is ours (§3.1).
        foreach (var n in nodes.Where(n => !n.Deleted))
        {
            try
            {
                using var s = new Socket(n.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                s.Bind(new IPEndPoint(n.Address, 4379));
                return n.Pnn;
            }
            catch (SocketException)
            {
            }
        }
        log.Error("Unable to bind to any of the node addresses");
        Console.Error.WriteLine("Unable to bind to any of the node addresses");
        return null;
    }

    private static uint KeepaliveVersion()
    {
        var v = Environment.GetEnvironmentVariable("CTDB_TEST_SAMBA_VERSION");
        return v is not null && uint.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0x00040011;
    }

    private static string DefaultMutexHelper()
    {
        if (Environment.GetEnvironmentVariable("CTDB_CLUSTER_MUTEX_HELPER") is { Length: > 0 } env)
            return env;
        var ours = Path.Combine(AppContext.BaseDirectory, "ctdb_mutex_fcntl_helper");
        return File.Exists(ours) ? ours : Path.Combine(CtdbPaths.CompiledHelperDir, "ctdb_mutex_fcntl_helper");
    }

    /// <summary>
    /// Runs the lock helper under `setpriv --pdeathsig KILL` so that it dies the moment this daemon dies (e.g.
    /// SIGKILL): the fcntl lock is then free at once and the survivors elect a new leader without waiting for the
    /// helper's own 5-s parent check. The helper is forked from the long-lived loop thread, which is what
    /// PR_SET_PDEATHSIG watches. Specs with blanks in paths are left alone ("!" specs are split on blanks).
    /// </summary>
    private static string LockSpecDyingWithUs(string spec, string helper)
    {
        const string Setpriv = "/usr/bin/setpriv";
        if (!File.Exists(Setpriv) || Environment.GetEnvironmentVariable("SHARPCTDB_NO_PDEATHSIG") is not null)
            return spec;
        if (spec.StartsWith('!'))
            return spec.Length > 1 ? $"!{Setpriv} --pdeathsig KILL {spec[1..]}" : spec;
        if (spec.Any(char.IsWhiteSpace) || helper.Any(char.IsWhiteSpace))
            return spec;
        return $"!{Setpriv} --pdeathsig KILL {helper} {spec}";
    }

    private static bool StdinIsPipe()
    {
        try
        {
            return new FileInfo("/proc/self/fd/0").LinkTarget is { } t && t.StartsWith("pipe:", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Test mode: EOF on a piped stdin shuts the daemon down with EPIPE (32), like 4.17.</summary>
    private static async Task WatchStdinAsync(ClusterLoop cluster, CtdbLog log)
    {
        var buf = new byte[256];
        await using var stdin = Console.OpenStandardInput();
        try
        {
            while (await stdin.ReadAsync(buf, cluster.Stopping).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (IOException)
        {
        }
        log.Notice("Shutting down because stdin was closed");
        cluster.RequestShutdown(32);
    }

    /// <summary>
    /// The parent half of daemonising: start ourselves again as the daemon (same arguments, a marker in the
    /// environment, stdio inherited) and exit 0 once it has written its pid file and bound its socket, or with
    /// the child's exit code if it fails first.
    /// </summary>
    private static async Task<int> SpawnDaemonChildAsync(string[] args, CtdbPaths paths)
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find our own executable");
        var psi = new ProcessStartInfo(processPath) { UseShellExecute = false };
        // "dotnet ctdbd.dll": ProcessPath is the dotnet host; the entry assembly must be passed again.
        var cmdline = Environment.GetCommandLineArgs();
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet" && cmdline.Length > 0 && cmdline[0].EndsWith(".dll", StringComparison.Ordinal))
            psi.ArgumentList.Add(cmdline[0]);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment[ChildMarker] = "1";
        using var child = Process.Start(psi) ?? throw new InvalidOperationException("failed to start the daemon process");
        var deadline = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(deadline) < TimeSpan.FromSeconds(60))
        {
            if (child.HasExited)
                return child.ExitCode;
            if (PidFileNames(paths.PidFile) == child.Id && File.Exists(paths.SocketPath))
                return 0;
            await Task.Delay(10).ConfigureAwait(false);
        }
        return 0;
    }

    private static int PidFileNames(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), System.Globalization.CultureInfo.InvariantCulture, out var p) ? p : 0;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
