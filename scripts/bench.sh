#!/usr/bin/env bash
# Cluster benchmark (issue 7): a fresh local 3-node Quorum cluster per phase — TLS between peers,
# fsync on (always, in Quorum), release binary, free loopback ports, everything in a temp dir —
# and, in the same window, etcd through ../shared/bench/etcd/bench.sh. Not part of test.sh or CI.
#
#   scripts/bench.sh [PHASE...]      (default: all = submit drain lag failover stable profile etcd)
#
#   submit    wrk POSTs noop jobs round-robin to the 3 nodes (one connection: to the leader), at
#             CONNS connections, and batches of BATCH_SIZE jobs at BATCH_CONNS: jobs/s, p50/p99
#   drain     DRAIN_JOBS noop jobs submitted in batches of DRAIN_BATCH; time until all finished
#   lag       schedule lag (started_at - scheduled_at) of sampled jobs, idle and under load
#   failover  FAILOVERS x: SIGKILL the leader, time to the next 201 on a surviving node, restart
#   stable    STABLE_S s of wrk at 64 connections with no faults: leader changes (terms) before/after
#   loaded    single submissions (wrk, CONNS) onto a cluster already holding LOADED_JOBS pending
#             jobs: what a large state costs each write (snapshots, replica-check digests)
#   profile   perf record on the leader during single submissions (64 conns) and during a drain
#   profile-forward  perf record on the leader and on one follower at once during single
#             submissions (64 conns): what a forwarded submission costs on each side
#   etcd      ../shared/bench/etcd/bench.sh all, at etcd's defaults and at Quorum's timeouts
#
# Knobs (defaults in brackets): QUORUM_BIN [.build/release/quorum, built if missing]
#   DURATION [10] CONNS ["1 16 64"] BATCH_CONNS ["1 16"] BATCH_SIZE [100] SLOTS [4]
#   PREFETCH [0]: [executor] prefetch of every cluster (held assignments beyond the slots)
#   DRAIN_JOBS [20000] DRAIN_BATCH [1000] DRAIN_SLOTS ["4 32": one drain per slots-per-node value] LAG_SAMPLES [100] LAG_LOAD_RATE [half the drain rate at SLOTS, else 300] LAG_LOAD_TICK_MS [100: the load arrives as one batch per 100 ms; 10 spreads it]
#   FAILOVERS [30] FAILOVER_SETTLE_S [6: pause after the restarted node caught up] STABLE_S [60] PROFILE_S [10]
#   ETCD_RUNS [3] ETCD_FAILOVERS [10] ETCD_CONNS ["1 16 64"] ETCD_DURATION [10]
#   LOADED_JOBS [300000]: the pending jobs the loaded phase starts from
#   PREFER [empty]: the Prefer header of submissions (PREFER=return=minimal: minimal 201 bodies)
#   DOCS [1: append a dated section to docs/benchmarks.md when the run covered every phase]
#   OUT [$TMPDIR/quorum-bench/<timestamp>] KEEP [0: 1 keeps the temp clusters' directories]
#   QUIET_WAIT_S [0] QUIET_BUSY [30]: wait up to QUIET_WAIT_S s for CPU busy% < QUIET_BUSY before
#   each measurement (the sample is recorded with the figures)
# Stops exactly the node pids it started (checked against their argv), also on failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR=${PEERS_DIR:-$(cd "$ROOT/.." && pwd)/shared/bench}
[ -f "$PEERS_DIR/lib/common.sh" ] || PEERS_DIR=/work/shared/bench
# shellcheck source=/dev/null
. "$PEERS_DIR/lib/common.sh"   # log, die, ensure_apt, cpu_sample, wait_quiet, median, top_others

