#!/bin/bash
# Re-records the golden traffic in this directory from a real Samba ctdbd 4.17 cluster and the Debian `ctdb` tool.
# Usage (from the repository root):
#   CTDB_REAL_DIR=/tmp/sc-golden CTDB_REAL_NET=127.0.81 ../shared/anchors/ctdb-real/cluster.sh start 3
#   tests/SharpCtdb.Protocol.Tests/Golden/record.sh /tmp/sc-golden
#   CTDB_REAL_DIR=/tmp/sc-golden CTDB_REAL_NET=127.0.81 ../shared/anchors/ctdb-real/cluster.sh stop
# The cluster must have nodes 127.0.81.1-3 and public addresses 198.51.100.1-6 (the cluster.sh defaults).
set -eu
cluster=${1:?cluster dir}
here=$(cd "$(dirname "$0")" && pwd)
rec="$here/../../../scripts/record-ctdb-traffic"
# Relative paths only, so that no path of the recording machine ends up in the recordings.
cd "$here"
export CTDB_TEST_MODE=yes CTDB_BASE="$cluster/node.0"
upstream="$cluster/node.0/run/ctdbd.socket"

r() { # r NAME ctdb-args...
	local name=$1; shift
	"$rec" run --upstream "$upstream" --out "$name.json" --name "$*" -- ctdb "$@"
}

r status status
r status-X -X status
r pnn pnn
r ping ping
r uptime uptime
r runstate runstate
r getcapabilities getcapabilities
r getvar-MonitorInterval getvar MonitorInterval
r getvar-unknown getvar NoSuchTunable
r setvar-RecoverInterval setvar RecoverInterval 1
r listvars listvars
r getdebug getdebug
r setdebug-NOTICE setdebug NOTICE
r getpid getpid
r leader leader
r ip ip
r ip-all ip all
r ip-v -v ip
r ip-X-all -X ip all
r ipinfo ipinfo 198.51.100.1
r ipinfo-unknown ipinfo 192.0.2.77
r ifaces ifaces
r nodestatus-all nodestatus all
r getreclock getreclock
r attach-x attach x.tdb
r attach-persistent attach sc_golden_p.tdb persistent
r getdbmap getdbmap
r getdbstatus-x getdbstatus x.tdb
r dbstatistics-x dbstatistics x.tdb
r statistics statistics
r stats stats 1
r gettickles gettickles 198.51.100.1
r n1-uptime -n 1 uptime
r writekey writekey x.tdb goldenkey goldenvalue
r readkey readkey x.tdb goldenkey
r catdb catdb x.tdb
r pstore pstore sc_golden_p.tdb pkey pvalue
r pfetch pfetch sc_golden_p.tdb pkey
r getdbseqnum getdbseqnum sc_golden_p.tdb
r process-exists process-exists 1
r listnodes listnodes
r detach-x detach x.tdb
r attach-x-persistent-mismatch attach x.tdb persistent
r setvar-obsolete setvar MaxRedirectCount 4
r setdbsticky-x setdbsticky x.tdb
r getdbstatus-persistent getdbstatus sc_golden_p.tdb
# REPLY_CALL with data (the tool never fetches through the daemon): a tiny raw client.
"$rec" run --upstream "$upstream" --out "fetch-calls.json" --name "fetch calls x.tdb goldenkey" -- python3 ./fetch-client.py 0x51846878 goldenkey
ctdb writekey x.tdb k5 abcde
"$rec" run --upstream "$upstream" --out "fetch-calls-5.json" --name "fetch calls x.tdb k5" -- python3 ./fetch-client.py 0x51846878 k5
"$rec" run --upstream "$upstream" --out "raw-controls.json" --name "raw controls" -- python3 ./raw-controls.py
# Node-to-node traffic (keepalives, leader broadcasts, election, recovery) while the leader is killed and restarted.
CTDB_REAL_DIR="$cluster" "$rec" tcp --net "${CTDB_REAL_NET:-127.0.81}" --seconds 45 --out "node-traffic.json" \
	--name "node traffic: kill and restart leader" -- ./node-events.sh

# Start-up of a cluster without a cluster lock: a classic election with CTDB_SRVID_ELECTION messages.
elect=/tmp/sc-elect
CTDB_REAL_DIR=$elect CTDB_REAL_NET=${CTDB_REAL_NET:-127.0.81} ../shared/anchors/ctdb-real/cluster.sh setup 3
sed -i '/cluster lock/d' "$elect"/node.*/ctdb.conf
CTDB_REAL_DIR=$elect "$rec" tcp --net "${CTDB_REAL_NET:-127.0.81}" --seconds 30 --out node-startup-election.json \
	--name "node traffic: start 3 nodes without a cluster lock" -- ./start-without-lock.sh
CTDB_REAL_DIR=$elect ../shared/anchors/ctdb-real/cluster.sh stop
