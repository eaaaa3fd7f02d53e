#!/usr/bin/env bash
# Raft core benchmark: committed entries per second for a 3-node simulated cluster with batching.
#
#   scripts/bench-raft.sh [--entries N]
#
# Builds only the simulator in release (no mutations compiled in) in its own scratch directory
# and runs `quorum-sim bench`. Figures are recorded in docs/benchmarks.md under "## Raft core".
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product quorum-sim --scratch-path .build-bench >&2
bin="$(swift build -c release --product quorum-sim --scratch-path .build-bench --show-bin-path)"
exec "$bin/quorum-sim" bench "$@"
