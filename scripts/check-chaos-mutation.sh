#!/usr/bin/env bash
# The chaos mutation check (docs/chaos.md, "The mutation check"; manual, not a CI step): builds the
# node twice — as shipped, and as a mutant compiled with -DQUORUM_MUTATION_ACK_BEFORE_COMMIT, whose
# API answers 201 to a job submit before the job is committed — and runs the same `quorum chaos`
# against each. Passes when the shipped build's verdict is all zero and the mutant's reports lost
# acknowledged jobs (or reads that contradict an acknowledged submit).
#
# The mutant is built in its own scratch directory (.build-mutation, ignored by git) so the
# normal .build is untouched; the first build takes as long as a full build.
#   CHAOS_SEED=N           the seed of both runs (default 7)
#   CHAOS_DURATION=S       seconds of each run (default 60)
#   CHAOS_NEMESIS=LIST     the nemeses (default kill,partition)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seed="${CHAOS_SEED:-7}"
duration="${CHAOS_DURATION:-60}"
nemesis="${CHAOS_NEMESIS:-kill,partition}"
out=$(mktemp -d "${TMPDIR:-/tmp}/quorum-chaos-mutation.XXXXXX")
echo "check-chaos-mutation: seed $seed, ${duration}s, nemesis $nemesis, output in $out"

swift build --product quorum 2>&1 | tail -1 || exit 1
swift build --product quorum --scratch-path .build-mutation -Xswiftc -DQUORUM_MUTATION_ACK_BEFORE_COMMIT 2>&1 | tail -1 || exit 1
shipped=".build/debug/quorum"
mutant=".build-mutation/debug/quorum"
for binary in "$shipped" "$mutant"; do
  [ -x "$binary" ] || { echo "check-chaos-mutation: $binary was not built" >&2; exit 1; }
done

kill_nodes() {
  for pids in "$out"/*/pids; do
    [ -f "$pids" ] || continue
    while read -r pid; do
      [ -n "$pid" ] || continue
      kill -CONT "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    done <"$pids"
  done
}
trap kill_nodes EXIT

run() { # name binary
  timeout --signal=KILL $((duration + 150)) "$2" chaos --nodes 3 --duration "$duration" --nemesis "$nemesis" \
    --seed "$seed" --settle 45 --out "$out/$1" >"$out/$1.log" 2>&1
  echo "check-chaos-mutation: $1 exited $?: $(tail -2 "$out/$1.log" | grep '^chaos: [0-9]')"
}
run shipped "$shipped"
run mutant "$mutant"

shipped_line=$(grep '^chaos: [0-9]' "$out/shipped.log" | tail -1)
mutant_line=$(grep '^chaos: [0-9]' "$out/mutant.log" | tail -1)
zero="lost 0, duplicates 0, order violations 0, disagreements 0, non-linearizable 0, stuck 0, unknown 0"
status=0
case "$shipped_line" in
  *"$zero"*) echo "check-chaos-mutation: the shipped build passed" ;;
  *) echo "check-chaos-mutation: the shipped build did not pass: ${shipped_line:-no verdict} (see $out/shipped)" >&2; status=1 ;;
esac
lost=$(sed -n 's/.*lost \([0-9]*\),.*/\1/p' <<<"$mutant_line")
nonlin=$(sed -n 's/.*non-linearizable \([0-9]*\),.*/\1/p' <<<"$mutant_line")
if [ "${lost:-0}" -gt 0 ] || [ "${nonlin:-0}" -gt 0 ]; then
  echo "check-chaos-mutation: the mutant was caught: lost $lost, non-linearizable $nonlin"
  grep -m 5 -E '^chaos: (lost|non-linearizable|acknowledged)' "$out/mutant.log" || true
else
  echo "check-chaos-mutation: the mutant was NOT caught: ${mutant_line:-no verdict} (see $out/mutant)" >&2
  status=1
fi
exit $status
