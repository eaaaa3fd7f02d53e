// scheduler-replay: seeded random command streams against SchedulerCore.
//
//   scheduler-replay SEED COUNT
//       applies COUNT generated commands (through the binary codec) and prints
//       "digest=<16 hex digits> bytes=<n> jobs=<n> runs=<n>". The determinism test runs this
//       twice, as two separate processes (so Swift's per-process hash seeds differ), and
//       compares the digests with each other and with an in-process replay.
//
//   scheduler-replay check FIRST_SEED LAST_SEED COUNT
//       for every seed: checks the state's invariants every 25 commands and that a snapshot
//       restores to identical bytes at the end; prints any failing seed and exits 1.
//       `scripts/scheduler-soak.sh` runs this in release.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SchedulerCore
import SchedulerTesting

func hex16(_ value: UInt64) -> String {
    let hex = String(value, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

/// Replays one seed with checks; returns a failure description or nil.
func check(seed: UInt64, count: Int) -> String? {
    var state = SchedulerState()
    var workload = SchedulerWorkload(seed: seed)
    for step in 0..<count {
        let stamped = workload.next(for: state)
        let decoded: StampedCommand
        do {
            decoded = try CommandCodec.decode(CommandCodec.encode(stamped))
        } catch {
            return "seed \(seed) step \(step): codec round trip failed: \(error)"
        }
        let before = state.now
        _ = state.apply(decoded)
        if state.now < before { return "seed \(seed) step \(step): time went backwards" }
        if step % 25 == 24 {
            let problems = state.invariantViolations()
            if !problems.isEmpty { return "seed \(seed) step \(step): \(problems)" }
        }
    }
    let bytes = state.snapshot()
    do {
        let restored = try SchedulerState(snapshot: bytes)
        if restored.snapshot() != bytes { return "seed \(seed): snapshot did not restore to identical bytes" }
    } catch {
        return "seed \(seed): snapshot failed to restore: \(error)"
    }
    return nil
}

let args = Array(CommandLine.arguments.dropFirst())
if args.count == 2, let seed = UInt64(args[0]), let count = Int(args[1]) {
    let state = SchedulerWorkload.replay(seed: seed, count: count)
    let bytes = state.snapshot()
    print("digest=\(hex16(SchedulerSnapshot.digest(bytes))) bytes=\(bytes.count) jobs=\(state.jobCount) runs=\(state.runCount)")
} else if args.count == 4, args[0] == "check", let first = UInt64(args[1]), let last = UInt64(args[2]),
          let count = Int(args[3]), first <= last {
    var failures = 0
    for seed in first...last {
        if let failure = check(seed: seed, count: count) {
            print("FAIL \(failure)")
            failures += 1
        }
    }
    print("checked seeds \(first)...\(last), \(count) commands each: \(failures) failing")
    exit(failures == 0 ? 0 : 1)
} else {
    print("usage: scheduler-replay SEED COUNT | scheduler-replay check FIRST_SEED LAST_SEED COUNT")
    exit(2)
}
