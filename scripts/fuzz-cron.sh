#!/usr/bin/env bash
# Long fuzz run of the Cron parser and next-fire search, in a release build.
# Usage: scripts/fuzz-cron.sh [INPUTS_PER_SEED]   (10 seeds; default 20000 each = 200,000 inputs)
# A failure prints the seed and the input index; the same seed replays it:
#   CRON_FUZZ_INPUTS_PER_SEED=N swift test -c release -Xswiftc -enable-testing --filter FuzzTests
set -euo pipefail
cd "$(dirname "$0")/.."
export CRON_FUZZ_INPUTS_PER_SEED="${1:-20000}"
echo "Cron fuzz: 10 seeds x ${CRON_FUZZ_INPUTS_PER_SEED} inputs (release build)"
swift build -c release --build-tests -Xswiftc -enable-testing
time swift test -c release -Xswiftc -enable-testing --skip-build --filter "CronTests.FuzzTests"
