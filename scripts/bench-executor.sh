#!/usr/bin/env bash
# Executor benchmark: noop overhead, shell spawn latency, 1 GiB output streamed through the tail.
# Builds just the benchmark in release and prints its figures (see docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product ExecutorBenchmark
"$(swift build -c release --show-bin-path)/ExecutorBenchmark"
