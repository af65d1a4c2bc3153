using System.Net;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tool;

/// <summary>Node state changes (disable/enable/stop/continue/ban/unban), recovery, IP reallocation and reloads.</summary>
public static class NodeCmd
{
    private static async Task<NodeFlags> FlagsOfAsync(ToolContext ctx, uint pnn)
    {
        var map = await Cmd.GetNodeMapAsync(ctx).ConfigureAwait(false);
        return map.Find(pnn)?.Flags ?? 0;
    }

    /// <summary>check flag → control → poll GET_NODEMAP once a second until the flag changes → ipreallocate().</summary>
    private static async Task<int> ChangeFlagAsync(ToolContext ctx, NodeFlags flag, bool set, string already, ControlOpcode op, byte[]? data)
    {
        var flags = await FlagsOfAsync(ctx, ctx.CmdPnn).ConfigureAwait(false);
        if (((flags & flag) != 0) == set)
        {
            await ctx.Err.WriteLineAsync($"Node {ctx.CmdPnn} {already}").ConfigureAwait(false); // stderr, as Debian's tool
            return 0;
        }
        await ctx.Ctl(op, ctx.CmdPnn, ctx.Client.RawDataAsync(ctx.CmdPnn, op, data, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        while (true)
        {
            flags = await FlagsOfAsync(ctx, ctx.CmdPnn).ConfigureAwait(false);
            if (((flags & flag) != 0) == set)
                break;
            await Task.Delay(TimeSpan.FromSeconds(1), ctx.Cancelled).ConfigureAwait(false);
        }
        return await IpReallocateAsync(ctx, []).ConfigureAwait(false);
    }

    public static Task<int> DisableAsync(ToolContext ctx, string[] args) =>
        ChangeFlagAsync(ctx, NodeFlags.PermanentlyDisabled, true, "is already disabled", ControlOpcode.DisableNode, null);

    public static Task<int> EnableAsync(ToolContext ctx, string[] args) =>
        ChangeFlagAsync(ctx, NodeFlags.PermanentlyDisabled, false, "is not disabled", ControlOpcode.EnableNode, null);

    public static Task<int> StopAsync(ToolContext ctx, string[] args) =>
        ChangeFlagAsync(ctx, NodeFlags.Stopped, true, "is already stopped", ControlOpcode.StopNode, null);

    public static Task<int> ContinueAsync(ToolContext ctx, string[] args) =>
        ChangeFlagAsync(ctx, NodeFlags.Stopped, false, "is not stopped", ControlOpcode.ContinueNode, null);

    public static async Task<int> BanAsync(ToolContext ctx, string[] args)
    {
        if (!Cmd.TryParseULong(args[0], out var seconds) || seconds > uint.MaxValue)
            return 22;
        if (seconds == 0)
        {
            await ctx.Err.WriteLineAsync("Ban time cannot be zero").ConfigureAwait(false);
            return 22;
        }
        return await ChangeFlagAsync(ctx, NodeFlags.Banned, true, "is already banned", ControlOpcode.SetBanState,
            new BanState(ctx.CmdPnn, (uint)seconds).ToBytes()).ConfigureAwait(false);
    }

    public static Task<int> UnbanAsync(ToolContext ctx, string[] args) =>
        ChangeFlagAsync(ctx, NodeFlags.Banned, false, "is not banned", ControlOpcode.SetBanState, new BanState(ctx.CmdPnn, 0).ToBytes());

    /// <summary>A reply srvid in the tool range, unique to this process (0xCE01 | pid&amp;0xFFFF &lt;&lt; 16 | n).</summary>
    public static ulong ToolSrvid(uint n) => 0xCE01000000000000UL | ((ulong)(Environment.ProcessId & 0xFFFF) << 16) | n;

    /// <summary>Sends a request message to the leader(s) and waits for the i32 answer on our own srvid, resending every -t
    /// seconds. Unlike 4.17 (which waits forever) it gives up shortly before the -T limit with a clear message.</summary>
    private static async Task<int?> LeaderRequestAsync(ToolContext ctx, ulong requestSrvid, Func<ulong, byte[]> message, ulong replySrvid)
    {
        var reply = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        ctx.Client.SetMessageHandler(replySrvid, (_, data) =>
        {
            if (data.Length == 4)
                reply.TrySetResult(BitConverter.ToInt32(data, 0));
        });
        await ctx.Ctl(ControlOpcode.RegisterSrvid, ctx.Pnn, ctx.Client.RegisterSrvidAsync(replySrvid, ctx.Timeout, ctx.Cancelled))
            .ConfigureAwait(false);
        var limit = ctx.Options.MaxRuntime > 0 ? TimeSpan.FromSeconds(Math.Max(1, ctx.Options.MaxRuntime - 1)) : Timeout.InfiniteTimeSpan;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ctx.Cancelled);
        deadline.CancelAfter(limit);
        try
        {
            while (true)
            {
                await ctx.Client.SendMessageAsync(Pnn.BroadcastConnected, requestSrvid, message(replySrvid), ctx.Cancelled).ConfigureAwait(false);
                try
                {
                    return await reply.Task.WaitAsync(ctx.Timeout, deadline.Token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // No leader answered within -t: ask again, as 4.17 does.
                }
            }
        }
        catch (OperationCanceledException) when (!ctx.Cancelled.IsCancellationRequested)
        {
            return null;
        }
        finally
        {
            ctx.Client.SetMessageHandler(replySrvid, null);
            try
            {
                await ctx.Client.DeregisterSrvidAsync(replySrvid, ctx.Timeout, ctx.Cancelled).ConfigureAwait(false);
            }
            catch (Exception e) when (e is Client.ControlFailedException or Client.ControlTimeoutException or Client.CtdbConnectionException)
            {
            }
        }
    }

    /// <summary>ipreallocate(): TAKEOVER_RUN to all connected nodes; the leader answers after its takeover run.</summary>
    public static async Task<int> IpReallocateAsync(ToolContext ctx, string[] args)
    {
        var result = await LeaderRequestAsync(ctx, Srvid.TakeoverRun, srvid => new SrvidMessage(ctx.Pnn, srvid).ToBytes(), ToolSrvid(1))
            .ConfigureAwait(false);
        if (result is null)
        {
            await ctx.Err.WriteLineAsync(
                $"IP reallocation failed: no leader answered the takeover run request within {ctx.Options.MaxRuntime} seconds").ConfigureAwait(false);
            return 110;
        }
        if (result < 0)
        {
            await ctx.Err.WriteLineAsync("IP reallocation failed").ConfigureAwait(false);
            return -result.Value;
        }
        return 0;
    }

    public static async Task<int> ShutdownAsync(ToolContext ctx, string[] args)
    {
        await ctx.Client.SendControlNoReply(ctx.CmdPnn, ControlOpcode.Shutdown, ReadOnlyMemory<byte>.Empty, 0, ctx.Cancelled).ConfigureAwait(false);
        if (ctx.CmdPnn == ctx.Pnn)
            await ctx.Client.Closed.WaitAsync(ctx.Cancelled).ConfigureAwait(false);
        return 0;
    }

    /// <summary>get_generation(): the leader's generation once it is in normal mode with a valid generation.</summary>
    private static async Task<uint> GenerationAsync(ToolContext ctx)
    {
        while (true)
        {
            var leader = await ctx.GetLeaderAsync().ConfigureAwait(false);
            if (leader != Pnn.Unknown)
            {
                var mode = await ctx.Ctl(ControlOpcode.GetRecMode, leader, ctx.Client.GetRecModeAsync(leader, ctx.Timeout, ctx.Cancelled))
                    .ConfigureAwait(false);
                if (mode == RecoveryMode.Normal)
                {
                    var vnn = await ctx.Ctl(ControlOpcode.GetVnnMap, leader, ctx.Client.GetVnnMapAsync(leader, ctx.Timeout, ctx.Cancelled))
                        .ConfigureAwait(false);
                    if (vnn.Generation != Wire.InvalidGeneration)
                        return vnn.Generation;
                }
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ctx.Cancelled).ConfigureAwait(false);
        }
    }

    public static async Task<int> RecoverAsync(ToolContext ctx, string[] args)
    {
        var generation = await GenerationAsync(ctx).ConfigureAwait(false);
        await ctx.Ctl(ControlOpcode.SetRecMode, ctx.CmdPnn, ctx.Client.RawDataAsync(ctx.CmdPnn, ControlOpcode.SetRecMode,
            BitConverter.GetBytes((uint)RecoveryMode.Active), ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        while (await GenerationAsync(ctx).ConfigureAwait(false) == generation)
            await Task.Delay(TimeSpan.FromSeconds(1), ctx.Cancelled).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> ReloadNodesAsync(ToolContext ctx, string[] args)
    {
        var path = ctx.NodesFile;
        List<NodesFileEntry> file;
        try
        {
            file = NodesFileReader.Read(path);
        }
        catch (IOException)
        {
            await ctx.Err.WriteLineAsync($"Failed to read nodes file \"{path}\"").ConfigureAwait(false);
            return 1;
        }
        var map = await Cmd.GetNodeMapAsync(ctx).ConfigureAwait(false);
        // Every connected node must see the same nodes file as we do.
        foreach (var n in map.Nodes.Where(n => (n.Flags & (NodeFlags.Disconnected | NodeFlags.Deleted)) == 0))
        {
            NodeMap remote;
            try
            {
                remote = await ctx.Ctl(ControlOpcode.GetNodesFile, n.Pnn, ctx.Client.GetNodesFileAsync(n.Pnn, ctx.Timeout, ctx.Cancelled))
                    .ConfigureAwait(false);
            }
            catch (ControlErrorException)
            {
                await ctx.Err.WriteLineAsync($"ERROR: Failed to get nodes file from node {n.Pnn}").ConfigureAwait(false);
                return 1;
            }
            if (!SameNodes(file, remote))
            {
                await ctx.Err.WriteLineAsync($"ERROR: Nodes file on node {n.Pnn} doesn't match this node").ConfigureAwait(false);
                return 1;
            }
        }
        var changed = false;
        var error = false;
        for (var i = 0; i < file.Count; i++)
        {
            var f = file[i];
            var cur = i < map.Nodes.Count ? map.Nodes[i] : null;
            if (cur is null)
            {
                if (!f.Deleted)
                {
                    await ctx.Out.WriteLineAsync($"Node {f.Pnn} is NEW").ConfigureAwait(false);
                    changed = true;
                }
                continue;
            }
            var curDeleted = (cur.Flags & NodeFlags.Deleted) != 0;
            if (f.Deleted && !curDeleted)
            {
                await ctx.Out.WriteLineAsync($"Node {f.Pnn} is DELETED").ConfigureAwait(false);
                changed = true;
                if ((cur.Flags & NodeFlags.Disconnected) == 0)
                {
                    await ctx.Err.WriteLineAsync($"ERROR: Node {f.Pnn} is still connected").ConfigureAwait(false);
                    error = true;
                }
            }
            else if (!f.Deleted && curDeleted)
            {
                await ctx.Out.WriteLineAsync($"Node {f.Pnn} is UNDELETED").ConfigureAwait(false);
                changed = true;
            }
            else if (!f.Deleted && !cur.Addr.SameAddress(new SockAddr(IPAddress.Parse(f.Address))))
            {
                await ctx.Err.WriteLineAsync($"ERROR: Node {f.Pnn} has changed IP address (was {cur.Addr}, now {f.Address})")
                    .ConfigureAwait(false);
                error = true;
            }
        }
        if (map.Nodes.Count > file.Count)
        {
            for (var i = file.Count; i < map.Nodes.Count; i++)
            {
                if ((map.Nodes[i].Flags & NodeFlags.Deleted) == 0)
                {
                    await ctx.Err.WriteLineAsync($"ERROR: Node {map.Nodes[i].Pnn} is missing from the nodes file").ConfigureAwait(false);
                    error = true;
                }
            }
        }
        if (error)
        {
            await ctx.Err.WriteLineAsync("ERROR: Nodes will not be reloaded due to previous error").ConfigureAwait(false);
            return 1;
        }
        if (!changed)
        {
            await ctx.Out.WriteLineAsync("No change in nodes file, skipping unnecessary reload").ConfigureAwait(false);
            return 0;
        }
        var timeout = (uint)(2 * ctx.Options.TimeLimit);
        var disabled = await LeaderRequestAsync(ctx, Srvid.DisableRecoveries, s => new DisableMessage(ctx.Pnn, s, timeout).ToBytes(),
            ToolSrvid(2)).ConfigureAwait(false);
        if (disabled is null or < 0)
        {
            await ctx.Err.WriteLineAsync("Failed to disable recoveries").ConfigureAwait(false);
            return 1;
        }
        foreach (var n in map.Nodes.Where(n => (n.Flags & (NodeFlags.Disconnected | NodeFlags.Deleted)) == 0))
        {
            await ctx.Ctl(ControlOpcode.ReloadNodesFile, n.Pnn,
                ctx.Client.RawDataAsync(n.Pnn, ControlOpcode.ReloadNodesFile, null, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
        }
        await LeaderRequestAsync(ctx, Srvid.DisableRecoveries, s => new DisableMessage(ctx.Pnn, s, 0).ToBytes(), ToolSrvid(2))
            .ConfigureAwait(false);
        return 0;
    }

    private static bool SameNodes(List<NodesFileEntry> file, NodeMap remote)
    {
        if (file.Count != remote.Nodes.Count)
            return false;
        for (var i = 0; i < file.Count; i++)
        {
            var r = remote.Nodes[i];
            var rDeleted = (r.Flags & NodeFlags.Deleted) != 0;
            if (file[i].Deleted != rDeleted)
                return false;
            if (!rDeleted && !r.Addr.SameAddress(new SockAddr(IPAddress.Parse(file[i].Address))))
                return false;
        }
        return true;
    }

    public static async Task<int> ReloadIpsAsync(ToolContext ctx, string[] args)
    {
        var map = await Cmd.GetNodeMapAsync(ctx).ConfigureAwait(false);
        List<uint> targets = args.Length == 0 || args[0] == "all"
            ? [.. map.Nodes.Where(n => (n.Flags & NodeFlags.Inactive) == 0).Select(n => n.Pnn)]
            : Cmd.ParseNodeList(ctx, args[0], map);
        var timeout = (uint)(2 * ctx.Options.TimeLimit);
        var disabled = await LeaderRequestAsync(ctx, Srvid.DisableTakeoverRuns, s => new DisableMessage(ctx.Pnn, s, timeout).ToBytes(),
            ToolSrvid(3)).ConfigureAwait(false);
        if (disabled is null or < 0)
        {
            await ctx.Err.WriteLineAsync("Failed to disable takeover runs").ConfigureAwait(false);
            return 1;
        }
        var failed = false;
        foreach (var pnn in targets)
        {
            try
            {
                await ctx.Ctl(ControlOpcode.ReloadPublicIps, pnn,
                    ctx.Client.RawDataAsync(pnn, ControlOpcode.ReloadPublicIps, null, ctx.Timeout, ctx.Cancelled)).ConfigureAwait(false);
            }
            catch (ControlErrorException)
            {
                await ctx.Err.WriteLineAsync($"Failed to reload IPs on node {pnn}").ConfigureAwait(false);
                failed = true;
            }
        }
        await LeaderRequestAsync(ctx, Srvid.DisableTakeoverRuns, s => new DisableMessage(ctx.Pnn, s, 0).ToBytes(), ToolSrvid(3))
            .ConfigureAwait(false);
        if (failed)
            return 1;
        return await IpReallocateAsync(ctx, []).ConfigureAwait(false);
    }
}
