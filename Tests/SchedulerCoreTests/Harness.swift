import SchedulerCore
import Testing

/// A scheduler plus a clock and shorthands, for transcript tests.
struct Harness {
    var state = SchedulerState()
    var clock = Timestamp(1_000_000)
    var lastEvents: [SchedulerEvent] = []

    init(config: SchedulerConfig = SchedulerConfig()) {
        state = SchedulerState(config: config)
    }

    @discardableResult
    mutating func apply(_ command: Command, at: Timestamp? = nil) -> [SchedulerEvent] {
        lastEvents = state.apply(command, at: at ?? clock)
        return lastEvents
    }

    mutating func advance(ms: Int64) {
        clock = clock.adding(milliseconds: ms)
        apply(.tick)
    }

    @discardableResult
    mutating func submitOnce(_ id: String, priority: Int = 0, runAt: Timestamp? = nil,
                             retry: RetryPolicy = RetryPolicy(jitter: false), labels: [KeyValue] = [],
                             retentionMs: Int64 = JobSpec.defaultRetentionMs,
                             idempotency: IdempotencyStamp? = nil) -> [SchedulerEvent] {
        let spec = JobSpec(name: id, runAt: runAt, priority: priority, retry: retry, labels: labels,
                           retentionMs: retentionMs)
        return apply(.submitJob(SubmitJob(jobID: JobID(id), spec: spec, runID: RunID("r-" + id),
                                          idempotency: idempotency)))
    }

    @discardableResult
    mutating func submitCron(_ id: String, firstFireAt: Timestamp, concurrency: ConcurrencyPolicy = .allow,
                             misfire: MisfirePolicy = .runOnce, dag: DAGSpec? = nil) -> [SchedulerEvent] {
        let spec = JobSpec(name: id, schedule: CronSchedule(expression: "* * * * *"), dag: dag,
                           retry: RetryPolicy(jitter: false), concurrency: concurrency, misfire: misfire)
        return apply(.submitJob(SubmitJob(jobID: JobID(id), spec: spec, runID: RunID("unused-" + id),
                                          firstFireAt: firstFireAt)))
    }

    @discardableResult
    mutating func assign(_ run: String, attempt: Int? = nil, executor: String = "n2",
                         timeoutMs: Int64 = 60_000) -> [SchedulerEvent] {
        let next = attempt ?? ((state.run(RunID(run))?.attempt ?? 0) + 1)
        return apply(.assignAttempt(AssignAttempt(runID: RunID(run), executor: ExecutorID(executor), attempt: next,
                                                  deadline: clock.adding(milliseconds: timeoutMs))))
    }

    @discardableResult
    mutating func finish(_ run: String, attempt: Int? = nil, _ report: AttemptReport = .success) -> [SchedulerEvent] {
        let current = attempt ?? (state.run(RunID(run))?.attempt ?? 0)
        return apply(.finishAttempt(FinishAttempt(runID: RunID(run), attempt: current, report: report)))
    }

    @discardableResult
    mutating func fail(_ run: String, exitCode: Int32 = 1) -> [SchedulerEvent] {
        finish(run, AttemptReport(outcome: .failed, exitCode: exitCode, outputTail: "boom", error: "exit \(exitCode)"))
    }

    func runState(_ run: String) -> RunState? { state.run(RunID(run))?.state }

    var rejections: [CommandRejection] {
        lastEvents.compactMap { if case .rejected(let r) = $0 { r } else { nil } }
    }
}

extension Timestamp {
    static func + (lhs: Timestamp, rhs: Int64) -> Timestamp { lhs.adding(milliseconds: rhs) }
}
