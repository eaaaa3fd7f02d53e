#!/usr/bin/env bash
# Stops the local cluster started by scripts/cluster-up.sh: SIGTERM to every data/<id>/quorum.pid
# (the node drains and exits), then SIGKILL to any still running after the grace period.
#
#   scripts/cluster-down.sh [grace-seconds]   (default 15)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
grace="${1:-15}"
pids=()
for file in data/*/quorum.pid; do
  [ -f "$file" ] || continue
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" && pids+=("$pid:$file")
  else
    rm -f "$file"
  fi
done
deadline=$(( $(date +%s) + grace ))
for entry in "${pids[@]}"; do
  pid=${entry%%:*}; file=${entry#*:}
  while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "[cluster-down] $file: pid $pid still running after ${grace}s; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
done
echo "[cluster-down] stopped ${#pids[@]} node(s)" >&2
