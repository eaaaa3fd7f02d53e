#!/usr/bin/env bash
# Catch-up of a follower far behind, under load (issue #10). Not part of test.sh or CI: it takes
# the machine for minutes. Release binary, a fresh local 3-node cluster in a temp dir (TLS between
# peers, fsync on, free loopback ports; scripts/bench/cluster_bench.py up/down), then
# scripts/bench/catchup.py:
#
#   1. SIGKILL one follower;
#   2. push ENTRIES single-job submissions through the leader (one Raft entry each; the jobs are
#      delayed by a day, so nothing runs and the state grows by one pending job per entry);
#   3. restart the follower while LOAD_RATE single submissions per second keep going (round-robin
#      over the two live nodes), and time until its applied index (its /metrics) reaches the
#      leader's commit index as of the restart, and the leader's current one (within SLACK);
#   4. print the write latency and throughput before the restart and during the catch-up.
#
#   scripts/bench-catchup.sh
#
# Knobs (defaults in brackets): QUORUM_BIN [.build/release/quorum, built if missing]
#   ENTRIES [100000] PUSH_CONNS [32] LOAD_RATE [1000] LOAD_THREADS [32] BASELINE_S [10] SLACK [50]
#   MAX_S [900] OUT [$TMPDIR/quorum-bench-catchup/<timestamp>] KEEP [0: 1 keeps the cluster's directory]
# Stops exactly the node pids it started (checked against their argv), also on failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN=${QUORUM_BIN:-$ROOT/.build/release/quorum}
ENTRIES=${ENTRIES:-100000}
PUSH_CONNS=${PUSH_CONNS:-32}
LOAD_RATE=${LOAD_RATE:-1000}
LOAD_THREADS=${LOAD_THREADS:-32}
BASELINE_S=${BASELINE_S:-10}
SLACK=${SLACK:-50}
MAX_S=${MAX_S:-900}
KEEP=${KEEP:-0}
OUT=${OUT:-${TMPDIR:-/tmp}/quorum-bench-catchup/$(date +%Y%m%d-%H%M%S)}
HELPER="$ROOT/scripts/bench/cluster_bench.py"
log() { printf '[bench-catchup %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ ! -x "$BIN" ]; then
  log "building the release binary"
  (cd "$ROOT" && swift build -c release --product quorum >&2)
fi
mkdir -p "$OUT"
CL=$(mktemp -d "${TMPDIR:-/tmp}/quorum-catchup-cluster.XXXXXX")
cleanup() {
  python3 "$HELPER" down --dir "$CL" --grace 5 || true
  if [ "$KEEP" = 1 ]; then log "cluster directory kept: $CL"; else rm -rf -- "$CL"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# info-level logs, so the follower's log shows the snapshot it installed
export QUORUM_LOG_LEVEL=${QUORUM_LOG_LEVEL:-info}
log "load before: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores shared with other builds: see docs/benchmarks.md)"
python3 "$HELPER" up --dir "$CL" --bin "$BIN" >/dev/null
python3 "$ROOT/scripts/bench/catchup.py" --dir "$CL" --entries "$ENTRIES" --conns "$PUSH_CONNS" \
  --load-rate "$LOAD_RATE" --load-threads "$LOAD_THREADS" --baseline-s "$BASELINE_S" --slack "$SLACK" \
  --max-s "$MAX_S" --results "$OUT/results.jsonl" | tee "$OUT/result.txt"
cp -r "$CL/logs" "$OUT/logs"
log "load after: $(cut -d' ' -f1-3 /proc/loadavg); results and node logs in $OUT"
