using System.Globalization;
using SharpCtdb.Client;
using SharpCtdb.Protocol;

namespace SharpCtdb.Daemon.Tests.Databases;

public sealed partial class DatabaseClusterTests
{
    /// <summary>
    /// A TRANS3_COMMIT that arrives while its node is in recovery waits for the recovery and then commits (4.17 refuses
    /// it at once and the client resends in a loop); the value reaches every node.
    /// </summary>
    [Fact]
    public async Task CommitArrivingDuringRecoveryWaitsAndThenCommitsEverywhere()
    {
        await OkAsync(0, "attach", "dbt_wait.tdb", "persistent");
        var dbId = uint.Parse((await DbMapAsync(1))["dbt_wait.tdb"].Id, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var timeout = TimeSpan.FromSeconds(60);
        await using var client = await CtdbClient.ConnectAsync(_c.SocketPath(1), TestContext.Current.CancellationToken);
        // The rec_buffer a client builds for its first commit: the record and the sequence number, both rsn 1.
        var batch = new RecBuffer(dbId,
        [
            RecData.WithHeader(0, "wait-key"u8.ToArray(), new LtdbHeader(1, 1), "wait-value"u8),
            RecData.WithHeader(0, "__db_sequence_number__\0"u8.ToArray(), new LtdbHeader(1, 1), BitConverter.GetBytes(1UL)),
        ]).ToBytes();

        // Node 1 enters recovery mode; the leader's next check recovers it and sets it back to NORMAL.
        await client.ControlCheckedAsync(Pnn.CurrentNode, ControlOpcode.SetRecMode, BitConverter.GetBytes((uint)RecoveryMode.Active), timeout);
        var reply = await client.ControlAsync(Pnn.CurrentNode, ControlOpcode.Trans3Commit, batch, timeout);
        Assert.True(reply.Status == 0, $"TRANS3_COMMIT during recovery: status {reply.Status} {reply.ErrorMessage}");

        for (var pnn = 0; pnn < 3; pnn++)
        {
            var r = await OkAsync(pnn, "pfetch", "dbt_wait.tdb", "wait-key");
            Assert.Equal("wait-value", r.Stdout.Trim());
        }
    }
}
