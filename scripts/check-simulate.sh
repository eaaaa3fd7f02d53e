#!/usr/bin/env bash
# CI's consensus check: 5,000 seeded simulated cluster histories must keep every invariant, and
# each deliberate bug ("mutation") must be caught by the invariant it breaks within 2,000 seeds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seeds="${SIM_SEEDS:-5000}"
echo "simulate: $seeds histories, no mutation"
scripts/simulate.sh --seeds "$seeds"

log=$(mktemp "${TMPDIR:-/tmp}/quorum-sim.XXXXXX")
trap 'rm -f "$log"' EXIT
# The last three are membership bugs (docs/testing.md, "membership" histories): a second
# configuration change while one is uncommitted, a learner's vote or acknowledgement counted.
for mutation in commit-old-term double-vote send-before-persist no-truncate stale-read ignore-reject-hint wiped-voter-votes ignore-incarnation \
                two-changes-in-flight learner-votes learner-acks; do
  set +e
  scripts/simulate.sh --seeds 2000 --mutation "$mutation" >"$log" 2>&1
  status=$?
  set -e
  if [ "$status" -ne 1 ]; then
    echo "mutation $mutation was NOT caught (exit $status); the simulator misses this bug:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  echo "mutation $mutation caught: $(grep -m1 -iE 'seed|invariant|violat' "$log" || true)"
done
