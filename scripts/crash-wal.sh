#!/usr/bin/env bash
# Long WAL kill test in release: ROUNDS times (default 200), start the WALCrashChild appender,
# SIGKILL it after a random 0-999 ms, and check that every index it acknowledged recovered.
# Usage: scripts/crash-wal.sh [ROUNDS] [SEED]     (prints the seed; pass it again to replay)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-200}
seed=${2:-$$}
swift build -c release --product WALCrashChild >&2
bin="$(swift build -c release --show-bin-path)/WALCrashChild"
dir=$(mktemp -d)
out=$(mktemp)
trap 'rm -rf "$dir" "$out"' EXIT
RANDOM=$seed
highest=0
for ((round = 0; round < rounds; round++)); do
    "$bin" "$dir" >"$out" &
    pid=$!
    sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if grep -q '^error' "$out"; then
        echo "seed $seed round $round: the child failed: $(grep '^error' "$out" | head -1)"
        exit 1
    fi
    last=$(grep '^acked ' "$out" | awk '{print $2}' | sort -n | tail -1 || true)
    if [[ -n "$last" && "$last" -gt "$highest" ]]; then highest=$last; fi
    if ! result=$("$bin" --verify "$dir" "$highest"); then
        echo "seed $seed round $round: $result"
        exit 1
    fi
done
echo "seed $seed: $rounds kills, highest acknowledged index $highest, all recovered ($result)"