HELPER="$ROOT/scripts/bench/cluster_bench.py"
LUA="$ROOT/scripts/bench/submit.lua"
BIN=${QUORUM_BIN:-$ROOT/.build/release/quorum}
DURATION=${DURATION:-10}
CONNS=${CONNS:-"1 16 64"}
LOADED_JOBS=${LOADED_JOBS:-300000}
BATCH_CONNS=${BATCH_CONNS:-"1 16"}
BATCH_SIZE=${BATCH_SIZE:-100}
SLOTS=${SLOTS:-4}
PREFETCH=${PREFETCH:-0}
DRAIN_JOBS=${DRAIN_JOBS:-20000}
DRAIN_BATCH=${DRAIN_BATCH:-1000}
DRAIN_SLOTS=${DRAIN_SLOTS:-"4 32"}
LAG_SAMPLES=${LAG_SAMPLES:-100}
FAILOVERS=${FAILOVERS:-30}
FAILOVER_SETTLE_S=${FAILOVER_SETTLE_S:-6}
STABLE_S=${STABLE_S:-60}
PROFILE_S=${PROFILE_S:-10}
ETCD_RUNS=${ETCD_RUNS:-3}
ETCD_FAILOVERS=${ETCD_FAILOVERS:-10}
ETCD_CONNS=${ETCD_CONNS:-"1 16 64"}
ETCD_DURATION=${ETCD_DURATION:-10}
DOCS=${DOCS:-1}
export QB_PREFER=${PREFER:-}
KEEP=${KEEP:-0}
OUT=${OUT:-${TMPDIR:-/tmp}/quorum-bench/$(date +%Y%m%d-%H%M%S)}
RESULTS=$OUT/results.jsonl
mkdir -p "$OUT"
: >>"$RESULTS"

