#!/usr/bin/env bash
# Throughput of one peer TLS connection on loopback (100 B and 64 KiB messages), release build.
# Usage: scripts/bench-transport.sh [scale]   (scale multiplies the message counts; default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product TransportBenchmark
"$(swift build -c release --show-bin-path)/TransportBenchmark" "${1:-1}"
