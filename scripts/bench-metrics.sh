#!/usr/bin/env bash
# NodeMetrics benchmark (release): the scheduler adapter's cost per applied command, one HTTP
# request count, one histogram observation, one scrape. Prints per-thread CPU time (the
# machine may be shared).
# Usage: scripts/bench-metrics.sh [JOBS]   (default 200000: 600,000 commands)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product MetricsBenchmark
.build/release/MetricsBenchmark --jobs "${1:-200000}"
