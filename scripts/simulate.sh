#!/usr/bin/env bash
# Runs seeded Raft cluster histories through the simulator, in release mode.
#
#   scripts/simulate.sh [--seeds N] [--seed S] [--mutation NAME] [--steps K] [other quorum-sim flags]
#   scripts/simulate.sh --scheduler [--seeds N] [--seed S] [--mutation NAME]   (the scheduler simulator)
#
# Builds ONLY the simulator (RaftCore + SimulationKit + quorum-sim) in its own scratch directory,
# with the deliberate bugs compiled in (selected at run time by --mutation or QUORUM_SIM_MUTATION;
# none is active by default; the names are RaftMutation's: commit-old-term, double-vote,
# send-before-persist, no-truncate, stale-read, ignore-reject-hint, wiped-voter-votes, ignore-incarnation,
# two-changes-in-flight, learner-votes, learner-acks). Defaults: 5000 histories of
# 1000 steps each.
# Exit status: 0 when every invariant held, 1 with the failing seed and its last steps, 2 on usage errors.
set -euo pipefail
cd "$(dirname "$0")/.."

# `--scheduler` (first argument): the scheduler simulator instead — NodeCores over an abstract log
# with crashes, lost logs, pauses, partitions (also one-way) and clock jumps, checking the
# scheduler's promises. Same build folder and flags; its flags: --seeds N (default 2000), --seed S,
# --first-seed S, --mutation start-after-stop|no-fencing|one-way-lease|follower-clock, --nodes 3|5.
if [ "${1:-}" = "--scheduler" ]; then
  shift
  swift build -c release --product scheduler-sim --scratch-path .build-sim -Xswiftc -DQUORUM_SIM_MUTATIONS >&2
  bin="$(swift build -c release --product scheduler-sim --scratch-path .build-sim -Xswiftc -DQUORUM_SIM_MUTATIONS --show-bin-path)"
  exec "$bin/scheduler-sim" "$@"
fi

swift build -c release --product quorum-sim --scratch-path .build-sim -Xswiftc -DQUORUM_SIM_MUTATIONS >&2
bin="$(swift build -c release --product quorum-sim --scratch-path .build-sim -Xswiftc -DQUORUM_SIM_MUTATIONS --show-bin-path)"
exec "$bin/quorum-sim" simulate "$@"
