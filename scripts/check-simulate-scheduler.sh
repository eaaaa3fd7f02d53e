#!/usr/bin/env bash
# CI's scheduler check: 2,000 seeded histories of simulated clusters (NodeCore over an abstract
# log with crashes, lost logs, pauses, one- and two-way partitions and clock jumps) must keep every
# scheduler invariant, and each deliberate bug must be caught (exit 1) within 2,000 seeds.
# Shares the release build of scripts/simulate.sh (.build-sim).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seeds="${SCHEDULER_SIM_SEEDS:-2000}"
echo "scheduler simulate: $seeds histories, no mutation"
scripts/simulate.sh --scheduler --seeds "$seeds"

log=$(mktemp "${TMPDIR:-/tmp}/quorum-scheduler-sim.XXXXXX")
trap 'rm -f "$log"' EXIT
for mutation in start-after-stop no-fencing one-way-lease follower-clock unnamed-assignments; do
  set +e
  scripts/simulate.sh --scheduler --seeds 2000 --mutation "$mutation" >"$log" 2>&1
  status=$?
  set -e
  if [ "$status" -ne 1 ]; then
    echo "scheduler mutation $mutation was NOT caught (exit $status); the scheduler simulator misses this bug:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  echo "scheduler mutation $mutation caught: $(grep -m1 -E '^seed [0-9]+: invariant' "$log" | cut -c1-160 || true)"
done
set +e
scripts/simulate.sh --scheduler --seeds 1 --mutation no-such-bug >"$log" 2>&1
status=$?
set -e
if [ "$status" -ne 2 ]; then
  echo "an unknown mutation must be a usage error (exit 2), got $status" >&2
  exit 1
fi
