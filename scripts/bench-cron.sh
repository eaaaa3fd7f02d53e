#!/usr/bin/env bash
# Cron benchmark: next-fire computations and parses per second, release build.
# Usage: scripts/bench-cron.sh [SECONDS_PER_CASE]   (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product CronBenchmark
.build/release/CronBenchmark "${1:-2}"
