// SchedulerBenchmark: apply throughput, memory of a million queued jobs, snapshot/restore time,
// and the apply stall of a snapshot on and off the apply path.
//
//   SchedulerBenchmark [--jobs N] [--throughput-jobs N]
//   SchedulerBenchmark --jobs 0 --throughput-jobs 0 --retention-minutes M [--retention-seconds S] [--rate R] [--tail-bytes B]
//   SchedulerBenchmark --jobs 0 --throughput-jobs 0 --view-jobs N
//   SchedulerBenchmark --jobs 0 --throughput-jobs 0 --notification-pending N
//
// The notification mode (scripts/bench-scheduler.sh --notifications) builds a state holding N
// pending notifications (N dead once jobs with a `dead` webhook rule) and prints what the
// leader's duty round costs on it — the due ones (at most 32), the next due time, and applying
// that round's outcome entry — and what deriving one notification on apply costs (issue #17).
//
// The view mode (scripts/bench-scheduler.sh --views) holds N labelled once jobs and prints the
// cost of a two-label `listJobs` page through the label index, then what a reader holding an
// isolated view (a copy of the state value) costs apply and resident memory (issue #12).
//
// The retention mode (scripts/bench-retention.sh) replays M minutes of simulated time at R once
// jobs per second (default 100), each submitted, assigned and finished with a B-byte output tail (default 1 KiB)
// and kept S seconds (default 60), one entry per second as the leader would batch them, and
// prints once a simulated minute the jobs and runs held, the snapshot size and this process's RSS:
// with a finite retention they level off (issue #12).
//
// Run it through scripts/bench-scheduler.sh (release build). Figures go in docs/benchmarks.md.
import Foundation
import SchedulerCore

func argument(_ name: String, default value: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let n = Int(args[i + 1]) else { return value }
    return n
}

