#!/usr/bin/env bash
# Retention under steady submission (issue #12): the replicated state and the resident size
# level off with a finite retention. Simulated time in one process (release), so 30 minutes
# at 100 jobs/s take seconds and do not load a shared machine: every replica applies the same
# entries, so a node's scheduler state is this state. See docs/benchmarks.md, "Retention".
#
#   scripts/bench-retention.sh [MINUTES] [RETENTION_SECONDS] [JOBS_PER_SECOND] [TAIL_BYTES]   (defaults 30 60 100 1024)
#   (TAIL_BYTES 4096 is the replicated output tail now; 65536 what was replicated before)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
retention="${2:-60}"
rate="${3:-100}"
tail_bytes="${4:-1024}"
swift build -c release --product SchedulerBenchmark
.build/release/SchedulerBenchmark --jobs 0 --throughput-jobs 0 --retention-minutes "$minutes" --retention-seconds "$retention" --rate "$rate" --tail-bytes "$tail_bytes"
