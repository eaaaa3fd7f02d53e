#!/usr/bin/env bash
# Long randomized SchedulerCore run in release: invariants and snapshot round trips over many
# seeds. A failure prints the seed; replay it with `scheduler-replay check SEED SEED COUNT`.
# Usage: scripts/scheduler-soak.sh [FIRST_SEED] [LAST_SEED] [COMMANDS]   (defaults 1 200 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product scheduler-replay
exec .build/release/scheduler-replay check "${1:-1}" "${2:-200}" "${3:-20000}"
