#!/bin/bash
# Persistent commits under node kills, Samba's ctdbd vs ours, through the same harness (../shared anchors' cluster.sh)
# and Debian's ctdb tool. For DURATION seconds one new key is committed per `ctdb ptrans` through a random node while a
# random node is SIGKILLed every KILL_EVERY seconds and restarted 2 s later; afterwards every node must hold every
# acknowledged key. Failed commits are split into "node down" (the tool could not reach a killed daemon, which no daemon
# can help) and "refused" (a live daemon did not acknowledge).
# Usage: bench/ptrans-faults.sh [DURATION] [KILL_EVERY]     (defaults 60 s, 4 s)
# Env: CTDBD_OURS (default artifacts/bin/ctdbd), BENCH_NET (default 127.0.116), BENCH_DIR (temp prefix, default
# /tmp/sc-bench-pf), DAEMONS ("samba ours").
# The script's own floor: each commit goes to a random node, and for >= 2 s of every >= 6-s kill cycle one node has no
# daemon, so >= 1/3 x 2/6 = 11 % of commits (more by count: a refused connection returns in milliseconds, a commit
# takes tens) must fail on any daemon; "acknowledged of live" leaves those out.
set -u
cd "$(dirname "$0")/.."
REPO=$PWD
C="$REPO/../shared/anchors/ctdb-real/cluster.sh"
[ -x "$C" ] || { echo "cluster.sh not found at $C"; exit 1; }
DUR=${1:-60}
EVERY=${2:-4}
OURS=${CTDBD_OURS:-$REPO/artifacts/bin/ctdbd}
export CTDB_REAL_NET=${BENCH_NET:-127.0.116}
TOOL=/usr/bin/ctdb
DB=faults.tdb

run_one() {
	local name=$1 daemon=$2
	export CTDB_REAL_DIR=${BENCH_DIR:-/tmp/sc-bench-pf}-$name-$$
	export CTDBD=$daemon
	local W
	W=$(mktemp -d "${BENCH_DIR:-/tmp/sc-bench-pf}-w-XXXX")
	tool() { local p=$1; shift; CTDB_TEST_MODE=yes CTDB_BASE="$CTDB_REAL_DIR/node.$p" timeout 30 "$TOOL" "$@"; }
	"$C" stop >/dev/null 2>&1
	if ! "$C" start 3 >/dev/null 2>&1; then
		echo "$name: cluster did not start"; "$C" stop >/dev/null 2>&1; rm -rf "$W" "$CTDB_REAL_DIR"; return 1
	fi
	tool 0 attach "$DB" persistent >/dev/null || { echo "$name: attach failed"; "$C" stop >/dev/null 2>&1; return 1; }
	(
		end=$(( $(date +%s) + DUR ))
		while [ "$(date +%s)" -lt "$end" ]; do
			sleep "$EVERY"
			v=$((RANDOM % 3))
			echo "kill $v" >>"$W/nemesis.log"
			"$C" killnode "$v" KILL >/dev/null 2>&1
			sleep 2
			"$C" startnode "$v" >/dev/null 2>&1
		done
	) &
	local nem=$! i=0 acked=0 down=0 refused=0 end n err
	end=$(( $(date +%s) + DUR ))
	while [ "$(date +%s)" -lt "$end" ]; do
		i=$((i + 1)); n=$((RANDOM % 3))
		if err=$(printf '"k%d" "v%d"\n' "$i" "$i" | tool "$n" ptrans "$DB" 2>&1 >/dev/null); then
			echo "k$i" >>"$W/acked"; acked=$((acked + 1))
		elif printf '%s' "$err" | grep -q 'Failed to connect to CTDB daemon'; then
			down=$((down + 1))
		else
			refused=$((refused + 1))
		fi
	done
	wait "$nem"
	"$C" wait 120 >/dev/null 2>&1 || echo "$name: warning: cluster not healthy 120 s after the last kill"
	local lost=0 p m
	for p in 0 1 2; do
		tool "$p" catdb "$DB" 2>/dev/null | sed -n 's/^key([0-9]*) = "\(k[0-9]*\)"$/\1/p' | sort -u >"$W/have.$p"
		m=$(sort -u "$W/acked" 2>/dev/null | comm -23 - "$W/have.$p" | wc -l)
		lost=$((lost + m))
	done
	local live=$((i - down))
	printf '%-6s kills %2d  tried %4d  acknowledged %4d (%3d %%)  node down %4d  refused by a live node %4d  acknowledged of live %3d %%  lost %d\n' \
		"$name" "$(wc -l <"$W/nemesis.log" 2>/dev/null || echo 0)" "$i" "$acked" $((100 * acked / (i > 0 ? i : 1))) "$down" "$refused" \
		$((100 * acked / (live > 0 ? live : 1))) "$lost"
	"$C" stop >/dev/null 2>&1
	rm -rf "$W" "$CTDB_REAL_DIR"
}

for d in ${DAEMONS:-samba ours}; do
	case $d in
	samba) run_one samba /usr/sbin/ctdbd ;;
	ours) [ -x "$OURS" ] || { echo "no ctdbd at $OURS (run scripts/build or set CTDBD_OURS)"; exit 1; }; run_one ours "$OURS" ;;
	esac
done
