#!/usr/bin/env bash
# CI's Raft decode-and-step fuzz: 1,000,000 seeded generated and mutated messages from a
# certified peer, decoded and stepped into RaftCore instances, on the debug build scripts/test.sh
# made. FUZZ_COUNT and FUZZ_SEED change the amount and replay a seed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seed="${FUZZ_SEED:-$(date +%s)}"
echo "raft decode-and-step fuzz: seed $seed"
bin="$(swift build --show-bin-path)/RaftStepFuzz"
[ -x "$bin" ] || swift build --product RaftStepFuzz >&2
"$bin" "${FUZZ_COUNT:-1000000}" "$seed"