/// Resident set size and its peak, in MiB, from /proc/self/status (Linux).
func memoryMiB() -> (rss: Double, peak: Double) {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
    func field(_ name: String) -> Double {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return (field("VmRSS:"), field("VmHWM:"))
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// CPU time of this thread, in seconds: the machine is shared, so wall time overstates cost.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body`, returning its result, wall seconds and CPU seconds.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Double, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let cpuStart = threadCPUSeconds()
    let result = try body()
    return (result, seconds(clock.now - start), threadCPUSeconds() - cpuStart)
}

let throughputJobs = argument("--throughput-jobs", default: 200_000)
let memoryJobs = argument("--jobs", default: 1_000_000)
let start = Timestamp(1_700_000_000_000)
let spec = JobSpec(name: "bench", priority: 1, task: .shell(ShellTask(argv: ["/bin/true"])))

// 1. Throughput: submit + assign + finish, in waves of 1,000 jobs (so the queue holds work).
if throughputJobs > 0 {
    var commands: [StampedCommand] = []
    commands.reserveCapacity(throughputJobs * 3)
    let wave = 1_000
    var t = start
    for base in stride(from: 0, to: throughputJobs, by: wave) {
        let ids = (base..<min(base + wave, throughputJobs))
        for i in ids {
            commands.append(StampedCommand(at: t, command: .submitJob(SubmitJob(jobID: JobID("job-\(i)"), spec: spec, runID: RunID("run-\(i)")))))
        }
        t = t.adding(milliseconds: 1)
        for i in ids {
            commands.append(StampedCommand(at: t, command: .assignAttempt(AssignAttempt(
                runID: RunID("run-\(i)"), executor: ExecutorID("n\(i % 3 + 1)"), attempt: 1, deadline: t.adding(milliseconds: 60_000)))))
        }
        t = t.adding(milliseconds: 1)
        for i in ids {
            commands.append(StampedCommand(at: t, command: .finishAttempt(FinishAttempt(runID: RunID("run-\(i)"), attempt: 1, report: .success))))
        }
    }
    var state = SchedulerState()
    var events: [SchedulerEvent] = []
    events.reserveCapacity(16)
    let (_, elapsed, cpu) = measure {
        for c in commands {
            events.removeAll(keepingCapacity: true)
            state.apply(c.command, at: c.at, into: &events)
        }
    }
    precondition(state.queuedCount == 0 && state.runningCount == 0, "throughput run left work behind")
    print(String(format: "apply submit+assign+finish: %d commands in %.3f s wall (%.0f/s), %.3f s CPU = %.0f commands/s per core",
                 commands.count, elapsed, Double(commands.count) / elapsed, cpu, Double(commands.count) / cpu))

    let encoded = commands.map(CommandCodec.encode)
    var decodedState = SchedulerState()
    let (_, decodeElapsed, decodeCPU) = try measure {
        for bytes in encoded {
            events.removeAll(keepingCapacity: true)
            let c = try CommandCodec.decode(bytes)
            decodedState.apply(c.command, at: c.at, into: &events)
        }
    }
    print(String(format: "decode+apply (as a replica does): %d commands in %.3f s wall, %.3f s CPU = %.0f commands/s per core",
                 encoded.count, decodeElapsed, decodeCPU, Double(encoded.count) / decodeCPU))
}

// 2. Memory: a million queued once jobs; 3. snapshot and restore of that state.
if memoryJobs > 0 {
    print("layout: Job \(MemoryLayout<Job>.stride) B, Run \(MemoryLayout<Run>.stride) B per slot (plus the shared JobSpec object)")
    let before = memoryMiB()
    var state = SchedulerState()
    var events: [SchedulerEvent] = []
    let (_, submitElapsed, submitCPU) = measure {
        for i in 0..<memoryJobs {
            events.removeAll(keepingCapacity: true)
            let job = SubmitJob(jobID: JobID("job-\(i)"),
                                spec: JobSpec(name: "job-\(i)", priority: i % 4, task: .shell(ShellTask(argv: ["/bin/true"]))),
                                runID: RunID("run-\(i)"))
            state.apply(.submitJob(job), at: start, into: &events)
        }
    }
    let after = memoryMiB()
    print(String(format: "%d queued once jobs: submitted in %.2f s wall / %.2f s CPU; RSS %.0f MiB (before %.0f MiB, +%.0f MiB), peak %.0f MiB",
                 state.queuedCount, submitElapsed, submitCPU, after.rss, before.rss, after.rss - before.rss, after.peak))
    let (bytes, snapElapsed, snapCPU) = measure { state.snapshot() }
    print(String(format: "snapshot: %.1f MiB in %.2f s wall / %.2f s CPU", Double(bytes.count) / 1_048_576, snapElapsed, snapCPU))
    // The replica check's digest (issue #19) is that encoding plus this hash over it.
    let (digest, hashElapsed, hashCPU) = measure { SchedulerSnapshot.digest(bytes) }
    print(String(format: "replica-check hash of that image (FNV-1a): %.2f s wall / %.2f s CPU (digest %016llx)", hashElapsed, hashCPU, digest))
    // What a node's digester runs: the encoding streamed in 1 MiB pieces into the hash.
    let (streamed, streamedElapsed, streamedCPU) = measure { state.snapshotDigest() }
    precondition(streamed == digest, "the streamed digest differs from the image's")
    print(String(format: "replica-check digest as a node computes it (encoding streamed into the hash): %.2f s wall / %.2f s CPU",
                 streamedElapsed, streamedCPU))
    let (restored, restoreElapsed, restoreCPU) = try measure { try SchedulerState(snapshot: bytes) }
    print(String(format: "restore: %.2f s wall / %.2f s CPU (%d jobs, %d queued)", restoreElapsed, restoreCPU, restored.jobCount, restored.queuedCount))
    let top = restored.runsToAssign(limit: 3).map(\.runID.rawValue)
    precondition(top == state.runsToAssign(limit: 3).map(\.runID.rawValue), "restored queue order differs")
    print("first to assign after restore: \(top.joined(separator: ", "))")

    // 4. What an apply waits for when the node snapshots (issue #10). On the apply path, the
    //    whole encoding above ran between two applies. Off it, the applier only freezes the state
    //    (a copy of the value: O(1)) and the encoding runs on another task; the price is that
    //    the first apply after the freeze copies the tables it touches (copy-on-write).
    func extraJob(_ name: String) -> Command {
        .submitJob(SubmitJob(jobID: JobID(name), spec: JobSpec(name: name, priority: 1, task: .shell(ShellTask(argv: ["/bin/true"]))),
                             runID: RunID("\(name)-run")))
    }
    let (_, warmElapsed, _) = measure { state.apply(extraJob("before-freeze"), at: start, into: &events) }
    let (frozen, freezeElapsed, _) = measure { state }
    let (_, firstElapsed, firstCPU) = measure { state.apply(extraJob("after-freeze-1"), at: start, into: &events) }
    let (_, secondElapsed, _) = measure { state.apply(extraJob("after-freeze-2"), at: start, into: &events) }
    let (_, encodeElapsed, encodeCPU) = measure { frozen.snapshot() }
    precondition(frozen.jobCount == state.jobCount - 2, "the frozen copy changed under later applies")
    print(String(format: "apply stall at a snapshot: on the apply path %.2f s (the encoding); off it %.6f s freeze + %.3f s wall / %.3f s CPU "
                     + "for the first apply after it (copies the touched tables; an apply before the freeze took %.6f s, the second after it %.6f s); "
                     + "the encoding of the frozen copy (%.2f s wall / %.2f s CPU) runs on another task",
                 snapElapsed, freezeElapsed, firstElapsed, firstCPU, warmElapsed, secondElapsed, encodeElapsed, encodeCPU))
}

// 5. Retention under steady submission: the state (and RSS) levels off at rate × (retention +
//    run time) jobs. Simulated time, so 30 minutes take seconds; every replica applies the same.
let retentionMinutes = argument("--retention-minutes", default: 0)
if retentionMinutes > 0 {
    let retentionMs = Int64(argument("--retention-seconds", default: 60)) * 1000
    let rate = argument("--rate", default: 100)
    // Each finish carries its own tail (a distinct allocation, as a real report's is), of
    // --tail-bytes: 4,096 is what an executor replicates now, 65,536 what it replicated before.
    let tailBytes = argument("--tail-bytes", default: 1024)
    func tail(_ id: String) -> String { String(repeating: "x", count: max(0, tailBytes - id.utf8.count)) + id }
    let spec = JobSpec(name: "steady", task: .shell(ShellTask(argv: ["/bin/true"])), retentionMs: retentionMs, historyLimit: 20)
    var state = SchedulerState()
    var events: [SchedulerEvent] = []
    var t = start
    var next = 0
    var removed = 0
    let baseline = memoryMiB()
    print(String(format: "retention %d s, %d jobs/s, %d simulated minutes, %d-byte output tails; RSS before %.0f MiB", retentionMs / 1000,
                 rate, retentionMinutes, tailBytes, baseline.rss))
    print("minute  jobs_held  runs_held  snapshot_MiB  rss_MiB  peak_MiB  removed_total")
    let (_, elapsed, cpu) = measure {
        for minute in 1...retentionMinutes {
            for _ in 0..<60 {
                // One second: this second's submits, then last second's jobs assigned and finished.
                let ids = (next..<(next + rate)).map { "s\($0)" }
                next += rate
                let submits = ids.map { Command.submitJob(SubmitJob(jobID: JobID($0), spec: spec, runID: RunID("r-" + $0))) }
                let assigns = ids.map { Command.assignAttempt(AssignAttempt(runID: RunID("r-" + $0), executor: ExecutorID("n2"), attempt: 1,
                                                                            deadline: t.adding(milliseconds: 60_000))) }
                let finishes = ids.map { Command.finishAttempt(FinishAttempt(runID: RunID("r-" + $0), attempt: 1,
                                                                              report: AttemptReport(outcome: .succeeded, outputTail: tail($0)))) }
                for entry in [submits, assigns, finishes] {
                    events.removeAll(keepingCapacity: true)
                    state.apply(.batch(entry), at: t, into: &events)
                    removed += events.count { if case .removed = $0 { true } else { false } }
                    t = t.adding(milliseconds: 300)
                }
                t = t.adding(milliseconds: 100)
            }
            let memory = memoryMiB()
            let snapshot = minute % 5 == 0 || minute == retentionMinutes ? String(format: "%12.1f", Double(state.snapshot().count) / 1_048_576) : "           -"
            print(String(format: "%6d  %9d  %9d  %@  %7.0f  %8.0f  %13d", minute, state.jobCount, state.runCount, snapshot, memory.rss,
                         memory.peak, removed))
        }
    }
    print(String(format: "%d jobs in %.1f s wall / %.1f s CPU", next, elapsed, cpu))
}

// 6. Reads (issue #12): a two-label page through the label index, and what holding a view costs.
let viewJobs = argument("--view-jobs", default: 0)
if viewJobs > 0 {
    var state = SchedulerState()
    var events: [SchedulerEvent] = []
    // team:tK and shard:sK with K = i % 10 and i % 10 again: team:t1 & shard:s1 is every job of
    // team t1 (a common pair); team:t1 & shard:s2 never occurs (the walk reads all of team t1).
    // zone:zK with K = i % 7 makes team:t3 & zone:z5 one job in 70.
    for i in 0..<viewJobs {
        events.removeAll(keepingCapacity: true)
        let labels = [KeyValue("team", "t\(i % 10)"), KeyValue("shard", "s\(i % 10)"), KeyValue("zone", "z\(i % 7)")]
        let job = SubmitJob(jobID: JobID("job-\(i)"), spec: JobSpec(name: "job-\(i)", priority: i % 4, task: .noop, labels: labels),
                            runID: RunID("run-\(i)"))
        state.apply(.submitJob(job), at: start, into: &events)
    }
    let held = memoryMiB()
    print(String(format: "%d labelled once jobs; RSS %.0f MiB", state.jobCount, held.rss))
    let pairs: [(String, [KeyValue])] = [
        ("common pair (team:t1 & shard:s1)", [KeyValue("team", "t1"), KeyValue("shard", "s1")]),
        ("1-in-70 pair (team:t3 & zone:z5)", [KeyValue("team", "t3"), KeyValue("zone", "z5")]),
        ("disjoint pair (team:t1 & shard:s2)", [KeyValue("team", "t1"), KeyValue("shard", "s2")]),
    ]
    for (name, labels) in pairs {
        let filter = JobFilter(labels: labels)
        var count = 0
        let rounds = 20
        let (_, elapsed, cpu) = measure {
            for _ in 0..<rounds { count = state.listJobs(filter: filter, limit: 50).items.count }
        }
        print(String(format: "two-label page, limit 50, %@: %d items, %.3f ms wall / %.3f ms CPU per page", name, count,
                     elapsed * 1000 / Double(rounds), cpu * 1000 / Double(rounds)))
    }
    func submit(_ name: String) -> Command {
        .submitJob(SubmitJob(jobID: JobID(name), spec: JobSpec(name: name, task: .noop, labels: [KeyValue("team", "t1")]),
                             runID: RunID("\(name)-run")))
    }
    func applyTimes(_ prefix: String, _ n: Int) -> [Double] {
        (0..<n).map { k in
            events.removeAll(keepingCapacity: true)
            return measure { state.apply(submit("\(prefix)-\(k)"), at: start, into: &events) }.1
        }
    }
    func percentile(_ xs: [Double], _ p: Double) -> Double {
        let sorted = xs.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
    let plain = applyTimes("plain", 2_000)
    let before = memoryMiB()
    let view = state  // what a reader holding an isolated view holds
    let (_, firstElapsed, _) = measure { state.apply(submit("viewed-first"), at: start, into: &events) }
    let viewed = applyTimes("viewed", 2_000)
    let during = memoryMiB()
    print(String(format: "apply submit without a view: p50 %.1f µs, p99 %.1f µs", percentile(plain, 0.5) * 1e6, percentile(plain, 0.99) * 1e6))
    print(String(format: "apply while a reader holds a view: first apply %.3f ms (duplicates the chunks and index paths it touches), then p50 %.1f µs, p99 %.1f µs",
                 firstElapsed * 1000, percentile(viewed, 0.5) * 1e6, percentile(viewed, 0.99) * 1e6))
    print(String(format: "RSS with the view held: %.0f MiB (before %.0f MiB, +%.0f MiB = +%.0f %%)", during.rss, before.rss,
                 during.rss - before.rss, (during.rss - before.rss) / max(1, before.rss) * 100))
    precondition(view.jobCount == state.jobCount - 2_001, "the view changed under later applies")
    // Readers looping (scripts/bench-reads.sh): a fresh view is taken before every apply, so each
    // apply is a first apply after a view — the steady-state cost of views on the apply path.
    var fresh: [Double] = []
    var freshCPU: [Double] = []
    for k in 0..<2_000 {
        events.removeAll(keepingCapacity: true)
        let reader = state
        let (_, wall, cpu) = measure { state.apply(submit("fresh-\(k)"), at: start, into: &events) }
        fresh.append(wall)
        freshCPU.append(cpu)
        precondition(reader.jobCount == state.jobCount - 1, "the view changed under the apply")
    }
    print(String(format: "apply with a fresh view taken before each one: wall p50 %.1f µs, p99 %.1f µs, max %.1f µs; CPU p50 %.1f µs, p99 %.1f µs",
                 percentile(fresh, 0.5) * 1e6, percentile(fresh, 0.99) * 1e6, (fresh.max() ?? 0) * 1e6,
                 percentile(freshCPU, 0.5) * 1e6, percentile(freshCPU, 0.99) * 1e6))
}

// 7. Notifications (issue #17): the leader's round and the derivation on apply, with N pending.
let notificationPending = argument("--notification-pending", default: -1)
if notificationPending >= 0 {
    var state = SchedulerState()
    var events: [SchedulerEvent] = []
    var index: UInt64 = 0
    var clock = start
    func apply(_ command: Command) {
        events.removeAll(keepingCapacity: true)
        index += 1
        clock = clock.adding(milliseconds: 1)
        state.apply(command, at: clock, index: index, into: &events)
    }
    let rule = NotificationRule(on: [.dead], webhook: "https://hooks.example.com/q")
    apply(.notificationSettings(NotificationSettings(maxPending: max(1, notificationPending + 10_000))))
    /// Submits, assigns and fails once job `i` (its one attempt): one `dead` notification.
    func deadJob(_ i: Int) -> [Command] {
        let job = JobID("job-\(i)"), run = RunID("run-\(i)")
        return [
            .submitJob(SubmitJob(jobID: job, spec: JobSpec(name: "job-\(i)", task: .noop, retry: RetryPolicy(maxAttempts: 1, jitter: false),
                                                          notify: [rule]), runID: run)),
            .assignAttempt(AssignAttempt(runID: run, executor: "n1", attempt: 1, deadline: clock.adding(milliseconds: 3_600_000))),
            .finishAttempt(FinishAttempt(runID: run, attempt: 1, report: AttemptReport(outcome: .failed, exitCode: 1, outputTail: "", error: "exit 1"))),
        ]
    }
    for i in 0..<notificationPending { deadJob(i).forEach(apply) }
    precondition(state.notifications.pending.count == notificationPending, "expected \(notificationPending) pending")
    func percentile(_ xs: [Double], _ p: Double) -> Double {
        let sorted = xs.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
    // A round: the due ones (as NotificationDuty asks: 32), the next due time, then the outcome
    // entry for them (each retried 10 s later, so the pending count stays the same).
    var roundCPU: [Double] = []
    var outcomeCPU: [Double] = []
    for _ in 0..<200 {
        let ((due, _), _, cpu) = measure { (state.notifications.due(at: clock, limit: 32), state.notifications.nextDueAt) }
        roundCPU.append(cpu)
        let outcomes = due.map { NotificationOutcome.retry($0.key, tries: $0.tries + 1, nextAttemptAt: clock.adding(milliseconds: 10_000), error: "HTTP 503") }
        outcomeCPU.append(measure { apply(.notificationOutcomes(outcomes)) }.2)
    }
    // Derivation: the finish entry of a job that dies, deriving one notification.
    var deriveCPU: [Double] = []
    for k in 0..<500 {
        let commands = deadJob(notificationPending + k)
        commands.dropLast().forEach(apply)
        deriveCPU.append(measure { apply(commands[commands.count - 1]) }.2)
    }
    print(String(format: "%d pending notifications: round (due 32 + next due) CPU p50 %.1f µs, p99 %.1f µs; outcome entry (32 retries) p50 %.1f µs, p99 %.1f µs; "
                 + "deriving one on apply (the finish entry) p50 %.1f µs, p99 %.1f µs",
                 notificationPending, percentile(roundCPU, 0.5) * 1e6, percentile(roundCPU, 0.99) * 1e6,
                 percentile(outcomeCPU, 0.5) * 1e6, percentile(outcomeCPU, 0.99) * 1e6,
                 percentile(deriveCPU, 0.5) * 1e6, percentile(deriveCPU, 0.99) * 1e6))
}
