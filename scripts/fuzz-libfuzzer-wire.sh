#!/usr/bin/env bash
# Coverage-guided fuzzing of the Raft message decoder with libFuzzer (swiftc -sanitize=fuzzer).
#
#   scripts/fuzz-libfuzzer-wire.sh [SECONDS]      (default 60; the corpus is kept between runs)
#
# Compiles DeterministicRandom, BinaryCoding, RaftCore and RaftWire with coverage instrumentation
# into .build-libfuzzer/ (plain swiftc, no SwiftPM), links Tools/RaftWireLibFuzzer/harness.swift,
# and runs it. A crash leaves crash-<hash> in .build-libfuzzer/ and prints how to replay it:
#   .build-libfuzzer/wire-fuzz .build-libfuzzer/crash-<hash>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-60}"
out=.build-libfuzzer
mkdir -p "$out/corpus"
for module in DeterministicRandom BinaryCoding RaftCore RaftWire; do
  swiftc -parse-as-library -wmo -O -sanitize=fuzzer -module-name "$module" \
    -emit-module -emit-module-path "$out/$module.swiftmodule" -I "$out" \
    -c Sources/"$module"/*.swift -o "$out/$module.o"
done
swiftc -parse-as-library -O -sanitize=fuzzer -I "$out" Tools/RaftWireLibFuzzer/harness.swift \
  "$out"/DeterministicRandom.o "$out"/BinaryCoding.o "$out"/RaftCore.o "$out"/RaftWire.o -o "$out/wire-fuzz"
cd "$out"
./wire-fuzz -max_total_time="$seconds" -print_final_stats=1 corpus
