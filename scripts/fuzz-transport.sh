#!/usr/bin/env bash
# Seeded random-mutation fuzzing of the peer frame decoder, release build.
# Usage: scripts/fuzz-transport.sh [inputs] [seed]   (defaults: 1000000 inputs, seed 1)
# A failure prints the seed and input numbers; rerun with the same seed to replay.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product TransportFuzz
"$(swift build -c release --show-bin-path)/TransportFuzz" "${1:-1000000}" "${2:-1}"
