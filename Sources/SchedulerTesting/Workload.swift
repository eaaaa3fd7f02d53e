import DeterministicRandom
import SchedulerCore

public struct SchedulerWorkload: Sendable {
    /// The generator.
    public var random: SplitMix64
    /// The proposer's clock.
    public var clock: Timestamp
    private var counter = 0
    private var recentJobs: [JobID] = []
    private var recentCron: [JobID] = []
    private var recentDAGs: [DAGRunID] = []
    /// Whether generated retry policies carry lost caps (command format 4). Off by default, so a
    /// seed generates the same commands it did before format 4 (the replay digests stay valid).
    public var lostAttemptCaps = false
    /// Whether the stream also edits jobs (sometimes against a stale version) and sends keyed
    /// triggers and requeues (command format 6). Off by default, for the same reason.
    public var jobEdits = false

    private static func remember<T>(_ id: T, in list: inout [T]) {
        list.append(id)
        if list.count > 40 { list.removeFirst() }
    }

    /// A workload for `seed`, starting at `start`; `lostAttemptCaps` makes most retry policies
    /// carry a `max_lost_attempts` of 0…3 (the rest keep the old rule).
    public init(seed: UInt64, start: Timestamp = Timestamp(1_700_000_000_000), lostAttemptCaps: Bool = false) {
        random = SplitMix64(seed: seed)
        clock = start
        self.lostAttemptCaps = lostAttemptCaps
    }

