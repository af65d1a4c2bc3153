#!/bin/bash
# Run while capturing node-to-node traffic: kill the leader (node 0), wait until nodes 1/2 elect a new leader,
# restart node 0 and wait until the cluster is healthy again. Needs CTDB_REAL_DIR / CTDB_REAL_NET of the cluster.
# Run from the repository root (paths are relative to it).
set -u
cluster=../shared/anchors/ctdb-real/cluster.sh
sleep 2
"$cluster" killnode 0 KILL
for _ in $(seq 1 60); do
	l=$("$cluster" ctdb 1 leader 2>/dev/null)
	[ -n "$l" ] && [ "$l" != 0 ] && [ "$l" != UNKNOWN ] && break
	sleep 0.5
done
echo "new leader: $l"
"$cluster" startnode 0
"$cluster" wait 60
