#!/usr/bin/env bash
# CPU seconds of all three node processes per 1,000 drained jobs: a measure that other load on
# the machine disturbs much less than jobs/s (docs/benchmarks.md, "CPU per drained job").
#
#   scripts/bench-cpu-per-job.sh [QUORUM_BIN] [LABEL]
#     env: JOBS [40000] SLOTS [4] PREFETCH [0] POLL [metrics|list] COUNT [ticks|perf] PROFILE [unset|DIR]
#
# Starts a fresh local 3-node cluster with scripts/bench/cluster_bench.py in a temp dir, reads
# utime+stime of the three nodes from /proc, drains JOBS noop jobs (batches of 1,000, 4
# connections), reads them again, stops exactly its own nodes and prints one line.
#
# COUNT=perf also runs `perf stat` on the three nodes over the drain window and adds
# instructions per job (user and kernel; what load on the machine disturbs least) when the CPU
# exposes the counters, else task-clock ms per job (a VM without a PMU: "instructions
# not supported" is printed). PROFILE=DIR records `perf record -F 499 -g` of the leader and of
# one follower during the drain into DIR/LABEL-leader.data and DIR/LABEL-follower.data.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/.build/release/quorum}
LABEL=${2:-$(basename "$BIN")}
JOBS=${JOBS:-40000}
SLOTS=${SLOTS:-4}
PREFETCH=${PREFETCH:-0}  # [executor] prefetch (0: the key is not written)
POLL=${POLL:-metrics}  # metrics: /metrics counter (no job-table scan); list: as scripts/bench.sh drain
COUNT=${COUNT:-ticks}  # ticks: /proc utime+stime only; perf: also perf stat over the drain
PROFILE=${PROFILE:-}
HELPER=$ROOT/scripts/bench/cluster_bench.py
[ -x "$BIN" ] || { echo "no quorum binary at $BIN (build: swift build -c release --product quorum)" >&2; exit 2; }
case $COUNT in ticks|perf) ;; *) echo "COUNT must be ticks or perf, not '$COUNT'" >&2; exit 2 ;; esac
if [ "$COUNT" = perf ] || [ -n "$PROFILE" ]; then
  command -v perf >/dev/null || { echo "COUNT=perf and PROFILE need perf (apt-get install linux-perf)" >&2; exit 2; }
fi
[ -z "$PROFILE" ] || mkdir -p "$PROFILE"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/quorum-cpu-per-job.XXXXXX")
PERF_PIDS=()  # the perf processes this script started (stopped by pid only)
cleanup() {
  local p
  for p in "${PERF_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  python3 "$HELPER" down --dir "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
python3 "$HELPER" up --dir "$DIR" --bin "$BIN" --slots "$SLOTS" --prefetch "$PREFETCH" >/dev/null
ticks() {
  local total=0 pid
  for f in "$DIR"/pids/*; do
    pid=$(cat "$f")
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
node_pids=$(cat "$DIR"/pids/* | paste -sd, -)
if [ "$COUNT" = perf ]; then
  events=task-clock
  perf stat -e instructions:u true 2>&1 | grep -q "not supported" || events=task-clock,instructions:u,instructions:k
  perf stat -x, -e "$events" -p "$node_pids" -o "$DIR/perf-stat.csv" &
  PERF_PIDS+=($!)
fi
if [ -n "$PROFILE" ]; then
  read -r leader _ leader_pid < <(python3 "$HELPER" leader --dir "$DIR")
  follower_pid=""
  for f in "$DIR"/pids/*; do [ "$(basename "$f")" = "$leader" ] || { follower_pid=$(cat "$f"); break; }; done
  perf record -F 499 -g -p "$leader_pid" -o "$PROFILE/$LABEL-leader.data" >/dev/null 2>&1 &
  PERF_PIDS+=($!)
  perf record -F 499 -g -p "$follower_pid" -o "$PROFILE/$LABEL-follower.data" >/dev/null 2>&1 &
  PERF_PIDS+=($!)
fi
before=$(ticks)
python3 "$HELPER" drain --dir "$DIR" --jobs "$JOBS" --batch 1000 --conns 4 --slots "$SLOTS" --poll "$POLL" >"$DIR/drain.txt" 2>&1
after=$(ticks)
for p in "${PERF_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
PERF_PIDS=()
rate=$(grep -o '"jobs_per_s": [0-9.]*' "$DIR/drain.txt" | awk '{print $2}')
hz=$(getconf CLK_TCK)
extra=""
if [ "$COUNT" = perf ]; then
  # perf stat -x, lines: value,unit,event,...
  extra=$(python3 - "$DIR/perf-stat.csv" "$JOBS" <<'PY'
import sys
values = {}
for line in open(sys.argv[1]):
    fields = line.strip().split(",")
    if len(fields) > 2 and fields[0] and fields[0][0].isdigit():
        values[fields[2]] = float(fields[0])
jobs = float(sys.argv[2])
out = [f"task_clock_ms_per_job={values.get('task-clock', 0) / jobs:.4f}"]
if "instructions:u" in values:
    out.append(f"instructions_per_job={(values['instructions:u'] + values.get('instructions:k', 0)) / jobs:.0f}")
    out.append(f"user_instructions_per_job={values['instructions:u'] / jobs:.0f}")
else:
    out.append("instructions=not_supported")
print(" ".join(out))
PY
)
fi
python3 -c "print(f'$LABEL poll=$POLL prefetch=$PREFETCH jobs={int($JOBS)} jobs_per_s=$rate cpu_s_per_1000_jobs={($after - $before) / $hz / ($JOBS / 1000):.3f} $extra'.rstrip())"
