// MetricsBenchmark: what metrics cost on the node's hot paths — the scheduler adapter per applied
// command, one HTTP request count, one histogram observation — and the time of one scrape.
//
//   MetricsBenchmark [--jobs N]
//
// Run it through scripts/bench-metrics.sh (release build). Figures go in docs/benchmarks.md.
import Foundation
import NodeMetrics
import SchedulerCore

func argument(_ name: String, default value: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let n = Int(args[i + 1]) else { return value }
    return n
}

/// CPU time of this thread, in seconds: the machine is shared, so wall time overstates cost.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` and returns its CPU seconds.
func cpuSeconds(_ body: () -> Void) -> Double {
    let start = threadCPUSeconds()
    body()
    return threadCPUSeconds() - start
}

func report(_ what: String, count: Int, cpu: Double) {
    let perOp = cpu / Double(max(1, count)) * 1e9
    print("\(what): \(count) in \(String(format: "%.3f", cpu)) s CPU = \(String(format: "%.0f", perOp)) ns each")
}

let jobs = argument("--jobs", default: 200_000)
let start = Timestamp(1_700_000_000_000)

// 1. The scheduler adapter: submit + assign + finish over 4 priorities, in waves of 1,000 jobs,
//    applied once without and once with recordApplied (the difference is the adapter's cost).
var commands: [StampedCommand] = []
commands.reserveCapacity(jobs * 3)
var t = start
for base in stride(from: 0, to: jobs, by: 1_000) {
    let ids = base..<min(base + 1_000, jobs)
    for i in ids {
        let spec = JobSpec(name: "bench", priority: i % 4)
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
var plain = SchedulerState()
let applyOnly = cpuSeconds {
    for c in commands { _ = plain.apply(c.command, at: c.at) }
}
let metrics = QuorumMetrics()
var metered = SchedulerState()
let applyAndRecord = cpuSeconds {
    for c in commands { metrics.recordApplied(metered.apply(c.command, at: c.at), state: metered) }
}
report("apply alone", count: commands.count, cpu: applyOnly)
report("apply + recordApplied", count: commands.count, cpu: applyAndRecord)
print("recordApplied adds \(String(format: "%.0f", (applyAndRecord - applyOnly) / Double(commands.count) * 1e9)) ns per command")

// 2. One HTTP request count (the middleware's work after the route ran), over 20 route/status pairs.
let routes = ["/api/jobs", "/api/jobs/{id}", "/api/job-status/{id}", "/api/dlq", "/metrics"]
let statuses = [200, 201, 404, 503]
let requests = 1_000_000
let httpCPU = cpuSeconds {
    for i in 0..<requests { metrics.httpRequest(route: routes[i % routes.count], status: statuses[i % statuses.count]) }
}
report("httpRequest(route:status:)", count: requests, cpu: httpCPU)

// 3. One histogram observation (the WAL's fsync timer does this per group commit).
let observations = 1_000_000
let fsyncCPU = cpuSeconds {
    for i in 0..<observations { metrics.observeFsync(seconds: Double(i % 1000) * 1e-6) }
}
report("observeFsync(seconds:)", count: observations, cpu: fsyncCPU)

// 4. One scrape with every family, 20 HTTP series and 10 priorities.
metrics.setQueueDepth(byPriority: Dictionary(uniqueKeysWithValues: (0..<10).map { ($0, $0 + 1) }))
var bytes = 0
let scrapes = 2_000
let scrapeCPU = cpuSeconds {
    for _ in 0..<scrapes { bytes = metrics.exposition().utf8.count }
}
report("exposition() of \(bytes) bytes", count: scrapes, cpu: scrapeCPU)
