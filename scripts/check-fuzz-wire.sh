#!/usr/bin/env bash
# CI's Raft message decoder fuzz: 1,000,000 seeded mutations on the debug build scripts/test.sh
# made. FUZZ_COUNT and FUZZ_SEED change the amount and replay a seed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seed="${FUZZ_SEED:-$(date +%s)}"
echo "raft message fuzz: seed $seed"
bin="$(swift build --show-bin-path)/RaftWireFuzz"
[ -x "$bin" ] || swift build --product RaftWireFuzz >&2
"$bin" "${FUZZ_COUNT:-1000000}" "$seed"
