#!/usr/bin/env bash
# Checks that the node runtime has one clock: no file in Sources/NodeRuntime other than the
# production NodeClock (NodeClock.swift) reads or sleeps on a clock directly — ContinuousClock
# or SuspendingClock (now, instants, sleeping), Date() / Date.now, Task.sleep, DispatchTime.now,
# clock_gettime, gettimeofday. Everything else gets time from the node's NodeClock
# (NodeSettings.clock), which tests replace with a TestClock. Comments are ignored.
# Run by scripts/arrows.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python3 - <<'PY'
import pathlib, re, sys
allowed = pathlib.Path("Sources/NodeRuntime/NodeClock.swift")
pattern = re.compile(r"\b(ContinuousClock|SuspendingClock)\b|\bDate\(\)|\bDate\.now\b|\bTask\.sleep\b|\bDispatchTime\.now\b"
                     r"|\bclock_gettime\b|\bgettimeofday\b")
failures = []
files = sorted(pathlib.Path("Sources/NodeRuntime").rglob("*.swift"))
for path in files:
    if path == allowed:
        continue
    for number, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("//", 1)[0]
        match = pattern.search(code)
        if match:
            failures.append(f"{path}:{number}: reads time directly ({match.group(0)}): use the node's NodeClock "
                            "(settings.clock: monotonic(), wall(), sleep(for:)) so tests can drive it")
for failure in failures:
    print("node-clock: " + failure, file=sys.stderr)
if failures:
    sys.exit(1)
print(f"node-clock: {len(files) - 1} NodeRuntime files read time only through NodeClock")
PY
