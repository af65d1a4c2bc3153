using System.Text;

namespace SharpCtdb.Tool;

/// <summary>A tool command: name, usage text, argument count and whether it talks to the daemon.</summary>
public sealed record CommandDef(
    string Name,
    Func<ToolContext, string[], Task<int>> Run,
    string Help,
    string? ArgsHelp = null,
    int MinArgs = 0,
    int MaxArgs = 0,
    bool WithoutDaemon = false,
    bool LocalOnly = false,
    bool Hidden = false);

/// <summary>The command table, in 4.17's usage order.</summary>
public static class Commands
{
    public static readonly CommandDef[] All =
    [
        new("version", Cmd.VersionAsync, "show version of ctdb", WithoutDaemon: true),
        new("status", Cmd.StatusAsync, "show node status"),
        new("uptime", Cmd.UptimeAsync, "show node uptime"),
        new("ping", Cmd.PingAsync, "ping a node"),
        new("runstate", Cmd.RunStateAsync, "get/check runstate of a node", "[setup|first_recovery|startup|running]", 0, -1),
        new("getvar", Cmd.GetVarAsync, "get a tunable variable", "<name>", 1, 1),
        new("setvar", Cmd.SetVarAsync, "set a tunable variable", "<name> <value>", 2, 2),
        new("listvars", Cmd.ListVarsAsync, "list tunable variables"),
        new("statistics", Cmd.StatisticsAsync, "show ctdb statistics"),
        new("statisticsreset", Cmd.StatisticsResetAsync, "reset ctdb statistics"),
        new("stats", Cmd.StatsAsync, "show rolling statistics", "[count]", 0, 1),
        new("ip", Cmd.IpAsync, "show public ips", "[all]", 0, 1),
        new("ipinfo", Cmd.IpInfoAsync, "show public ip details", "<ip>", 1, 1),
        new("ifaces", Cmd.IfacesAsync, "show interfaces"),
        new("setifacelink", Cmd.SetIfaceLinkAsync, "set interface link status", "<iface> up|down", 2, 2),
        new("process-exists", Cmd.ProcessExistsAsync, "check if a process exists on a node", "<pid> [<srvid>]", 1, 2),
        new("getdbmap", DbCmd.GetDbMapAsync, "show attached databases"),
        new("getdbstatus", DbCmd.GetDbStatusAsync, "show database status", "<dbname|dbid>", 1, 1),
        new("catdb", DbCmd.CatDbAsync, "dump cluster-wide ctdb database", "<dbname|dbid>", 1, 1, LocalOnly: true),
        new("cattdb", DbCmd.CatTdbAsync, "dump local ctdb database", "<dbname|dbid>", 1, 1, LocalOnly: true),
        new("getcapabilities", Cmd.GetCapabilitiesAsync, "show node capabilities"),
        new("pnn", Cmd.PnnAsync, "show the pnn of the currnet node", LocalOnly: true),
        new("lvs", Cmd.LvsAsync, "show lvs configuration", "leader|list|status", 1, 1, LocalOnly: true),
        new("setdebug", Cmd.SetDebugAsync, "set debug level", "ERROR|WARNING|NOTICE|INFO|DEBUG", 1, 1),
        new("getdebug", Cmd.GetDebugAsync, "get debug level"),
        new("attach", DbCmd.AttachAsync, "attach a database", "<dbname> [persistent|replicated]", 1, 2, LocalOnly: true),
        new("detach", DbCmd.DetachAsync, "detach database(s)", "<dbname|dbid> ...", 1, -1, LocalOnly: true),
        new("dumpmemory", Cmd.DumpMemoryAsync, "dump ctdbd memory map"),
        new("rddumpmemory", Cmd.RdDumpMemoryAsync, "dump recoverd memory map"),
        new("getpid", Cmd.GetPidAsync, "get ctdbd process ID"),
        new("disable", NodeCmd.DisableAsync, "disable a node"),
        new("enable", NodeCmd.EnableAsync, "enable a node"),
        new("stop", NodeCmd.StopAsync, "stop a node"),
        new("continue", NodeCmd.ContinueAsync, "continue a stopped node"),
        new("ban", NodeCmd.BanAsync, "ban a node", "<bantime>", 1, 1),
        new("unban", NodeCmd.UnbanAsync, "unban a node"),
        new("shutdown", NodeCmd.ShutdownAsync, "shutdown ctdb daemon"),
        new("recover", NodeCmd.RecoverAsync, "force recovery"),
        new("sync", NodeCmd.IpReallocateAsync, "run ip reallocation (deprecated)"),
        new("ipreallocate", NodeCmd.IpReallocateAsync, "run ip reallocation"),
        new("gratarp", IpCmd.GratArpAsync, "send a gratuitous arp", "<ip> <interface>", 2, 2),
        new("tickle", IpCmd.TickleAsync, "send a tcp tickle ack", "<srcip:port> <dstip:port>", 0, 2, WithoutDaemon: true),
        new("gettickles", IpCmd.GetTicklesAsync, "get the list of tickles", "<ip> [<port>]", 1, 2),
        new("addtickle", IpCmd.AddTickleAsync, "add a tickle", "<ip>:<port> <ip>:<port>", 0, 2),
        new("deltickle", IpCmd.DelTickleAsync, "delete a tickle", "<ip>:<port> <ip>:<port>", 0, 2),
        new("listnodes", Cmd.ListNodesAsync, "list nodes in the cluster", WithoutDaemon: true),
        new("reloadnodes", NodeCmd.ReloadNodesAsync, "reload the nodes file all nodes", LocalOnly: true),
        new("moveip", IpCmd.MoveIpAsync, "move an ip address to another node", "<ip> <node>", 2, 2, LocalOnly: true),
        new("addip", IpCmd.AddIpAsync, "add an ip address to a node", "<ip/mask> <iface>", 2, 2),
        new("delip", IpCmd.DelIpAsync, "delete an ip address from a node", "<ip>", 1, 1),
        new("backupdb", DbCmd.BackupDbAsync, "backup a database into a file", "<dbname|dbid> <file>", 2, 2, LocalOnly: true),
        new("restoredb", DbCmd.RestoreDbAsync, "restore a database from a file", "<file> [dbname]", 1, 2, LocalOnly: true),
        new("dumpdbbackup", DbCmd.DumpDbBackupAsync, "dump database from a backup file", "<file>", 1, 1, WithoutDaemon: true),
        new("wipedb", DbCmd.WipeDbAsync, "wipe the contents of a database.", "<dbname|dbid>", 1, 1, LocalOnly: true),
        new("leader", Cmd.LeaderAsync, "show the pnn of the leader"),
        new("event", Cmd.EventAsync, "event and event script commands", MinArgs: 1, MaxArgs: -1, WithoutDaemon: true),
        new("scriptstatus", Cmd.ScriptStatusAsync, "show event script status",
            "[init|setup|startup|monitor|takeip|releaseip|ipreallocated]", 0, 1, WithoutDaemon: true),
        new("natgw", Cmd.NatgwAsync, "show natgw configuration", "leader|list|status", 1, 1, LocalOnly: true),
        new("getreclock", Cmd.GetReclockAsync, "get recovery lock file"),
        new("setlmasterrole", Cmd.SetLmasterRoleAsync, "set LMASTER role", "on|off", 1, 1),
        new("setleaderrole", Cmd.SetLeaderRoleAsync, "set LEADER role", "on|off", 1, 1),
        new("setdbreadonly", DbCmd.SetDbReadonlyAsync, "enable readonly records", "<dbname|dbid>", 1, 1),
        new("setdbsticky", DbCmd.SetDbStickyAsync, "enable sticky records", "<dbname|dbid>", 1, 1),
        new("pfetch", DbCmd.PFetchAsync, "fetch record from persistent database", "<dbname|dbid> <key>", 2, 3, LocalOnly: true),
        new("pstore", DbCmd.PStoreAsync, "write record to persistent database", "<dbname|dbid> <key> <value>", 3, 3, LocalOnly: true),
        new("pdelete", DbCmd.PDeleteAsync, "delete record from persistent database", "<dbname|dbid> <key>", 2, 2, LocalOnly: true),
        new("ptrans", DbCmd.PTransAsync, "update a persistent database (from file or stdin)", "<dbname|dbid> [<file>]", 1, 2, LocalOnly: true),
        new("tfetch", DbCmd.TFetchAsync, "fetch a record", "<tdb-file> <key> [<file>]", 2, 3, WithoutDaemon: true),
        new("tstore", DbCmd.TStoreAsync, "store a record", "<tdb-file> <key> <data> [<rsn> <dmaster> <flags>]", 3, 6, WithoutDaemon: true),
        new("readkey", DbCmd.ReadKeyAsync, "read value of a database key", "<dbname|dbid> <key> [readonly]", 2, 3, LocalOnly: true),
        new("writekey", DbCmd.WriteKeyAsync, "write value for a database key", "<dbname|dbid> <key> <value>", 3, 3, LocalOnly: true),
        new("deletekey", DbCmd.DeleteKeyAsync, "delete a database key", "<dbname|dbid> <key>", 2, 2, LocalOnly: true),
        new("checktcpport", IpCmd.CheckTcpPortAsync, "check if a service is bound to a specific tcp port or not", "<port>", 1, 1,
            WithoutDaemon: true),
        new("getdbseqnum", DbCmd.GetDbSeqnumAsync, "get database sequence number", "<dbname|dbid>", 1, 1, LocalOnly: true),
        new("nodestatus", Cmd.NodeStatusAsync, "show and return node status", "[all|<pnn-list>]", 0, 1),
        new("dbstatistics", DbCmd.DbStatisticsAsync, "show database statistics", "<dbname|dbid>", 1, 1),
        new("reloadips", NodeCmd.ReloadIpsAsync, "reload the public addresses file", "[all|<pnn-list>]", 0, 1),
        // Beyond 4.17: the public IP allocation simulator of SharpCtdb.Failover.
        new("ipalloc", Cmd.IpAllocAsync, "run the public IP allocation algorithm on a state file", "[args...]", 0, -1,
            WithoutDaemon: true, Hidden: true),
    ];

