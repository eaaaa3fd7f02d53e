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
# Each mutation with the options its bug needs to show: a leader naming data directories instead
# of processes (before command format 15) shows on five nodes with held assignments two deep.
for spec in start-after-stop no-fencing one-way-lease follower-clock unnamed-assignments \
            "directory-named-assignments --nodes 5 --prefetch 4"; do
  read -r mutation options <<<"$spec"
  set +e
  # shellcheck disable=SC2086  # options are words
  scripts/simulate.sh --scheduler --seeds 2000 --mutation "$mutation" $options >"$log" 2>&1
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
