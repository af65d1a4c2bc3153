using SharpCtdb.Events;

namespace SharpCtdb.Daemon;

/// <summary>
/// The daemon's events run in-process by <see cref="EventRunner"/> (component "legacy") and its notifications by
/// <see cref="NotificationRunner"/>. The same runner also serves the eventd socket, so `ctdb event status` sees
/// the daemon's own runs.
/// </summary>
public sealed class EventRunnerHooks(EventRunner runner, NotificationRunner notifications) : IEventHooks
{
    public async Task<int> RunEventAsync(string name, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct)
    {
        var code = await runner.RunLegacyAsync(name, args, timeout, ct).ConfigureAwait(false);
        // No events/legacy directory at all (e.g. a bare test node): nothing to run, which is success. 4.17 always
        // has the directory from its package, so this only keeps script-less set-ups working.
        return code == Errno.ENOENT ? 0 : code;
    }

    public void Notify(string name) => notifications.Notify(name);
}
