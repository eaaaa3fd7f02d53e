#!/usr/bin/env bash
# Scheduler core benchmarks (release): apply throughput; memory of 1M queued once jobs and
# snapshot/restore of that state. Each part runs in its own process so RSS is not inflated by
# the other. Prints wall and per-thread CPU time (the machine may be shared).
# Usage: scripts/bench-scheduler.sh [JOBS] [THROUGHPUT_JOBS]   (defaults 1000000 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${1:-1000000}"
throughput="${2:-200000}"
swift build -c release --product SchedulerBenchmark
.build/release/SchedulerBenchmark --jobs 0 --throughput-jobs "$throughput"
.build/release/SchedulerBenchmark --jobs "$jobs" --throughput-jobs 0
