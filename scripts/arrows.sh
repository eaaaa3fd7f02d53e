#!/usr/bin/env bash
# Checks the module arrows of docs/architecture.md against Package.swift: every forbidden
# dependency, direct or transitive, fails with the path that makes it. Run by scripts/test.sh
# before the build (which also refuses imports a target does not declare).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift package dump-package 2>/dev/null | python3 -c '
import json, sys
package = json.load(sys.stdin)
deps = {}
for target in package["targets"]:
    names = []
    for dep in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dep:
                names.append(dep[kind][0])
    deps[target["name"]] = names

def path(source, goal):
    """A dependency path from source to goal (transitive), or None."""
    seen, stack = set(), [[source]]
    while stack:
        trail = stack.pop()
        for nxt in deps.get(trail[-1], []):
            if nxt == goal:
                return trail + [nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append(trail + [nxt])
    return None

pure = ["RaftCore", "SchedulerCore", "SchedulerPlanning", "NodeCore"]
io_modules = ["NIOCore", "NIOPosix", "NIOSSL", "Hummingbird", "AsyncHTTPClient", "Subprocess", "Logging", "Metrics",
              "TOMLKit", "Node", "NodeRuntime", "HTTPAPI", "Transport", "RaftStorage", "Executor", "EgressHTTP", "Notify"]
forbidden = [("NodeRuntime", "HTTPAPI"), ("HTTPAPI", "NodeRuntime"), ("HTTPAPI", "Node"), ("SchedulerCore", "Cron"),
             ("SchedulerPlanning", "HTTPAPI"), ("NodeCore", "HTTPAPI"), ("Executor", "NodeRuntime"), ("QuorumClient", "NodeRuntime"),
             ("Notify", "SchedulerCore"), ("Notify", "HTTPAPI"), ("Notify", "NodeRuntime"), ("Notify", "Executor"),
             ("EgressHTTP", "SchedulerCore"), ("EgressPolicy", "EgressHTTP"),
             ("Chaos", "NodeRuntime"), ("Chaos", "HTTPAPI"), ("Chaos", "Node")]
forbidden += [(p, m) for p in pure for m in io_modules]
failures = [(a, b, path(a, b)) for a, b in forbidden if a in deps and path(a, b)]
for a, b, trail in failures:
    print("arrows: %s must not depend on %s, but does: %s" % (a, b, " -> ".join(trail)), file=sys.stderr)
if failures:
    sys.exit(1)
print(f"arrows: {len(forbidden)} forbidden dependencies checked over {len(deps)} targets; none present")
'
# The node runtime's one clock: no NodeRuntime file but NodeClock.swift reads time directly.
"$(dirname "${BASH_SOURCE[0]}")/check-node-clock.sh"
