#!/usr/bin/env bash
# Long randomized runs of the Cron module, in a release build:
#  1. fuzz: parse and next-fire on mutated/random input (10 seeds x INPUTS_PER_SEED);
#  2. the fast search against a minute-by-minute simulation of cronie around real DST
#     transitions (6 seeds x SIMULATION_ROUNDS random expressions).
# Usage: scripts/fuzz-cron.sh [INPUTS_PER_SEED] [SIMULATION_ROUNDS]   (defaults 20000 and 1000)
# A failure prints the seed and the input index; the same seed replays it:
#   CRON_FUZZ_INPUTS_PER_SEED=N swift test -c release -Xswiftc -enable-testing --filter FuzzTests
set -euo pipefail
cd "$(dirname "$0")/.."
export CRON_FUZZ_INPUTS_PER_SEED="${1:-20000}"
export CRON_SIMULATION_ROUNDS="${2:-1000}"
echo "Cron fuzz: 10 seeds x ${CRON_FUZZ_INPUTS_PER_SEED} inputs; simulation: 6 seeds x ${CRON_SIMULATION_ROUNDS} expressions (release build)"
swift build -c release --build-tests -Xswiftc -enable-testing
time swift test -c release -Xswiftc -enable-testing --skip-build --filter "CronTests.FuzzTests|CronTests.CronieSimulationTests"
