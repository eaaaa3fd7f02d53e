#!/usr/bin/env bash
# Reads off the apply path (issue #12): write latency on the leader of a fresh local 3-node
# release cluster holding JOBS labelled pending jobs, without readers and while READERS client
# processes loop `GET /api/jobs?label=a:b3&label=x:y5&limit=50` on the leader (1 job in 70
# carries both labels). Not CI: a few minutes of the whole machine. Results in docs/benchmarks.md.
#
#   scripts/bench-reads.sh [QUORUM_BIN] [LABEL]     (env: JOBS [100000] READERS [4] SECONDS_EACH [30] READERS_ON [leader|follower]
#                                                    READ_PATH [/api/jobs?label=a:b3&label=x:y5&limit=50]
#                                                    READER_NICE [0])
#
# READER_NICE=19 runs the reader processes at nice 19: their own CPU (HTTP, TLS, parsing 50-job
# pages in Python) then yields to the nodes and the writer, as it would if the readers ran on
# other machines. The default (0) keeps the numbers comparable with earlier runs.
#
# Each phase runs SECONDS_EACH; with loading, one run takes about 2 × SECONDS_EACH plus the load (≤ 3 min).
# Stops exactly its own nodes (scripts/bench/cluster_bench.py down) and removes its temp dir.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/.build/release/quorum}
LABEL=${2:-$(basename "$BIN")}
HELPER=$ROOT/scripts/bench/cluster_bench.py
[ -x "$BIN" ] || { echo "no quorum binary at $BIN (build: swift build -c release --product quorum)" >&2; exit 2; }
DIR=$(mktemp -d "${TMPDIR:-/tmp}/quorum-bench-reads.XXXXXX")
cleanup() { python3 "$HELPER" down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
python3 "$HELPER" up --dir "$DIR" --bin "$BIN" >/dev/null
python3 "$HELPER" reads --dir "$DIR" --jobs "${JOBS:-100000}" --readers "${READERS:-4}" --seconds "${SECONDS_EACH:-30}" --readers-on "${READERS_ON:-leader}" --reader-nice "${READER_NICE:-0}" --label "$LABEL"
