// Measures what an attempt costs the node: noop overhead, shell spawn latency, and the memory
// and throughput of streaming a large output through the 64 KiB tail.
//
// Run with scripts/bench-executor.sh (release build).

import Executor
import SchedulerCore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let logger = Logger(label: "executor-benchmark") { _ in SwiftLogNoOpLogHandler() }
let executor = AttemptRunner(configuration: ExecutorConfiguration(allowShell: true), logger: logger)
let clock = ContinuousClock()

/// Peak resident set size of this process so far, in MiB (Linux reports KiB).
func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) / 1e18
}

func percentile(_ sorted: [Duration], _ fraction: Double) -> Double {
    let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
    return seconds(sorted[max(0, index)]) * 1000
}

func request(_ task: TaskSpec) -> ExecutionRequest {
    ExecutionRequest(runID: "bench", attempt: 1, task: task, timeout: .seconds(600))
}

func check(_ result: ExecutionResult, _ what: String) {
    guard result.report.outcome == .succeeded else {
        print("\(what) did not succeed: \(result.report.outcome) \(result.report.error ?? "")")
        exit(1)
    }
}

// 1. noop: the executor's own overhead per attempt.
let noopCount = 100_000
let noopStart = clock.now
for _ in 0..<noopCount {
    check(await executor.run(request(.noop)), "noop")
}
let noopElapsed = seconds(noopStart.duration(to: clock.now))
print("noop attempts:            \(noopCount) in \(String(format: "%.2f", noopElapsed)) s = \(Int(Double(noopCount) / noopElapsed)) attempts/s (one at a time)")

// 2. shell /bin/true: spawn, wait, reap, kill the group — the latency of a trivial shell job.
let spawnCount = 500
var spawnLatencies: [Duration] = []
for _ in 0..<spawnCount {
    let start = clock.now
    check(await executor.run(request(.shell(ShellTask(argv: ["/bin/true"])))), "/bin/true")
    spawnLatencies.append(start.duration(to: clock.now))
}
spawnLatencies.sort()
let spawnTotal = spawnLatencies.reduce(Duration.zero, +)
print("shell /bin/true attempts: \(spawnCount), \(Int(Double(spawnCount) / seconds(spawnTotal))) attempts/s, latency p50 \(String(format: "%.2f", percentile(spawnLatencies, 0.5))) ms, p99 \(String(format: "%.2f", percentile(spawnLatencies, 0.99))) ms")

// 3. 1 GiB of output through the tail: throughput, and peak memory must not grow with it.
let rssBefore = peakRSSMiB()
let bytes = 1 << 30
let streamStart = clock.now
let streamed = await executor.run(request(.shell(ShellTask(argv: ["/usr/bin/head", "-c", String(bytes), "/dev/zero"]))))
check(streamed, "1 GiB output")
let streamElapsed = seconds(streamStart.duration(to: clock.now))
print("1 GiB of output:          \(String(format: "%.2f", streamElapsed)) s = \(Int(Double(bytes) / streamElapsed / 1_048_576)) MiB/s, tail kept \(streamed.report.outputTail.utf8.count) bytes")
print("peak RSS:                 \(String(format: "%.1f", rssBefore)) MiB before, \(String(format: "%.1f", peakRSSMiB())) MiB after the 1 GiB job")
