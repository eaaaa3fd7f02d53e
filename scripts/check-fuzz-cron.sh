#!/usr/bin/env bash
# CI's cron fuzz: 10 seeds x 10,000 mutated inputs (100,000) plus the cronie-simulation
# comparison, on the debug build scripts/test.sh already made (no second build).
# scripts/fuzz-cron.sh runs larger amounts in release.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CRON_FUZZ_INPUTS_PER_SEED="${CRON_FUZZ_INPUTS_PER_SEED:-10000}"
export CRON_SIMULATION_ROUNDS="${CRON_SIMULATION_ROUNDS:-300}"
echo "cron fuzz: 10 seeds x ${CRON_FUZZ_INPUTS_PER_SEED} inputs; simulation: 6 seeds x ${CRON_SIMULATION_ROUNDS} expressions"
swift test --skip-build --filter "CronTests.FuzzTests|CronTests.CronieSimulationTests"
