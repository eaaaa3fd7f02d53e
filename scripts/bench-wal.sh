#!/usr/bin/env bash
# WAL benchmark: group-commit throughput vs a plain write+fdatasync loop, and recovery time.
# Usage: scripts/bench-wal.sh [--dir DIR] [--seconds S] [--entries N] [--only throughput|recovery]
# DIR must be on the disk you want to measure (default ./.build/wal-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product WALBenchmark >&2
exec "$(swift build -c release --show-bin-path)/WALBenchmark" "$@"
