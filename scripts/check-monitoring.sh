#!/usr/bin/env bash
# Checks the monitoring that ships with Quorum (cluster/prometheus.yml, cluster/alerts.yml,
# cluster/grafana/quorum.json) against a live 3-node cluster of debug `quorum node` processes
# and a real Prometheus: promtool check config/rules/metrics, every dashboard expression has
# data under load, every alert is empty on the healthy cluster, and "no leader" and "quorum at
# risk" fire within 2 minutes of killing 2 of 3 nodes. What and why: scripts/monitoring_check.py.
#
#   scripts/check-monitoring.sh          (QUORUM_BIN=path for another binary; KEEP=1 keeps the temp dir)
#
# Installs Debian's `prometheus` (prometheus and promtool) and PyYAML when missing. Starts its
# own nodes and Prometheus on free ports in a temp directory and stops them by PID. ~1–2 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf '[monitoring %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  log "installing Debian's prometheus (prometheus, promtool)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
  log "installing PyYAML from PyPI"
  python3 -m pip install --quiet 'PyYAML>=6' >&2
fi
exec python3 scripts/monitoring_check.py
