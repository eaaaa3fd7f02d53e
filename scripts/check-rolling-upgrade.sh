#!/usr/bin/env bash
# A rolling upgrade under load (issue #19, docs/upgrades.md): builds the previous release (a git
# ref) from git in a temp clone, starts 3 nodes of it, submits jobs through every node without pause, replaces the nodes
# one at a time with the current build (SIGTERM, wait, restart on the same data directory), and
# checks that the cluster kept serving, that every acknowledged job is on every node afterwards,
# and that every member reports the new build's format. Manual, not in CI (two builds).
#
#   scripts/check-rolling-upgrade.sh [--from REF]
#
# REF (also accepted as the only positional argument) defaults to the commit named in
# scripts/previous-release: the repository has no release tags, so "the previous release" is
# pinned there, in one place, with why it was chosen.
#
# Environment:
#   CONFIGURATION=release|debug  how both builds are made (default release, as the issue asks;
#                                debug builds faster, and with NEW_BIN unset reuses this
#                                worktree's debug build)
#   NEW_BIN=path                 the current build's quorum binary (default: build it)
#   OLD_BIN=path                 REF's binary (default: build it in the temp clone)
#   KEEP=1                       keep the temp directory (logs, data) after the run
# Prints one line per step and a verdict; exits non-zero when a check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
usage="usage: scripts/check-rolling-upgrade.sh [--from REF]"
old_ref=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) [ $# -ge 2 ] || { echo "$usage: --from needs a git ref" >&2; exit 2; }; old_ref=$2; shift 2 ;;
    --from=*) old_ref=${1#--from=}; shift ;;
    -h|--help) echo "$usage"; exit 0 ;;
    -*) echo "$usage: unknown option $1" >&2; exit 2 ;;
    *) [ -z "$old_ref" ] || { echo "$usage: one ref only" >&2; exit 2; }; old_ref=$1; shift ;;
  esac
done
if [ -z "$old_ref" ]; then
  # The first line of scripts/previous-release that is not a comment or blank.
  old_ref=$(grep -v -e '^#' -e '^[[:space:]]*$' scripts/previous-release | head -1 | tr -d '[:space:]')
  [ -n "$old_ref" ] || { echo "scripts/previous-release names no commit; give --from REF" >&2; exit 2; }
