#!/bin/sh
# SharpCTDB notification hook: ctdbd runs "notify.sh EVENT" on state changes
# (init, setup, startup, healthy, unhealthy). Every executable file in
# $CTDB_BASE/events/notification/ is run with the event name. A failing
# handler is reported on stderr but never fails the notification: ctdbd
# must not be affected by a broken handler.

[ -n "$CTDB_BASE" ] || CTDB_BASE=/etc/ctdb
event="$1"

if [ "$CTDB_NOTIFY_SYSLOG" = "yes" ]; then
    "${CTDB_LOGGER:-logger}" -t ctdbd-notify "event: $event" 2>/dev/null || true
fi

dir="$CTDB_BASE/events/notification"
[ -d "$dir" ] || exit 0
for f in "$dir"/*; do
    if [ ! -f "$f" ] || [ ! -x "$f" ]; then
        continue
    fi
    "$f" "$event"
    rc=$?
    [ "$rc" -eq 0 ] || echo "notify.sh: $f $event failed with status $rc" >&2
done
exit 0
