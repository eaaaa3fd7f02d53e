#!/usr/bin/env bash
# The submission path's JSON coders, Codable against hand-written, in one release process
# (Benchmarks/JSONBenchmark; docs/benchmarks.md, "JSON on the submission path").
#
#   scripts/bench-json.sh [ITERATIONS]     (default 100000 per round, 6 rounds A B B A …)
#   env: SCRATCH [.build] the build directory
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SCRATCH=${SCRATCH:-.build}
swift build -c release --product JSONBenchmark --scratch-path "$SCRATCH" >&2
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/JSONBenchmark" "${1:-100000}"
