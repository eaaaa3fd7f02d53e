#!/usr/bin/env bash
# Fuzzes the Raft message decoder with 1,000,000 seeded mutations (FUZZ_COUNT, FUZZ_SEED to
# change). Uses the debug build that scripts/test.sh already made.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="$(swift build --show-bin-path)/RaftWireFuzz"
[ -x "$bin" ] || swift build --product RaftWireFuzz >&2
"$bin" "${FUZZ_COUNT:-1000000}" "${FUZZ_SEED:-$(date +%s)}"
