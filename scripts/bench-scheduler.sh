#!/usr/bin/env bash
# Scheduler core benchmarks (release): apply throughput, 1M queued jobs memory, snapshot/restore.
# Usage: scripts/bench-scheduler.sh [--jobs N] [--throughput-jobs N]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product SchedulerBenchmark
exec .build/release/SchedulerBenchmark "$@"
