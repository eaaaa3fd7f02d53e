#!/usr/bin/env bash
# What one single submission costs each node, counted rather than timed (issue #11): a fresh
# local 3-node release cluster (scripts/bench/cluster_bench.py), wrk posting noop jobs for 10 s
# at CONNS connections round-robin over the nodes (or all to the leader), and per request: each
# node's CPU, its threads' context switches, and the three nodes' system calls by kind
# (`perf stat -e 'syscalls:sys_enter_*'`). Counts and CPU per request hold up on a busy machine
# far better than throughput does. Not CI. Stops exactly its own nodes.
#
#   scripts/bench-request-counts.sh [QUORUM_BIN] [CONNS (16)] [all|leader (all)]
#   EXTRA_EVENTS: more perf events to count, comma-separated (e.g. a uprobe made with `perf probe -x BIN`)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/.build/release/quorum}
CONNS=${2:-16}
TO=${3:-all}
HELPER=$ROOT/scripts/bench/cluster_bench.py
[ -x "$BIN" ] || { echo "no quorum binary at $BIN (build: swift build -c release --product quorum)" >&2; exit 2; }
case "$TO" in all|leader) ;; *) echo "the third argument is all or leader, not '$TO'" >&2; exit 2 ;; esac
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
command -v perf >/dev/null || { apt-get install -y -qq linux-perf >/dev/null; }
DIR=$(mktemp -d "${TMPDIR:-/tmp}/quorum-bench-counts.XXXXXX")
cleanup() { python3 "$HELPER" down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
python3 "$HELPER" up --dir "$DIR" --bin "$BIN" >/dev/null
read -r _ LEADER_URL LEADER_PID < <(python3 "$HELPER" leader --dir "$DIR")
APIS=$(python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print(','.join(u.replace('http://','') for u in c['api'].values()))" "$DIR/cluster.json")
[ "$TO" = leader ] && APIS=${LEADER_URL#http://}
PIDS=$(cat "$DIR"/pids/* | paste -sd,)
switches() { # context switches of all threads of pid $1
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {print s + 0}'
}
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
declare -A SW0 CPU0
for f in "$DIR"/pids/*; do p=$(cat "$f"); SW0[$p]=$(switches "$p"); CPU0[$p]=$(cpu_ticks "$p"); done
EVENTS=syscalls:sys_enter_fdatasync,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait${EXTRA_EVENTS:+,$EXTRA_EVENTS}
perf stat -e "$EVENTS" -p "$PIDS" -o "$DIR/perf.txt" -- sleep 11 &
PERF=$!
QB_ADDRS=$APIS QB_BATCH=0 wrk -t"$CONNS" -c"$CONNS" -d10s --timeout 10s --latency -s "$ROOT/scripts/bench/submit.lua" \
  "http://${APIS%%,*}" >"$DIR/wrk.txt" 2>&1
wait "$PERF"
REQUESTS=$(grep -o 'requests=[0-9]*' "$DIR/wrk.txt" | cut -d= -f2)
[ "${REQUESTS:-0}" -gt 0 ] || { echo "wrk made no requests:" >&2; cat "$DIR/wrk.txt" >&2; exit 1; }
HZ=$(getconf CLK_TCK)
line="$(basename "$BIN") conns=$CONNS to=$TO load1=$(cut -d' ' -f1 /proc/loadavg) $(grep -o 'rps=[0-9.]*' "$DIR/wrk.txt") $(grep -o 'p99_ms=[0-9.]*' "$DIR/wrk.txt")"
for f in "$DIR"/pids/*; do
  p=$(cat "$f"); role=follower; [ "$p" = "$LEADER_PID" ] && role=leader
  line="$line | $(basename "$f") $role: cpu_ms/req=$(awk -v a="${CPU0[$p]}" -v b="$(cpu_ticks "$p")" -v r="$REQUESTS" -v hz="$HZ" 'BEGIN{printf "%.3f", (b-a)*1000/hz/r}')"
  line="$line switches/req=$(awk -v a="${SW0[$p]}" -v b="$(switches "$p")" -v r="$REQUESTS" 'BEGIN{printf "%.2f", (b-a)/r}')"
done
echo "$line"
awk -v r="$REQUESTS" '/(syscalls:sys_enter_|probe)/ {gsub(",", "", $1); sub("syscalls:sys_enter_", "", $2); printf "  %s/req=%.2f", $2, $1 / r} END {print ""}' "$DIR/perf.txt"