fi
configuration="${CONFIGURATION:-release}"
log() { printf '[rolling-upgrade %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { log "FAIL: $*"; exit 1; }

work=$(mktemp -d /tmp/quorum-upgrade.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# 1. The two builds.
old_commit=$(git rev-parse --verify "$old_ref^{commit}") || fail "$old_ref is not a commit"
if [ -z "${NEW_BIN:-}" ]; then
  log "building the current tree ($configuration)"
  swift build -c "$configuration" --product quorum >"$work/build-new.log" 2>&1 || { tail -20 "$work/build-new.log"; fail "the current build failed"; }
  NEW_BIN="$root/.build/$configuration/quorum"
fi
# A copy: a build in this worktree during the run must not swap the binary under the nodes.
mkdir -p "$work/new-bin"
cp "$NEW_BIN" "$work/new-bin/quorum" || fail "no current build at $NEW_BIN"
NEW_BIN="$work/new-bin/quorum"
new_commit=$(git rev-parse HEAD)
log "old: $old_ref = $old_commit; new: $new_commit$(git diff --quiet HEAD -- Sources Package.swift || echo ' + uncommitted changes')"

if [ -z "${OLD_BIN:-}" ]; then
  log "building $old_ref ($old_commit) in a temp clone ($configuration)"
  git clone -q --no-checkout "$root" "$work/old-src"
  git -C "$work/old-src" checkout -q "$old_commit"
  # The same dependency versions as this tree, when both name the same packages (saves resolving).
  [ -f "$root/Package.resolved" ] && cp "$root/Package.resolved" "$work/old-src/" || true
  (cd "$work/old-src" && swift build -c "$configuration" --product quorum) >"$work/build-old.log" 2>&1 \
    || { tail -20 "$work/build-old.log"; fail "building $old_ref failed"; }
  OLD_BIN="$work/old-bin/quorum"
  mkdir -p "$work/old-bin"
  cp "$work/old-src/.build/$configuration/quorum" "$OLD_BIN"
  rm -rf "$work/old-src"
fi
[ -x "$NEW_BIN" ] && [ -x "$OLD_BIN" ] || fail "missing binaries ($NEW_BIN, $OLD_BIN)"

# 2. A 3-node cluster of the old build on free ports. Only keys every build knows: the config
#    is read strictly, so a key added by the new build would stop the old nodes.
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(6)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r r1 r2 r3 a1 a2 a3 <<<"$ports"
config="$work/cluster.toml"
cat >"$config" <<EOF
[cluster]
name = "upgrade"
data_dir = "$work/data/{id}"
# Checkpoints every 16 entries and, below, 300 delayed jobs: the replica check runs paced
# (docs/guarantees.md, "Replica checks") across builds that pace and builds that do not.
digest_interval_entries = 16

[tls]
ca = "$work/certs/ca.pem"
cert = "$work/certs/{id}.pem"
key = "$work/certs/{id}.key"

[executor]
slots = 4

[[nodes]]
id = "n1"
raft = "127.0.0.1:$r1"
api = "127.0.0.1:$a1"

[[nodes]]
id = "n2"
raft = "127.0.0.1:$r2"
api = "127.0.0.1:$a2"

[[nodes]]
id = "n3"
raft = "127.0.0.1:$r3"
api = "127.0.0.1:$a3"
EOF
"$OLD_BIN" certs init --config "$config" --out "$work/certs" >/dev/null
declare -A api=([n1]="http://127.0.0.1:$a1" [n2]="http://127.0.0.1:$a2" [n3]="http://127.0.0.1:$a3")
declare -A pid
start() { # id binary
  mkdir -p "$work/data/$1"
  "$2" node --config "$config" --id "$1" >>"$work/$1.log" 2>&1 </dev/null &
  pid[$1]=$!
  pids+=("$!")
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# "n1=7 n2=6 …": each member's format_version in a cluster view ("?" when it has none).
formats() { python3 -c 'import json,sys
d=json.load(sys.stdin)
print(" ".join("%s=%s" % (n["id"], n.get("format_version","?")) for n in d["nodes"]))'; }
wait_for() { # what seconds command...
  local what=$1 seconds=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "no $what within ${seconds}s (logs in $work; KEEP=1 keeps them)"
    sleep 0.2
  done
}
has_leader() { [ -n "$(curl -fsS --max-time 1 "${api[$1]}/api/cluster" | json 'd["leader"] or ""')" ]; }
ready() { curl -fsS --max-time 1 "${api[$1]}/readyz"; }

for id in n1 n2 n3; do start "$id" "$OLD_BIN"; done
wait_for "leader among the old nodes" 60 has_leader n1
log "3 nodes of $old_ref run; leader $(curl -fsS "${api[n1]}/api/cluster" | json 'd["leader"]')"
# 300 jobs delayed a day: enough records that a pacing build digests every 8th checkpoint or less.
python3 -c 'import json; print(json.dumps({"jobs": [{"name": "delayed-%d" % i, "task": {"kind": "noop"}, "delay_seconds": 86400} for i in range(300)]}))' \
  >"$work/delayed.json"
curl -fsS -X POST -H 'Content-Type: application/json' --data @"$work/delayed.json" "${api[n1]}/api/jobs/batch" \
  | json '"\n".join(d["ids"])' >"$work/delayed.txt"
log "$(wc -l <"$work/delayed.txt" | tr -d ' ') delayed jobs loaded"
# "n2=ok@256 n3=awaiting@-": each follower's replica check in the leader's view.
replica_checks() { curl -fsS "${api[$1]}/api/cluster" | python3 -c 'import json,sys
d=json.load(sys.stdin)
out=[]
for n in d["nodes"]:
    c=n.get("replica_check")
    if n["id"] == d.get("leader") or c is None: continue
    state="awaiting" if c.get("awaiting_check") else c.get("state","?")
    out.append("%s=%s@%s" % (n["id"], state, c.get("verified_index","-")))
print(" ".join(out))'; }

# 3. Steady load: one submission every 50 ms, round robin over the nodes, each with an
#    Idempotency-Key, retried (same key) on 503, 429 or a refused connection for up to 30 s.
#    An acknowledged id (201) is appended to acked.txt; a submission never acknowledged is
#    listed in failed.txt.
cat >"$work/load.py" <<'PY'
import json, os, sys, time, urllib.request, urllib.error
apis, out, stop = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
n = 0
with open(out + "/acked.txt", "a") as acked, open(out + "/failed.txt", "a") as failed:
    while not os.path.exists(stop):
        n += 1
        body = json.dumps({"name": f"upgrade-{n}", "task": {"kind": "noop"}}).encode()
        key, deadline, done = f"upgrade-{n}", time.time() + 30, False
        attempt = 0
        while not done and time.time() < deadline:
            url = apis[(n + attempt) % len(apis)] + "/api/jobs"
            attempt += 1
            req = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json", "Idempotency-Key": key})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    job = json.load(r)
                    acked.write(f"{job['id']} {time.time():.3f}\n"); acked.flush(); done = True
            except urllib.error.HTTPError as e:
                if e.code not in (429, 503, 504):
                    failed.write(f"{key} {e.code} {e.read()[:200]!r}\n"); failed.flush(); done = True
                else:
                    time.sleep(0.1)
            except Exception:
                time.sleep(0.1)
        if not done:
            failed.write(f"{key} gave-up\n"); failed.flush()
        time.sleep(0.05)
PY
: >"$work/acked.txt"; : >"$work/failed.txt"
python3 "$work/load.py" "${api[n1]},${api[n2]},${api[n3]}" "$work" "$work/stop" &
load=$!
pids+=("$load")
acked_count() { wc -l <"$work/acked.txt" | tr -d ' '; }
more_acked_than() { [ "$(acked_count)" -gt "$1" ]; }
wait_for "acknowledged submissions before the upgrade" 30 more_acked_than 20
log "load running: $(acked_count) acknowledged so far"

# 4. One node at a time: SIGTERM (graceful: drains, hands leadership over), wait for the exit,
#    restart it on the new build with the same data directory, wait until it is ready and the
#    load has been acknowledged again since.
for id in n1 n2 n3; do
  before=$(acked_count)
  kill -TERM "${pid[$id]}"
  wait "${pid[$id]}" 2>/dev/null || true
  log "$id stopped ($(acked_count) acknowledged); restarting it on the current build"
  start "$id" "$NEW_BIN"
  wait_for "readiness of $id on the new build" 90 ready "$id"
  mark=$(acked_count)
  wait_for "acknowledged submissions after upgrading $id" 60 more_acked_than $(( mark + 20 ))
  cluster=$(curl -fsS "${api[$id]}/api/cluster")
  step_leader=$(printf '%s' "$cluster" | json 'd["leader"]')
  log "$id upgraded: leader $step_leader, $(( $(acked_count) - before )) acknowledged during its step; formats seen by $id: $(printf '%s' "$cluster" | formats); replica checks: $(replica_checks "$step_leader")"
done

# 5. Stop the load, then check: nothing acknowledged is lost, every member reports the new
#    format (from the leader's view), and a write still succeeds.
touch "$work/stop"
wait "$load" || true
total=$(acked_count)
failed=$(wc -l <"$work/failed.txt" | tr -d ' ')
log "load stopped: $total acknowledged, $failed never acknowledged"
missing=0
for id in n1 n2 n3; do
  while read -r job _; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "${api[$id]}/api/jobs/$job")
    if [ "$code" != 200 ]; then missing=$((missing + 1)); log "job $job answered $code on $id"; fi
  done <"$work/acked.txt"
done
leader=$(curl -fsS "${api[n1]}/api/cluster" | json 'd["leader"]')
# Every member reports its format in its next lease probe (an eighth of lease_ms).
one_format() { [ "$(curl -fsS "${api[$leader]}/api/cluster" | formats | tr ' ' '\n' | sed 's/.*=//' | sort -u | wc -l)" = 1 ] \
  && ! curl -fsS "${api[$leader]}/api/cluster" | formats | grep -q '?'; }
wait_for "one format reported by every member" 30 one_format
# The replica check, paced on the new build: cancelling the delayed jobs (one entry each, no new
# record) carries the log past paced checkpoints; both followers must then be verified ok, none
# held or diverged, nothing counted.
while read -r job; do curl -fsS -o /dev/null -X DELETE "${api[$leader]}/api/jobs/$job"; done <"$work/delayed.txt"
followers_ok() { [ "$(replica_checks "$leader" | tr ' ' '\n' | grep -c '=ok@')" = 2 ]; }
wait_for "both followers verified ok by the replica check" 60 followers_ok
checkpoints=$(curl -fsS "${api[$leader]}/metrics" | grep '^quorum_replica_checkpoints_total' | sed 's/quorum_replica_checkpoints_total//' | tr '\n' ' ')
mismatches=$(curl -fsS "${api[$leader]}/metrics" | sed -n 's/^quorum_replica_digest_mismatch_total //p')
log "replica checks: $(replica_checks "$leader"); the leader's checkpoints: $checkpoints; mismatches: $mismatches"
view=$(curl -fsS "${api[$leader]}/api/cluster")
formats=$(printf '%s' "$view" | formats)
new_format=$(printf '%s' "$view" | json '[n for n in d["nodes"] if n["id"] == d["node"]][0].get("format_version", "?")')
final=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"name":"after-upgrade","task":{"kind":"noop"}}' "${api[n2]}/api/jobs")
log "leader $leader; member formats: $formats (this build: $new_format); a submit after the upgrade: $final"
[ "$missing" = 0 ] || fail "$missing acknowledged jobs missing on some node"
[ "$failed" = 0 ] || { cat "$work/failed.txt" | head -5; fail "$failed submissions were never acknowledged (the cluster stopped serving)"; }
[ "$final" = 201 ] || fail "a submit after the upgrade answered $final"
for f in $formats; do [ "${f#*=}" = "$new_format" ] || fail "member ${f%%=*} reports format ${f#*=}, not $new_format"; done
grep -l "cannot be decoded" "$work"/n*.log && fail "a node stopped on an undecodable entry"
case "$mismatches" in 0|0.0) ;; *) fail "the replica check counted $mismatches mismatches" ;; esac
log "PASS: $old_ref ($old_commit) → current build ($new_commit), one node at a time under load: $total jobs acknowledged, all on every node, none refused for good"
