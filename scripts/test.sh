#!/usr/bin/env bash
# Runs every test of Quorum: one debug build (zero warnings in our own code), the unit and
# process tests, then the long randomized checks that live in scripts.
#
#   scripts/test.sh            everything (what CI runs)
#   QUICK=1 scripts/test.sh    only the build and `swift test`
#
# Installs nothing by hand: whatever a step needs, the step's script installs itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf '[test %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v swift >/dev/null || { log "swift is not on PATH (expected /opt/swift/usr/bin)"; exit 1; }

started=$(date +%s)
build_log=$(mktemp "${TMPDIR:-/tmp}/quorum-build.XXXXXX")
trap 'rm -f "$build_log"' EXIT

log "checking the module arrows (Package.swift against docs/architecture.md)"
bash scripts/arrows.sh >&2

# The tools the check scripts use (Debian packages and PyPI), installed once, in one step, in the
# background of the build; each script still installs what it needs when run on its own.
apt_packages=(prometheus chromium chromium-driver)
pip_packages=('schemathesis>=4,<5' 'openapi-spec-validator>=0.7' 'PyYAML>=6' 'selenium>=4.11,<5' 'aiosmtpd>=1.4,<2' 'kubernetes-validate>=1.30')
pip_log=$(mktemp "${TMPDIR:-/tmp}/quorum-pip.XXXXXX")
trap 'rm -f "$build_log" "$pip_log"' EXIT
pip_pid=""
if [ "${QUICK:-0}" != 1 ]; then
  log "installing the check scripts' tools in the background (apt: ${apt_packages[*]:-none}; pip: ${pip_packages[*]})"
  (
    if [ "${#apt_packages[@]}" -gt 0 ]; then
      missing=()
      for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
      if [ "${#missing[@]}" -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
      fi
    fi
    python3 -m pip install --quiet "${pip_packages[@]}"
  ) >"$pip_log" 2>&1 &
  pip_pid=$!
fi

log "building (debug, with tests; a target may import only what it declares)"
if ! swift build --build-tests --explicit-target-dependency-import-check error 2>&1 | tee "$build_log" | grep -E '(error|warning):|Build complete|Compiling [a-z]' | grep -vE 'Compiling' >&2; then
  :
fi
if ! grep -q 'Build complete' "$build_log"; then
  log "build failed"; tail -40 "$build_log" >&2; exit 1
fi
# Zero warnings in our own code (dependencies may warn; we cannot fix those).
own_warnings=$(grep -E "^$(pwd)/(Sources|Tests|Benchmarks)/.*warning:" "$build_log" | sort -u || true)
if [ -n "$own_warnings" ]; then
  log "the build has warnings in Quorum's own code:"; printf '%s\n' "$own_warnings" >&2; exit 1
fi

# Three groups, one after the other. Swift Testing runs every test of a process in parallel on
# the cooperative pool (two threads on a 2-core CI machine). The CPU-bound suites (Raft
# transcripts, the simulator, storage crash loops) would keep that pool busy for many seconds,
# while the suites below wait on real time (child processes, sockets, clocks): sharing a run,
# their bounded waits starved and expired. Each group still runs in parallel within itself.
# ClusterTests come last and alone: each test runs 3–5 `quorum node` processes that need the
# CPU themselves (Raft heartbeats every 50 ms), so they neither starve nor get starved by others.
real_time_suites='^(ExecutorTests|NotifyTests|NodeTests|NodeRuntimeTests|TransportTests|QuorumCLITests|QuorumClientTests)\.'
cluster_suites='^ClusterTests\.'
not_cpu_bound='^(ExecutorTests|NotifyTests|NodeTests|NodeRuntimeTests|TransportTests|QuorumCLITests|QuorumClientTests|ClusterTests)\.'
log "swift test: CPU-bound suites"
swift test --skip-build --skip "$not_cpu_bound"
log "swift test: suites that wait on real time (processes, sockets, clocks)"
swift test --skip-build --filter "$real_time_suites"
log "swift test: real clusters of quorum node processes"
swift test --skip-build --filter "$cluster_suites"

if [ "${QUICK:-0}" = 1 ]; then
  log "QUICK=1: skipping the script checks"; exit 0
fi

if [ -n "$pip_pid" ] && ! wait "$pip_pid"; then
  log "installing the tools failed (the scripts will try again):"; tail -5 "$pip_log" >&2
fi

for check in scripts/check-*.sh; do
  [ -e "$check" ] || continue
  # Manual only (docs/testing.md): the five-host run needs root and network namespaces; the chaos
  # mutation check and the rolling upgrade each build another copy of the node (tens of minutes).
  case "$check" in
    scripts/check-multihost.sh|scripts/check-chaos-mutation.sh|scripts/check-rolling-upgrade.sh) continue ;;
  esac
  log "running $check"
  bash "$check"
done

log "all tests passed in $(( $(date +%s) - started )) s"
