#!/usr/bin/env bash
# Stops the local cluster started by scripts/cluster-up.sh: SIGTERM to every data/<id>/quorum.pid
# (the node drains and exits), then SIGKILL to any still running after the grace period.
#
#   scripts/cluster-down.sh [grace-seconds]   (default 15)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
grace="${1:-15}"
# Whether pid runs. A node that exited but was not reaped (its parent is a PID 1 that does not
# reap, as in some containers) is a zombie: kill -0 still succeeds, but it is stopped.
running() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }
pids=()
for file in data/*/quorum.pid; do
  [ -f "$file" ] || continue
  pid=$(cat "$file")
  if running "$pid"; then
    kill -TERM "$pid" && pids+=("$pid:$file")
  else
    rm -f "$file"
  fi
done
deadline=$(( $(date +%s) + grace ))
for entry in "${pids[@]}"; do
  pid=${entry%%:*}; file=${entry#*:}
  while running "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
  if running "$pid"; then
    echo "[cluster-down] $file: pid $pid still running after ${grace}s; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
done
echo "[cluster-down] stopped ${#pids[@]} node(s)" >&2
