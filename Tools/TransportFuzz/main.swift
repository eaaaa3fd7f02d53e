// Seeded random-mutation fuzzing of the peer frame decoder: scripts/fuzz-transport.sh.
// Usage: TransportFuzz [inputs] [seed]   (defaults: 1,000,000 inputs, seed 1)
// Exits 1 and prints the violating input numbers (replayable with the same seed) on failure.

import Foundation
import Transport

let arguments = CommandLine.arguments
let inputs = arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000
let seed = arguments.count > 2 ? UInt64(arguments[2]) ?? 1 : 1

let start = Date()
let report = Transport.FrameDecoderFuzz(seed: seed).run(inputs: inputs)
let elapsed = Date().timeIntervalSince(start)
print("seed=\(seed) \(report) time=\(String(format: "%.1f", elapsed))s")
if !report.violations.isEmpty {
    for violation in report.violations { print("VIOLATION (seed \(seed)): \(violation)") }
    exit(1)
}
