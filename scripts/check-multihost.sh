#!/usr/bin/env bash
# Five "hosts" on one machine (docs/deploy.md, tried for real): each node runs in its own network
# namespace with its own address on a private bridge (10.77.0.0/24; no route out, so no traffic
# leaves the machine), with certificates for those addresses, API tokens and API TLS as on real
# machines. Under a steady load of submissions, one follower's process is SIGKILLed and the
# machine is replaced by a new node with a new id following docs/deploy.md "Replacing a machine"
# step by step (issue cert, add learner, start with --join, promote, remove the dead one). Then
# every job whose submission was acknowledged must exist.
#
#   sudo scripts/check-multihost.sh            (needs root, iproute2 and a release build)
#   QUORUM_BINARY=path KEEP=1 LOAD_SECONDS=20 CLIENTS=3 VICTIM=leader scripts/check-multihost.sh
#   (VICTIM=follower, the default, kills n3 — n2 if n3 leads; VICTIM=leader kills the leader)
#
# Manual: not in CI (root, network namespaces). Takes about a minute. Exit 0 when nothing
# acknowledged was lost and the membership ended as n1 n2 n4 n5 n6 (or with the dead one's id
# in place of n3). Everything it starts is stopped by PID, and its namespaces, links and bridge
# are deleted, on any exit (KEEP=1 keeps the work directory with the logs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="$(realpath "${QUORUM_BINARY:-.build/release/quorum}")"
load_seconds="${LOAD_SECONDS:-15}"
clients="${CLIENTS:-3}"
[ "$(id -u)" = 0 ] || { echo "check-multihost: needs root (ip netns)" >&2; exit 2; }
[ -x "$bin" ] || { echo "check-multihost: no binary at $bin (swift build -c release --product quorum)" >&2; exit 2; }
command -v ip >/dev/null || { echo "check-multihost: needs iproute2" >&2; exit 2; }

prefix="qmh"            # namespaces qmh-h1…, links qmh-v1…, bridge qmh-br
bridge="$prefix-br"
subnet="10.77.0"
work="$(mktemp -d "${TMPDIR:-/tmp}/quorum-multihost.XXXXXX")"
declare -A node_pid=()
load_pids=()

for name in "$bridge" "$prefix-v1"; do
  if ip link show "$name" >/dev/null 2>&1; then
    echo "check-multihost: $name exists (another run?); remove it first" >&2; exit 2
  fi
done

