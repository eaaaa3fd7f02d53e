#!/usr/bin/env bash
# Starts a local Quorum cluster (3 or 5 nodes, cluster/local-N.toml) in the background, from the
# repository root, and waits until a leader is elected.
#
#   scripts/cluster-up.sh [3|5]
#
# Builds the release binary if it is missing (QUORUM_BIN=path uses another, e.g. a debug build),
# creates dev certificates in certs/ if missing, writes each node's pid to data/<id>/quorum.pid
# and its log to data/<id>/quorum.log, and the Prometheus targets of cluster/prometheus.yml to
# data/prometheus-targets.json. Stop the cluster with scripts/cluster-down.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size="${1:-3}"
case "$size" in 3|5) ;; *) echo "usage: scripts/cluster-up.sh [3|5]" >&2; exit 2 ;; esac
config="cluster/local-$size.toml"
log() { printf '[cluster-up] %s\n' "$*" >&2; }

bin="${QUORUM_BIN:-.build/release/quorum}"
if [ ! -x "$bin" ]; then
  log "building the release binary (first time: ~10 minutes)"
  swift build -c release --product quorum >&2
fi

if [ ! -f certs/ca.pem ]; then
  log "creating dev certificates in certs/"
  "$bin" certs init --config "$config" --out certs >&2
fi
ids=$(grep -E '^id = ' "$config" | sed -E 's/id = "(.*)"/\1/')
for id in $ids; do
  [ -f "certs/$id.pem" ] || "$bin" certs issue --ca certs --id "$id" --host 127.0.0.1 >&2
done

# Whether pid runs (a zombie — exited, not reaped by a PID 1 that does not reap — does not).
running() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }
for id in $ids; do
  dir="data/$id"
  mkdir -p "$dir"
  if [ -f "$dir/quorum.pid" ] && running "$(cat "$dir/quorum.pid")"; then
    log "$id is already running (pid $(cat "$dir/quorum.pid"))"
    continue
  fi
  # setsid detaches the node from this shell's session; exec makes the pid the node's own.
  setsid bash -c 'exec "$0" node --config "$1" --id "$2" >>"$3" 2>&1 </dev/null' \
    "$bin" "$config" "$id" "$dir/quorum.log" &
  echo $! > "$dir/quorum.pid"
  log "started $id (pid $!), log $dir/quorum.log"
done

apis=$(grep -E '^api = ' "$config" | sed -E 's/api = "(.*)"/\1/')
# The scrape targets of cluster/prometheus.yml (file_sd_configs): this cluster's API addresses.
printf '[{"targets": [%s], "labels": {"cluster": "local-%s"}}]\n' \
  "$(printf '"%s", ' $apis | sed 's/, $//')" "$size" > data/prometheus-targets.json
deadline=$(( $(date +%s) + 60 ))
while :; do
  for api in $apis; do
    if answer=$(curl -fsS --max-time 1 "http://$api/api/cluster" 2>/dev/null) && \
       leader=$(printf '%s' "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["leader"] or "")' 2>/dev/null) && \
       [ -n "$leader" ]; then
      log "leader elected: $leader"
      for a in $apis; do echo "http://$a"; done
      exit 0
    fi
  done
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "no leader after 60 s; see data/*/quorum.log"; exit 1
  fi
  sleep 0.2
done
