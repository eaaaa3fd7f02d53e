#!/usr/bin/env bash
# Resident memory of live nodes (issues #12 and #18). Not part of test.sh or CI: it takes the
# machine for minutes. Release binary, a fresh local 3-node cluster in a temp dir (TLS between
# peers, fsync on, free loopback ports; scripts/bench/cluster_bench.py up/down), then one of:
#
#   scripts/bench-memory.sh pending [JOBS]
#       load JOBS (default 1000000) pending jobs (noop, delayed a day) through the leader in
#       batches of 1,000, then sample every node's RSS (/proc/PID/statm, every SAMPLE_MS, default
#       20) idle, and while single submissions go on until every node has written a new snapshot
#       of the full state; prints the idle RSS and the peak during the snapshot per node; then
#       (RESTART=1, the default) stops a follower, starts it again and prints its peak RSS while
#       it restores that snapshot and catches up.
#   scripts/bench-memory.sh retention [MINUTES] [RETENTION_SECONDS] [RATE]
#       submit RATE (default 100) noop jobs/s with retention_seconds RETENTION_SECONDS (default
#       60, the shortest allowed, so the state converges within minutes) for MINUTES (default
#       12) and print every node's RSS each minute: the curve must level off.
#
# Knobs: QUORUM_BIN [.build/release/quorum, built if missing] SAMPLE_MS [20] RESTART [1]
#   OUT [$TMPDIR/quorum-bench-memory/<timestamp>] KEEP [0: 1 keeps the cluster's directory]
# Stops exactly the node pids it started (checked against their argv), also on failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN=${QUORUM_BIN:-$ROOT/.build/release/quorum}
SAMPLE_MS=${SAMPLE_MS:-20}
KEEP=${KEEP:-0}
OUT=${OUT:-${TMPDIR:-/tmp}/quorum-bench-memory/$(date +%Y%m%d-%H%M%S)}
HELPER="$ROOT/scripts/bench/cluster_bench.py"
MODE=${1:-pending}
log() { printf '[bench-memory %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

case "$MODE" in
  pending|retention) ;;
  *) echo "usage: $0 pending [JOBS] | retention [MINUTES] [RETENTION_SECONDS] [RATE]" >&2; exit 2 ;;
esac
if [ ! -x "$BIN" ]; then
  log "building the release binary"
  (cd "$ROOT" && swift build -c release --product quorum >&2)
fi
mkdir -p "$OUT"
CL=$(mktemp -d "${TMPDIR:-/tmp}/quorum-memory-cluster.XXXXXX")
cleanup() {
  python3 "$HELPER" down --dir "$CL" --grace 10 || true
  if [ "$KEEP" = 1 ]; then log "cluster directory kept: $CL"; else rm -rf -- "$CL"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export QUORUM_LOG_LEVEL=${QUORUM_LOG_LEVEL:-info}
log "load before: $(cut -d' ' -f1-3 /proc/loadavg); binary $BIN"
# [quotas] max_pending_jobs defaults to 1,000,000: room for the jobs loaded and the ones after.
python3 "$HELPER" up --dir "$CL" --bin "$BIN" --max-pending-jobs 2000000 >/dev/null
if [ "$MODE" = pending ]; then
  python3 "$HELPER" memory --dir "$CL" --jobs "${2:-1000000}" --sample-ms "$SAMPLE_MS" \
    --restart "${RESTART:-1}" --label "$(basename "$BIN")" --results "$OUT/results.jsonl" | tee "$OUT/result.txt"
else
  python3 "$HELPER" retention --dir "$CL" --minutes "${2:-12}" --retention-s "${3:-60}" --rate "${4:-100}" \
    --label "$(basename "$BIN")" --results "$OUT/results.jsonl" | tee "$OUT/result.txt"
fi
cp -r "$CL/logs" "$OUT/logs"
log "load after: $(cut -d' ' -f1-3 /proc/loadavg); results and node logs in $OUT"