cleanup() {  # cleanup [STATUS]: the exit status (default: the last command's)
  local status=${1:-$?}
  trap - EXIT INT TERM
  set +e
  for pid in "${load_pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for id in "${!node_pid[@]}"; do
    kill -TERM "${node_pid[$id]}" 2>/dev/null
  done
  for id in "${!node_pid[@]}"; do
    for _ in $(seq 50); do kill -0 "${node_pid[$id]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${node_pid[$id]}" 2>/dev/null
  done
  for host in 1 2 3 4 5 6; do
    ip netns del "$prefix-h$host" 2>/dev/null
    ip link del "$prefix-v$host" 2>/dev/null
  done
  ip link del "$bridge" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then
    echo "check-multihost: logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'cleanup 130' INT
trap 'cleanup 143' TERM

step() { echo "[$(date -u +%H:%M:%S)] $*"; }

# --- The network: one bridge, one namespace per host, a veth pair each. -----------------------
step "network: bridge $bridge $subnet.254/24, hosts h1..h6 at $subnet.11..16"
ip link add "$bridge" type bridge
ip addr add "$subnet.254/24" dev "$bridge"
ip link set "$bridge" up
add_host() {
  local host=$1 ns="$prefix-h$1"
  ip netns add "$ns"
  ip link add "$prefix-v$host" type veth peer name eth0 netns "$ns"
  ip link set "$prefix-v$host" master "$bridge" up
  ip -n "$ns" addr add "$subnet.1$host/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
}
for host in 1 2 3 4 5 6; do add_host "$host"; done

# --- Config, certificates, tokens (docs/deploy.md steps 2-3). -----------------------------------
cat >"$work/cluster.toml" <<EOF
[cluster]
name = "multihost"
data_dir = "$work/data/{id}"

[raft]
heartbeat_ms = 50
election_timeout_ms = [300, 600]

[tls]
ca = "$work/certs/ca.pem"
cert = "$work/certs/{id}.pem"
key = "$work/certs/{id}.key"

[api]
tokens_file = "$work/tokens"
tls_cert = "$work/certs/api.pem"
tls_key = "$work/certs/api.key"

[executor]
slots = 2
EOF
for host in 1 2 3 4 5; do
  printf '\n[[nodes]]\nid = "n%s"\nraft = "%s.1%s:7001"\napi = "%s.1%s:8080"\n' "$host" "$subnet" "$host" "$subnet" "$host" >>"$work/cluster.toml"
done
"$bin" certs init --config "$work/cluster.toml" --out "$work/certs" >/dev/null
"$bin" certs api --ca "$work/certs" $(for host in 1 2 3 4 5 6; do echo --host "$subnet.1$host"; done) >/dev/null
token="$("$bin" tokens create --file "$work/tokens" --name ops --role admin 2>/dev/null | tail -1)"
export QUORUM_TOKEN="$token"
servers="$(for host in 1 2 3 4 5; do printf 'https://%s.1%s:8080,' "$subnet" "$host"; done)"
export QUORUM_SERVER="${servers%,}"
cli() { "$bin" "$@" --cacert "$work/certs/ca.pem"; }
"$bin" config check "$work/cluster.toml" --id n1 >/dev/null

start_node() {  # start_node ID HOST [extra args…]
  local id=$1 host=$2
  shift 2
  mkdir -p "$work/data/$id"
  ip netns exec "$prefix-h$host" "$bin" node --config "${CONFIG:-$work/cluster.toml}" --id "$id" "$@" \
    >"$work/$id.log" 2>&1 &
  node_pid[$id]=$!
  disown "$!"  # no job-control notice when one is killed; cleanup polls with kill -0
}

cluster_json() { cli cluster --json --wait 5 2>/dev/null || echo '{}'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND…: poll until COMMAND succeeds
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "check-multihost: timed out after ${seconds}s waiting for $what" >&2; return 1; fi
    sleep 0.5
  done
}

# --- Start the five founding nodes (any order; no --join). ---------------------------------------
step "starting n1..n5, one per namespace"
for host in 1 2 3 4 5; do start_node "n$host" "$host"; done
has_leader() { [ "$(cluster_json | json 'd.get("leader") or ""')" != "" ]; }
wait_for 60 "a leader" has_leader
step "leader: $(cluster_json | json 'd["leader"]')"

# --- Steady load: $clients clients, each one submission after another, acknowledged ids recorded.
: >"$work/acked"
for client in $(seq "$clients"); do
  (
    i=0
    while true; do
      i=$((i + 1))
      if out="$(cli submit --name "load-$client-$i" --kind noop --json --wait 10 2>>"$work/load.err")"; then
        echo "$out" | json 'd["id"]' >>"$work/acked"
      fi
    done
  ) &
  load_pids+=($!)
done
sleep 3

# --- Kill a follower and replace its machine (docs/deploy.md, "Replacing a machine"). ---------
leader="$(cluster_json | json 'd["leader"]')"
victim=n3
[ "$leader" = n3 ] && victim=n2
[ "${VICTIM:-follower}" = leader ] && victim="$leader"
victim_host="${victim#n}"
step "SIGKILL $victim (pid ${node_pid[$victim]}); the leader is $leader; $(wc -l <"$work/acked") submissions acknowledged so far"
kill -KILL "${node_pid[$victim]}"
for _ in $(seq 50); do kill -0 "${node_pid[$victim]}" 2>/dev/null || break; sleep 0.1; done
unset "node_pid[$victim]"

if [ "$victim" = "$leader" ]; then
  new_leader() { local now; now="$(cluster_json | json 'd.get("leader") or ""')"; [ -n "$now" ] && [ "$now" != "$victim" ]; }
  wait_for 30 "a new leader" new_leader
  step "new leader: $(cluster_json | json 'd["leader"]')"
fi
step "1. certificate for n6 at $subnet.16"
"$bin" certs issue --ca "$work/certs" --id n6 --host "$subnet.16" >/dev/null
step "2. config for the new machine: the cluster file plus n6's entry"
cp "$work/cluster.toml" "$work/cluster-n6.toml"
printf '\n[[nodes]]\nid = "n6"\nraft = "%s.16:7001"\napi = "%s.16:8080"\n' "$subnet" "$subnet" >>"$work/cluster-n6.toml"
step "3. quorum cluster add n6"
removed_first=0
add() { cli cluster add n6 --raft "$subnet.16:7001" --api "$subnet.16:8080" --wait 10 >"$work/add.out" 2>&1; }
if ! add; then
  cat "$work/add.out"
  # deploy.md step 3: a leader elected after the machine died never heard its build, so an add
  # with addresses is refused (409) naming it; remove the dead member first, then add.
  grep -q "member directories.*$victim at format" "$work/add.out" || { echo "check-multihost: the add failed" >&2; exit 1; }
  step "3a. 409 names the dead $victim (this leader never heard from it): quorum cluster remove $victim first"
  cli cluster remove "$victim" >"$work/remove.out" 2>&1 || { cat "$work/remove.out"; exit 1; }
  removed_first=1
  step "3b. quorum cluster add n6 again"
  add || { cat "$work/add.out"; exit 1; }
fi
step "4. start n6 with --join"
CONFIG="$work/cluster-n6.toml" start_node n6 6 --join "https://$subnet.11:8080"
caught_up() {
  cluster_json | json '[n for n in d["nodes"] if n["id"]=="n6"][0]["match_index"] + 64 >= d["commit_index"]' 2>/dev/null | grep -q True
}
wait_for 60 "n6 to catch up" caught_up
step "5. quorum cluster promote n6 (retried while 409)"
promote() { cli cluster promote n6 >"$work/promote.out" 2>&1; }
wait_for 60 "the promotion" promote
if [ "$removed_first" = 0 ]; then
  step "6. quorum cluster remove $victim"
  remove() { cli cluster remove "$victim" >"$work/remove.out" 2>&1; }
  wait_for 60 "the removal" remove
fi
step "7. check: members"
members_ok() {
  cluster_json | json '" ".join(sorted(n["id"] + ("" if n["voter"] else "(learner)") for n in d["nodes"]))' >"$work/members"
  local expected
  expected="$(for id in n1 n2 n3 n4 n5 n6; do [ "$id" != "$victim" ] && printf '%s ' "$id"; done)"
  [ "$(cat "$work/members")" = "${expected% }" ]
}
wait_for 30 "the member list without $victim" members_ok
step "members: $(cat "$work/members"); leader $(cluster_json | json 'd["leader"]')"
live="$(for id in n1 n2 n3 n4 n5 n6; do [ "$id" != "$victim" ] && printf 'https://%s.1%s:8080,' "$subnet" "${id#n}"; done)"
if "$bin" doctor --server "${live%,}" --cacert "$work/certs/ca.pem" >"$work/doctor.out" 2>&1; then
  step "quorum doctor over the five members: no check failed ($(grep -c '^ok' "$work/doctor.out" || true) ok, $(grep -c '^WARN' "$work/doctor.out" || true) warnings)"
else
  cat "$work/doctor.out"; echo "check-multihost: quorum doctor failed" >&2; exit 1
fi

# Keep the load on a while with the new member, then stop it.
before=$(wc -l <"$work/acked")
sleep "$load_seconds"
for pid in "${load_pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
load_pids=()
step "$(( $(wc -l <"$work/acked") - before )) submissions acknowledged in the ${load_seconds} s after the replacement"
sleep 1  # n6 applies the last ones

# --- Nothing acknowledged is lost: every acked id is there, through the leader and on n6. ------
acked=$(wc -l <"$work/acked")
lost=0
missing_on_n6=0
while read -r job; do
  [ -n "$job" ] || continue
  if ! curl -sf --cacert "$work/certs/ca.pem" -H "Authorization: Bearer $token" \
       "https://$subnet.11:8080/api/jobs/$job" >/dev/null; then
    lost=$((lost + 1)); echo "lost: $job" >&2
  fi
  if ! curl -sf --cacert "$work/certs/ca.pem" -H "Authorization: Bearer $token" \
       "https://$subnet.16:8080/api/jobs/$job?stale=true" >/dev/null; then
    missing_on_n6=$((missing_on_n6 + 1))
  fi
done <"$work/acked"
refused=$(grep -c . "$work/load.err" || true)
step "acknowledged submissions: $acked; lost: $lost; missing on n6 (stale read): $missing_on_n6; client error lines: $refused"
if grep -q "was removed from the cluster" "$work"/n*.log 2>/dev/null; then
  step "a removed node reported its removal"
fi
[ "$acked" -gt 0 ] || { echo "check-multihost: no submission was acknowledged" >&2; exit 1; }
[ "$lost" -eq 0 ] || { echo "check-multihost: $lost acknowledged jobs lost" >&2; exit 1; }
[ "$missing_on_n6" -eq 0 ] || { echo "check-multihost: n6 lacks $missing_on_n6 acknowledged jobs" >&2; exit 1; }
step "OK: 5 hosts, $victim replaced by n6, nothing acknowledged lost"