    private mutating func freshID(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    /// The next command and its stamp.
    public mutating func next(for state: SchedulerState) -> StampedCommand {
        clock = clock.adding(milliseconds: Int64(random.below(3_000)))
        let stampedAt = random.chance(3) ? clock.adding(milliseconds: -Int64(random.below(10_000))) : clock
        let command: Command = random.chance(8) ? .batch((0..<(1 + random.below(4))).map { _ in pick(state) }) : pick(state)
        return StampedCommand(at: stampedAt, command: command)
    }

    private mutating func retry() -> RetryPolicy {
        var policy = RetryPolicy(maxAttempts: 1 + random.below(3), initialBackoffMs: Int64(random.below(3_000)),
                                 multiplier: 1.5, maxBackoffMs: 20_000, jitter: random.chance(50))
        // Drawn only in this mode: an old-mode seed's random sequence is untouched.
        if lostAttemptCaps, random.chance(80) { policy.maxLostAttempts = random.below(4) }
        return policy
    }

    private mutating func dagSpec() -> DAGSpec? {
        let n = 1 + random.below(5)
        var tasks: [DAGTaskSpec] = []
        for i in 0..<n {
            var deps: [String] = []
            for j in 0..<i where random.chance(40) { deps.append("t\(j)") }
            tasks.append(DAGTaskSpec(id: "t\(i)", dependsOn: deps, retry: retry(), timeoutMs: 30_000))
        }
        return try? DAGSpec.validated(name: "dag", tasks: tasks, priority: random.below(3))
    }

    private mutating func pick(_ state: SchedulerState) -> Command {
        // Drawn only in this mode: an old-mode seed's random sequence is untouched.
        if jobEdits, random.chance(10) { return editOrKeyed(state) }
        let roll = random.below(100)
        switch roll {
        case 0..<14:
            let id = freshID("j")
            let runAt: Timestamp? = random.chance(50) ? nil : clock.adding(milliseconds: Int64(random.below(20_000)))
            let spec = JobSpec(name: id, runAt: runAt, priority: random.below(4), retry: retry(), timeoutMs: 30_000,
                               labels: random.chance(30) ? [KeyValue("team", "t\(random.below(3))")] : [],
                               retentionMs: Int64(random.below(200_000)))
            Self.remember(JobID(id), in: &recentJobs)
            let idem = random.chance(20) ? IdempotencyStamp(key: "k\(random.below(20))", bodyDigest: UInt64(random.below(2))) : nil
            return .submitJob(SubmitJob(jobID: JobID(id), spec: spec, runID: RunID("r" + id), idempotency: idem))
        case 14..<18:
            let id = freshID("c")
            Self.remember(JobID(id), in: &recentJobs)
            Self.remember(JobID(id), in: &recentCron)
            let dag = random.chance(30) ? dagSpec() : nil
            let spec = JobSpec(name: id, schedule: CronSchedule(expression: "*/1 * * * *"), dag: dag, retry: retry(),
                               timeoutMs: 30_000,
                               concurrency: ConcurrencyPolicy.allCases[random.below(3)],
                               misfire: MisfirePolicy.allCases[random.below(2)],
                               startingDeadlineMs: Int64(random.below(60_000)), retentionMs: 100_000)
            return .submitJob(SubmitJob(jobID: JobID(id), spec: spec, runID: "unused",
                                        firstFireAt: clock.adding(milliseconds: Int64(random.below(60_000)))))
        case 18..<22:
            guard let spec = dagSpec() else { return .tick }
            let id = DAGRunID(freshID("d"))
            Self.remember(id, in: &recentDAGs)
            return .submitDAG(SubmitDAG(dagRunID: id, spec: spec, retentionMs: Int64(random.below(200_000))))
        case 22..<30:
            let due = state.cronFiresDue(atOrBefore: clock)
            guard !due.isEmpty else { return .tick }
            let fire = due[random.below(due.count)]
            // Sometimes late, sometimes a duplicate of an old fire.
            let scheduled = random.chance(10) ? fire.fireAt.adding(milliseconds: -60_000) : fire.fireAt
            let next = Timestamp(max(clock.milliseconds, fire.fireAt.milliseconds) / 60_000 * 60_000 + 60_000)
            return .fireCron(FireCron(jobID: fire.jobID, scheduledAt: scheduled, nextFireAt: next,
                                      runID: RunID(freshID("f")), missedBefore: random.below(2)))
        case 30..<52:
            let ready = state.runsToAssign(limit: 4)
            guard !ready.isEmpty else { return .tick }
            let run = ready[random.below(ready.count)]
            let attempt = random.chance(3) ? run.nextAttempt + 1 : run.nextAttempt
            return .assignAttempt(AssignAttempt(runID: run.runID, executor: ExecutorID("n\(1 + random.below(3))"),
                                                attempt: attempt, deadline: clock.adding(milliseconds: run.timeoutMs)))
        case 52..<74:
            let running = state.attemptsPastDeadline(at: Timestamp(Int64.max))
            guard !running.isEmpty else { return .tick }
            let a = running[random.below(running.count)]
            let attempt = random.chance(5) ? max(1, a.attempt - 1) : a.attempt
            let outcome: AttemptReport = switch random.below(10) {
            case 0..<6: .success
            case 6..<9: AttemptReport(outcome: .failed, exitCode: Int32(1 + random.below(3)), outputTail: "x", error: "boom")
            default: AttemptReport(outcome: .timedOut, error: "slow")
            }
            return .finishAttempt(FinishAttempt(runID: a.runID, attempt: attempt, report: outcome))
        case 74..<78:
            let past = state.attemptsPastDeadline(at: clock)
            let running = past.isEmpty ? state.attemptsPastDeadline(at: Timestamp(Int64.max)) : past
            guard !running.isEmpty else { return .tick }
            let a = running[random.below(running.count)]
            return .expireAttempt(ExpireAttempt(runID: a.runID, attempt: a.attempt,
                                                reason: past.isEmpty ? .executorLost : .deadlinePassed))
        case 78..<82:
            guard !recentJobs.isEmpty else { return .tick }
            return .cancelJob(recentJobs[random.below(recentJobs.count)])
        case 82..<84:
            guard !recentDAGs.isEmpty else { return .tick }
            return .cancelDAG(recentDAGs[random.below(recentDAGs.count)])
        case 84..<88:
            guard !recentCron.isEmpty else { return .tick }
            let job = recentCron[random.below(recentCron.count)]
            switch random.below(3) {
            case 0: return .pause(job)
            case 1: return .resume(job)
            default: return .trigger(TriggerJob(jobID: job, runID: RunID(freshID("t"))))
            }
        case 88..<94:
            let dlq = state.listDLQ(limit: 10).items
            guard !dlq.isEmpty else { return .tick }
            let entry = dlq[random.below(dlq.count)]
            return random.chance(70) ? .requeue(entry.runID) : .purge(entry.runID)
        case 94..<96:
            return .finishAttempt(FinishAttempt(runID: RunID("nope"), attempt: 1, report: .success))
        default:
            clock = clock.adding(milliseconds: Int64(random.below(120_000)))
            return .tick
        }
    }

    /// A job edit (a new priority, timeout, task or labels; for a cron job sometimes a new next
    /// fire; sometimes at a stale version) or a trigger/requeue under a key from a small pool.
    private mutating func editOrKeyed(_ state: SchedulerState) -> Command {
        let key = IdempotencyStamp(key: "e\(random.below(10))", bodyDigest: UInt64(random.below(2)))
        switch random.below(4) {
        case 0:
            guard !recentCron.isEmpty else { return .tick }
            return .idempotent(key, .trigger(TriggerJob(jobID: recentCron[random.below(recentCron.count)], runID: RunID(freshID("t")))))
        case 1:
            let dlq = state.listDLQ(limit: 10).items
            guard !dlq.isEmpty else { return .tick }
            return .idempotent(key, .requeue(dlq[random.below(dlq.count)].runID))
        default:
            guard !recentJobs.isEmpty, let job = state.job(recentJobs[random.below(recentJobs.count)]) else { return .tick }
            let old = job.spec
            let task: TaskSpec = random.chance(50) ? old.task : .sleep(milliseconds: Int64(random.below(100)))
            let spec = JobSpec(name: old.name, schedule: old.schedule, runAt: old.runAt, priority: random.below(4), task: task,
                               dag: old.dag, retry: random.chance(50) ? old.retry : retry(), timeoutMs: 10_000 + Int64(random.below(30_000)),
                               concurrency: old.concurrency, misfire: old.misfire, startingDeadlineMs: old.startingDeadlineMs,
                               labels: random.chance(30) ? [KeyValue("team", "t\(random.below(3))")] : old.labels,
                               retentionMs: old.retentionMs, historyLimit: old.historyLimit, notify: old.notify)
            let next: Timestamp? = old.kind == .cron && random.chance(50)
                ? Timestamp(max(clock.milliseconds, job.lastFireScheduledAt?.milliseconds ?? 0) / 60_000 * 60_000 + 60_000) : nil
            let version = random.chance(15) ? max(1, job.version - 1) : job.version
            return .editJob(EditJob(jobID: job.id, spec: spec, expectedVersion: version, nextFireAt: next))
        }
    }

    /// Applies `count` generated commands to a fresh state (through the binary codec, as a
    /// replica would) and returns the state.
    public static func replay(seed: UInt64, count: Int, lostAttemptCaps: Bool = false) -> SchedulerState {
        var state = SchedulerState()
        var workload = SchedulerWorkload(seed: seed, lostAttemptCaps: lostAttemptCaps)
        for _ in 0..<count {
            let stamped = workload.next(for: state)
            let bytes = CommandCodec.encode(stamped)
            do {
                _ = state.apply(try CommandCodec.decode(bytes))
            } catch {
                preconditionFailure("a generated command failed to round-trip through the codec: \(error) \(stamped)")
            }
        }
        return state
    }
}
