#!/usr/bin/env bash
# CI's frame-decoder fuzz: 1,000,000 seeded mutations on the debug build scripts/test.sh made.
# scripts/fuzz-transport.sh runs the same in release. FUZZ_SEED replays a seed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seed="${FUZZ_SEED:-$(date +%s)}"
echo "transport frame fuzz: seed $seed"
bin="$(swift build --show-bin-path)/TransportFuzz"
[ -x "$bin" ] || swift build --product TransportFuzz >&2
"$bin" "${FUZZ_COUNT:-1000000}" "$seed"
