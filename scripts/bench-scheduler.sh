#!/usr/bin/env bash
# Scheduler core benchmarks (release): apply throughput; memory of 1M queued once jobs and
# snapshot/restore of that state. Each part runs in its own process so RSS is not inflated by
# the other. Prints wall and per-thread CPU time (the machine may be shared).
# Usage: scripts/bench-scheduler.sh [JOBS] [THROUGHPUT_JOBS]   (defaults 1000000 200000)
#        scripts/bench-scheduler.sh --views [JOBS...]          (reads: label-index pages and the
#                                                              cost of a held view; default 100000 1000000)
#        scripts/bench-scheduler.sh --notifications [N...]     (the leader's notification round and the
#                                                              derivation with N pending; default 0 10000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product SchedulerBenchmark
if [ "${1:-}" = "--views" ]; then
  shift
  for n in "${@:-100000 1000000}"; do
    for m in $n; do .build/release/SchedulerBenchmark --jobs 0 --throughput-jobs 0 --view-jobs "$m"; done
  done
  exit 0
fi
if [ "${1:-}" = "--notifications" ]; then
  shift
  for n in "${@:-0 10000 100000}"; do
    for m in $n; do .build/release/SchedulerBenchmark --jobs 0 --throughput-jobs 0 --notification-pending "$m"; done
  done
  exit 0
fi
jobs="${1:-1000000}"
throughput="${2:-200000}"
.build/release/SchedulerBenchmark --jobs 0 --throughput-jobs "$throughput"
.build/release/SchedulerBenchmark --jobs "$jobs" --throughput-jobs 0
