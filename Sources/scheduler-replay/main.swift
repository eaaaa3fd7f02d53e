// scheduler-replay: applies a seeded random command stream and prints the snapshot digest.
//
// The determinism test runs this twice, as two separate processes (so Swift's per-process hash
// seeds differ), and compares the digests with each other and with its own in-process replay.
//
//   scheduler-replay SEED COUNT   →   prints "digest=<16 hex digits> bytes=<n> jobs=<n> runs=<n>"
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SchedulerCore
import SchedulerTesting

let args = CommandLine.arguments
guard args.count == 3, let seed = UInt64(args[1]), let count = Int(args[2]) else {
    print("usage: scheduler-replay SEED COUNT")
    exit(2)
}
let state = SchedulerWorkload.replay(seed: seed, count: count)
let bytes = state.snapshot()
let hex = String(SchedulerSnapshot.digest(bytes), radix: 16)
print("digest=\(String(repeating: "0", count: 16 - hex.count) + hex) bytes=\(bytes.count) jobs=\(state.jobCount) runs=\(state.runCount)")
