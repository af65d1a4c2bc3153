using SharpCtdb.Client;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.Daemon.Tests.Databases;

public sealed partial class DatabaseClusterTests
{
    /// <summary>
    /// A migration waits while a client of the dmaster holds the record's chain lock (the daemon never blocks on it: it
    /// retries on the loop's own short timer) and completes once the lock is released; the record then belongs to the
    /// requester.
    /// </summary>
    [Fact]
    public async Task MigrationWaitsForAClientHoldingTheChainLockAndThenCompletes()
    {
        var ct = TestContext.Current.CancellationToken;
        var timeout = TimeSpan.FromSeconds(60);
        await OkAsync(0, "attach", "dbt_busy.tdb");
        await OkAsync(0, "writekey", "dbt_busy.tdb", "busykey", "held");
        var key = "busykey"u8.ToArray();

        await using var owner = await CtdbClient.ConnectAsync(_c.SocketPath(0), ct);
        var dbId = await owner.AttachDbAsync(Pnn.CurrentNode, "dbt_busy.tdb", DbFlags.None, timeout);
        var path = await owner.GetDbPathAsync(Pnn.CurrentNode, dbId, timeout);
        var flags = await owner.GetDbOpenFlagsAsync(Pnn.CurrentNode, dbId, timeout);

        // A robust-mutex chain lock belongs to the thread that took it: hold it on a thread of its own.
        using var locked = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            using var tdb = TdbFile.Open(path, 0, flags, OpenFlags.ReadWrite);
            tdb.ChainLock(key);
            locked.Set();
            release.Wait(ct);
            tdb.ChainUnlock(key);
        })
        {
            IsBackground = true,
        };
        holder.Start();
        try
        {
            Assert.True(locked.Wait(timeout, ct), "the test took the chain lock");
            await using var requester = await CtdbClient.ConnectAsync(_c.SocketPath(1), ct);
            await requester.AttachDbAsync(Pnn.CurrentNode, "dbt_busy.tdb", DbFlags.None, timeout);
            var call = requester.CallAsync(ReqCall.ImmediateMigration, dbId, CallId.FetchFunc, key, [], timeout);
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            Assert.False(call.IsCompleted, "the record migrated while a client of its dmaster held the chain lock");
            release.Set();
            var reply = await call.WaitAsync(timeout, ct);
            Assert.Equal(0, reply.Status);
            Assert.Equal("held"u8.ToArray(), reply.Data);
        }
        finally
        {
            release.Set();
            holder.Join(timeout);
        }
        var header = HeaderOf(await TdbDumpAsync((await DbMapAsync(1))["dbt_busy.tdb"].Path), "busykey");
        Assert.Equal(1u, header.Dmaster);
    }
}
