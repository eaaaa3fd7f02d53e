#!/usr/bin/env bash
# CI's chaos run (docs/chaos.md): `quorum chaos` for 60 s on 3 nodes with kill, stop and
# partition faults, a fixed seed, the debug binary scripts/test.sh built. Fails on any non-zero
# count of the verdict line, or when the run takes longer than 170 s in all. The tool kills its
# nodes itself; if it dies or times out, this script kills them by the pids it recorded (and
# nothing else). The output folder (history, report, node logs) is kept and printed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
binary=".build/debug/quorum"
if [ ! -x "$binary" ]; then
  echo "check-chaos: $binary is missing; build first (swift build --product quorum)" >&2
  exit 1
fi
seed="${CHAOS_SEED:-20261206}"
out=$(mktemp -d "${TMPDIR:-/tmp}/quorum-check-chaos.XXXXXX")
echo "check-chaos: seed $seed, output in $out"

kill_nodes() {
  [ -f "$out/run/pids" ] || return 0
  while read -r pid; do
    [ -n "$pid" ] || continue
    kill -CONT "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done <"$out/run/pids"
}
trap kill_nodes EXIT

timeout --signal=KILL 170 "$binary" chaos --nodes 3 --duration 60 --nemesis kill,stop,partition \
  --seed "$seed" --settle 45 --out "$out/run" 2>&1 | tee "$out/chaos.log"
status=${PIPESTATUS[0]}
if [ "$status" -eq 137 ]; then
  echo "check-chaos: quorum chaos did not finish within 170 s (killed); logs in $out/run/cluster/logs" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "check-chaos: quorum chaos exited $status; report in $out/run/report.txt, node logs in $out/run/cluster/logs" >&2
  exit 1
fi
verdict=$(tail -1 "$out/chaos.log")
case "$verdict" in
  chaos:*"lost 0, duplicates 0, order violations 0, disagreements 0, non-linearizable 0, stuck 0, unknown 0"*) ;;
  *) echo "check-chaos: unexpected last line: $verdict" >&2; exit 1 ;;
esac
echo "check-chaos: passed ($out)"