    public static CommandDef? Find(string name) => Array.Find(All, c => c.Name == name);

    /// <summary>Commands whose names are close to <paramref name="name"/> (edit distance ≤ 2, or a shared prefix).</summary>
    public static List<string> Similar(string name)
    {
        var scored = All.Where(c => !c.Hidden)
            .Select(c => (c.Name, Distance: Levenshtein(name.ToLowerInvariant(), c.Name)))
            .Where(x => x.Distance <= 2 || (name.Length >= 3 && x.Name.StartsWith(name, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal)
            .Take(5)
            .Select(x => x.Name)
            .ToList();
        return scored;
    }

    private static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}

/// <summary>popt-style help texts, matching the 4.17 tool byte for byte.</summary>
public static class Usage
{
    private const string Options =
        "  -d, --debug=STRING       debug level\n" +
        "  -t, --timelimit=INT      timelimit (in seconds)\n" +
        "  -n, --node=INT           node specification - integer\n" +
        "  -Y                       enable machine readable output\n" +
        "  -x, --separator=CHAR     specify separator for machine readable output\n" +
        "  -X                       enable machine parsable output with separator |\n" +
        "  -v, --verbose            enable verbose output\n" +
        "  -T, --maxruntime=INT     die if runtime exceeds this limit (in seconds)\n";

    private const string HelpOptions =
        "\nHelp options:\n" +
        "  -?, --help               Show this help message\n" +
        "      --usage              Display brief usage message\n";

    public static string Brief() =>
        "Usage: [-?YXv] [-?|--help] [--usage] [-d|--debug=STRING]\n" +
        "        [-t|--timelimit=INT] [-n|--node=INT] [-Y] [-x|--separator=CHAR]\n" +
        "        [-X] [-v|--verbose] [-T|--maxruntime=INT]\n";

    public static string Help() => "Usage: [OPTION...]\n" + Options + HelpOptions;

    public static string Full()
    {
        var sb = new StringBuilder(Help());
        sb.Append("\nCommands:\n");
        foreach (var c in Commands.All.Where(c => !c.Hidden))
            AppendCommand(sb, c);
        return sb.ToString();
    }

    public static string ForCommand(CommandDef c)
    {
        var sb = new StringBuilder(Brief());
        sb.Append("\nCommands:\n");
        AppendCommand(sb, c);
        return sb.ToString();
    }

    private static void AppendCommand(StringBuilder sb, CommandDef c) =>
        sb.Append("  ").Append(c.Name.PadRight(15)).Append(' ').Append((c.ArgsHelp ?? "").PadRight(27)).Append("  ")
          .Append(c.Help).Append('\n');
}
