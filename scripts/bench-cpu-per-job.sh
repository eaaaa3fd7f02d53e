#!/usr/bin/env bash
# CPU seconds of all three node processes per 1,000 drained jobs: a measure that other load on
# the machine disturbs much less than jobs/s (docs/benchmarks.md, "CPU per drained job").
#
#   scripts/bench-cpu-per-job.sh [QUORUM_BIN] [LABEL]     (env: JOBS [40000] SLOTS [4] POLL [metrics|list])
#
# Starts a fresh local 3-node cluster with scripts/bench/cluster_bench.py in a temp dir, reads
# utime+stime of the three nodes from /proc, drains JOBS noop jobs (batches of 1,000, 4
# connections), reads them again, stops exactly its own nodes and prints one line.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/.build/release/quorum}
LABEL=${2:-$(basename "$BIN")}
JOBS=${JOBS:-40000}
SLOTS=${SLOTS:-4}
POLL=${POLL:-metrics}  # metrics: /metrics counter (no job-table scan); list: as scripts/bench.sh drain
HELPER=$ROOT/scripts/bench/cluster_bench.py
[ -x "$BIN" ] || { echo "no quorum binary at $BIN (build: swift build -c release --product quorum)" >&2; exit 2; }
DIR=$(mktemp -d "${TMPDIR:-/tmp}/quorum-cpu-per-job.XXXXXX")
cleanup() { python3 "$HELPER" down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
python3 "$HELPER" up --dir "$DIR" --bin "$BIN" --slots "$SLOTS" >/dev/null
ticks() {
  local total=0 pid
  for f in "$DIR"/pids/*; do
    pid=$(cat "$f")
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
before=$(ticks)
python3 "$HELPER" drain --dir "$DIR" --jobs "$JOBS" --batch 1000 --conns 4 --slots "$SLOTS" --poll "$POLL" >"$DIR/drain.txt" 2>&1
after=$(ticks)
rate=$(grep -o '"jobs_per_s": [0-9.]*' "$DIR/drain.txt" | awk '{print $2}')
hz=$(getconf CLK_TCK)
python3 -c "print(f'$LABEL poll=$POLL jobs={int($JOBS)} jobs_per_s=$rate cpu_s_per_1000_jobs={($after - $before) / $hz / ($JOBS / 1000):.3f}')"