PHASES=("$@")
[ ${#PHASES[@]} -eq 0 ] && PHASES=(all)
[ "${PHASES[*]}" = all ] && PHASES=(submit drain lag failover stable profile etcd)

for b in wrk curl jq python3 ss perf; do
  command -v "$b" >/dev/null || ensure_apt wrk curl jq python3 iproute2 linux-perf
done
if [ "${PHASES[*]}" != etcd ] && [ ! -x "$BIN" ]; then
  log "building the release binary"
  (cd "$ROOT" && swift build -c release --product quorum >&2)
fi

CLUSTERS=()     # temp dirs of clusters this run started (stopped by cleanup)
BG_PIDS=()      # wrk / perf processes started in the background
cleanup() {
  local p d
  for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for d in "${CLUSTERS[@]}"; do
    python3 "$HELPER" down --dir "$d" --grace 5 || true
    [ "$KEEP" = 1 ] || rm -rf -- "$d"
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CL=""           # the current cluster's directory
APIS=()         # its API URLs
cluster_up() {
  CL=$(mktemp -d "${TMPDIR:-/tmp}/quorum-bench-cluster.XXXXXX")
  CLUSTERS+=("$CL")
  local line
  line=$(python3 "$HELPER" up --dir "$CL" --bin "$BIN" --slots "$SLOTS" --prefetch "$PREFETCH") || die "the cluster in $CL did not start; logs in $CL/logs"
  read -r -a APIS <<<"$line"
  [ ${#APIS[@]} -eq 3 ] || die "expected 3 API addresses, got '$line'"
}
cluster_down() {
  python3 "$HELPER" down --dir "$CL" --grace 5
  [ "$KEEP" = 1 ] || rm -rf -- "$CL"
  local d kept=()
  for d in "${CLUSTERS[@]}"; do [ "$d" = "$CL" ] || kept+=("$d"); done
  CLUSTERS=("${kept[@]+"${kept[@]}"}")
  CL=""
}
leader_field() { python3 "$HELPER" leader --dir "$CL" | awk -v f="$1" '{print $f}'; }
addr_of() { sed 's#^http://##' <<<"$1"; }
load_json() { # the CPU sample as a JSON string
  printf '"%s"' "$(wait_quiet | tr -d '"')"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# run_wrk CONNS BATCH SECONDS LABEL -> prints wrk's RESULT line; raw output in $OUT
run_wrk() {
  local c=$1 batch=$2 secs=$3 label=$4 addrs threads f
  f="$OUT/wrk-$label.txt"
  if [ "$c" -eq 1 ]; then
    addrs=$(addr_of "$(leader_field 2)"); threads=1
  else
    addrs=$(IFS=,; for a in "${APIS[@]}"; do addr_of "$a"; done | paste -sd,)
    threads=$(( c < 16 ? c : 16 ))
  fi
  local cpu0 stat0 cpu1 stat1
  cpu0=$(nodes_cpu_ticks); stat0=$(head -1 /proc/stat)
  QB_ADDRS=$addrs QB_BATCH=$batch timeout $((secs + 30)) wrk -t"$threads" -c"$c" -d"${secs}s" \
    --timeout 10s --latency -s "$LUA" "${APIS[0]}" >"$f" 2>&1 || true
  cpu1=$(nodes_cpu_ticks); stat1=$(head -1 /proc/stat)
  local line
  line=$(grep '^RESULT' "$f" || echo "RESULT requests=0 rps=0 p50_ms=nan p90_ms=nan p99_ms=nan max_ms=nan err_status=-1")
  # CPU the three nodes used during the run (s) and how busy the whole machine was (%)
  echo "$line nodes_cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)/hz}') machine_busy_pct=$(awk -v a="$stat0" -v b="$stat1" 'BEGIN{
    split(a,x," "); split(b,y," "); t=0; for(i=2;i<=9;i++) t+=y[i]-x[i]; idle=(y[5]-x[5])+(y[6]-x[6]); if(t<=0)t=1; printf "%.0f", 100*(t-idle)/t }')"
}

# nodes_cpu_ticks: user+system clock ticks of the current cluster's node processes
nodes_cpu_ticks() {
  local f pid total=0 t
  for f in "$CL"/pids/*; do
    pid=$(cat "$f")
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo "$total"
}

wrk_json() { # wrk_json PHASE CONNS BATCH RESULT LOAD
  local res=$4 errs
  errs=$(tr ' ' '\n' <<<"$res" | awk -F= '/^err_/{s+=$2} END{print s+0}')
  printf '{"phase":"%s","conns":%s,"batch":%s,"requests":%s,"rps":%s,"jobs_per_s":%s,"p50_ms":%s,"p99_ms":%s,"max_ms":%s,"errors":%s,"nodes_cpu_s":%s,"machine_busy_pct":%s,"load":%s}\n' \
    "$1" "$2" "$3" "$(field requests "$res")" "$(field rps "$res")" \
    "$(awk -v r="$(field rps "$res")" -v b="$3" 'BEGIN{printf "%.1f", r * (b > 0 ? b : 1)}')" \
    "$(field p50_ms "$res")" "$(field p99_ms "$res")" "$(field max_ms "$res")" "$errs" \
    "$(field nodes_cpu_s "$res")" "$(field machine_busy_pct "$res")" "$5" | tee -a "$RESULTS"
}

phase_submit() {
  local c load res
  for c in $CONNS; do
    cluster_up; load=$(load_json)
    res=$(run_wrk "$c" 0 "$DURATION" "single-c$c")
    wrk_json submit "$c" 0 "$res" "$load"
    cluster_down
  done
  for c in $BATCH_CONNS; do
    cluster_up; load=$(load_json)
    res=$(run_wrk "$c" "$BATCH_SIZE" "$DURATION" "batch$BATCH_SIZE-c$c")
    wrk_json submit "$c" "$BATCH_SIZE" "$res" "$load"
    cluster_down
  done
}

phase_loaded() {
  local c load res
  for c in $CONNS; do
    cluster_up
    python3 "$HELPER" load --dir "$CL" --jobs "$LOADED_JOBS"
    load=$(load_json)
    res=$(run_wrk "$c" 0 "$DURATION" "loaded-c$c")
    wrk_json loaded "$c" 0 "$res" "$load"
    cluster_down
  done
}

phase_drain() {
  local slots saved=$SLOTS
  for slots in $DRAIN_SLOTS; do
    SLOTS=$slots; cluster_up; log "drain with $slots slots per node: load $(load_json)"
    python3 "$HELPER" drain --dir "$CL" --jobs "$DRAIN_JOBS" --batch "$DRAIN_BATCH" --conns 4 --slots "$slots" \
      --results "$RESULTS"
    cluster_down
  done
  SLOTS=$saved
}

phase_lag() {
  local rate=${LAG_LOAD_RATE:-}
  if [ -z "$rate" ]; then
    rate=$(jq -rs --argjson slots "$SLOTS" '[.[] | select(.phase=="drain" and .slots==$slots and .jobs_per_s != null) | .jobs_per_s] | if length>0 then (.[-1]/2|floor) else 300 end' "$RESULTS" 2>/dev/null || echo 300)
  fi
  cluster_up; log "lag idle: load $(load_json)"
  python3 "$HELPER" lag --dir "$CL" --samples "$LAG_SAMPLES" --label idle --results "$RESULTS"
  cluster_down
  cluster_up; log "lag under load: load $(load_json)"
  python3 "$HELPER" lag --dir "$CL" --samples "$LAG_SAMPLES" --load-rate "$rate" --load-tick-ms "${LAG_LOAD_TICK_MS:-100}" --label "load" --results "$RESULTS"
  cluster_down
}

phase_failover() {
  # info-level node logs (elections, leader duties) are kept in $OUT/failover-logs
  export QUORUM_LOG_LEVEL=info
  cluster_up; log "failover: load $(load_json)"
  python3 "$HELPER" failover --dir "$CL" --kills "$FAILOVERS" --settle-s "$FAILOVER_SETTLE_S" --results "$RESULTS"
  cp -r "$CL/logs" "$OUT/failover-logs"
  cluster_down
  unset QUORUM_LOG_LEVEL
}

phase_stable() {
  local before after res load
  cluster_up; load=$(load_json)
  before=$(python3 "$HELPER" terms --dir "$CL")
  res=$(run_wrk 64 0 "$STABLE_S" "stable-c64")
  after=$(python3 "$HELPER" terms --dir "$CL")
  printf '{"phase":"stable","seconds":%s,"before":%s,"after":%s,"rps":%s,"p99_ms":%s,"nodes_cpu_s":%s,"machine_busy_pct":%s,"load":%s}\n' \
    "$STABLE_S" "$before" "$after" "$(field rps "$res")" "$(field p99_ms "$res")" \
    "$(field nodes_cpu_s "$res")" "$(field machine_busy_pct "$res")" "$load" | tee -a "$RESULTS"
  cluster_down
}

# profile_leader LABEL: perf record the leader for PROFILE_S s; top symbols (self time) to $OUT
profile_leader() { profile_pid "$1" "$(leader_field 3)"; }

# profile_pid LABEL PID: perf record PID for PROFILE_S s into $OUT/perf-LABEL.data, and its reports
profile_pid() {
  local label=$1 pid=$2
  timeout $((PROFILE_S + 30)) perf record -F 499 -g -o "$OUT/perf-$label.data" -p "$pid" -- sleep "$PROFILE_S" \
    >"$OUT/perf-$label.log" 2>&1 || true
  perf report -i "$OUT/perf-$label.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null \
    | grep -v '^#' | grep '%' | head -40 | swift demangle --simplified >"$OUT/perf-$label-top.txt" || true
  perf report -i "$OUT/perf-$label.data" --children --sort sym --stdio -g caller,2,callee --percent-limit 3 2>/dev/null \
    | swift demangle --simplified >"$OUT/perf-$label-callers.txt" || true
  log "profile $label (pid $pid): top symbols in $OUT/perf-$label-top.txt"
  head -15 "$OUT/perf-$label-top.txt" >&2 || true
}

phase_profile() {
  local wrk_pid
  cluster_up
  QB_ADDRS=$(for a in "${APIS[@]}"; do addr_of "$a"; done | paste -sd,) QB_BATCH=0 \
    timeout $((PROFILE_S + 40)) wrk -t16 -c64 -d"$((PROFILE_S + 4))s" --timeout 10s -s "$LUA" "${APIS[0]}" \
    >"$OUT/wrk-profile-submit.txt" 2>&1 &
  wrk_pid=$!; BG_PIDS+=("$wrk_pid")
  sleep 2
  profile_leader submit
  wait "$wrk_pid" || true
  cluster_down
  cluster_up
  python3 "$HELPER" drain --dir "$CL" --jobs "$DRAIN_JOBS" --batch "$DRAIN_BATCH" --conns 4 >"$OUT/drain-profile.txt" 2>&1 &
  wrk_pid=$!; BG_PIDS+=("$wrk_pid")
  sleep 3
  profile_leader drain
  wait "$wrk_pid" || true
  cluster_down
}

phase_profile-forward() {
  local wrk_pid leader follower f
  cluster_up
  QB_ADDRS=$(for a in "${APIS[@]}"; do addr_of "$a"; done | paste -sd,) QB_BATCH=0 \
    timeout $((PROFILE_S + 40)) wrk -t16 -c64 -d"$((PROFILE_S + 4))s" --timeout 10s -s "$LUA" "${APIS[0]}" \
    >"$OUT/wrk-profile-forward.txt" 2>&1 &
  wrk_pid=$!; BG_PIDS+=("$wrk_pid")
  sleep 2
  leader=$(leader_field 3)
  for f in "$CL"/pids/*; do [ "$(cat "$f")" = "$leader" ] || { follower=$(cat "$f"); break; }; done
  profile_pid forward-leader "$leader" &
  profile_pid forward-follower "$follower"
  wait "$wrk_pid" || true
  wait
  cluster_down
}

phase_etcd() {
  local name hb el
  for name in default equal; do
    if [ "$name" = equal ]; then hb=50 el=300; else hb=100 el=1000; fi
    log "etcd ($name timeouts: heartbeat ${hb} ms, election ${el} ms)"
    ETCD_HEARTBEAT_MS=$hb ETCD_ELECTION_MS=$el RUNS=$ETCD_RUNS FAILOVERS=$ETCD_FAILOVERS \
      CONNS="$ETCD_CONNS" DURATION="$ETCD_DURATION" QUIET_WAIT_S="${QUIET_WAIT_S:-0}" \
      OUT="$OUT/etcd-$name" "$PEERS_DIR/etcd/bench.sh" all >"$OUT/etcd-$name.log" 2>&1 || log "etcd $name failed; see $OUT/etcd-$name.log"
  done
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD)  binary: $BIN"
  echo "kernel: $(uname -r)  cpus: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "params: phases='${PHASES[*]}' DURATION=$DURATION CONNS='$CONNS' BATCH_CONNS='$BATCH_CONNS' BATCH_SIZE=$BATCH_SIZE SLOTS=$SLOTS DRAIN_JOBS=$DRAIN_JOBS DRAIN_BATCH=$DRAIN_BATCH FAILOVERS=$FAILOVERS STABLE_S=$STABLE_S"
  echo "uptime before: $(uptime)"
  echo "cpu before: $(cpu_sample 2)  top: $(top_others)"
} | tee "$OUT/env.txt" >&2

for phase in "${PHASES[@]}"; do
  case "$phase" in
    submit|loaded|drain|lag|failover|stable|profile|profile-forward|etcd) log "phase $phase"; "phase_$phase" ;;
    *) die "unknown phase $phase (submit loaded drain lag failover stable profile profile-forward etcd all)" ;;
  esac
done
echo "uptime after: $(uptime)" | tee -a "$OUT/env.txt" >&2

python3 "$ROOT/scripts/bench/report.py" --out "$OUT" >"$OUT/section.md"
if [ "$DOCS" = 1 ] && [ "${PHASES[*]}" = "submit drain lag failover stable profile etcd" ]; then
  { echo; cat "$OUT/section.md"; } >>"$ROOT/docs/benchmarks.md"
  log "appended the section to docs/benchmarks.md"
fi
log "results in $OUT (section.md, results.jsonl, wrk-*.txt, perf-*-top.txt, etcd-*/summary.txt)"
