import SchedulerCore
@testable import SchedulerPlanning
import Testing

@Suite("UnstampedCommand: relative times the leader resolves with its stamp")
struct UnstampedCommandTests {
    let stamp = Timestamp(1_800_000_000_000)  // 2027-01-15T08:00:00Z

    @Test("the template carries no time of the receiving node: runAt and firstFireAt are dropped")
    func templateIsUntimed() {
        let preview = Timestamp(1_900_000_000_000)
        let submit = SubmitJob(jobID: "j", spec: JobSpec(name: "a", runAt: preview, priority: 3), runID: "r", firstFireAt: preview)
        let unstamped = UnstampedCommand.submit(submit, .afterStamp(milliseconds: 10))
        guard case .submitJob(let template) = unstamped.template else {
            Issue.record("not a submit")
            return
        }
        #expect(template.spec.runAt == nil && template.firstFireAt == nil)
        #expect(template.spec.priority == 3 && template.spec.name == "a")
    }

    @Test("downgraded for an older leader, an unstamped submit loses its lost cap but keeps its relative time")
    func downgradeKeepsTimes() throws {
        let capped = JobSpec(name: "a", retry: RetryPolicy(maxLostAttempts: 5))
        let unstamped = UnstampedCommand.submit(SubmitJob(jobID: "j", spec: capped, runID: "r"), .afterStamp(milliseconds: 1_000))
        #expect(unstamped.template.minimumFormatVersion == CommandCodec.lostAttemptCaps)
        let older = unstamped.compatible(withFormat: CommandCodec.lostAttemptCaps - 1)
        #expect(older.times == unstamped.times)
        #expect(older.template.minimumFormatVersion < CommandCodec.lostAttemptCaps)
        guard case .submitJob(let resolved) = try older.resolved(at: stamp) else {
            Issue.record("not a submit")
            return
        }
        #expect(resolved.spec.retry.maxLostAttempts == nil)
        #expect(resolved.spec.runAt == stamp.adding(milliseconds: 1_000))
        #expect(unstamped.compatible(withFormat: CommandCodec.buildFormatVersion) == unstamped)
    }

    @Test("a batch resolves each submit against the same stamp and leaves other commands alone")
    func batch() throws {
        let cron = JobSpec(name: "c", schedule: CronSchedule(expression: "0 9 * * *", timezone: "America/New_York"))
        let unstamped = UnstampedCommand.batch([
            (SubmitJob(jobID: "a", spec: JobSpec(name: "a"), runID: "ra"), .afterStamp(milliseconds: 0)),
            (SubmitJob(jobID: "b", spec: JobSpec(name: "b"), runID: "rb"), .at(Timestamp(5))),
            (SubmitJob(jobID: "c", spec: cron, runID: "u"), .firstFireAfterStamp),
        ])
        guard case .batch(let commands) = try unstamped.resolved(at: stamp), commands.count == 3,
              case .submitJob(let a) = commands[0], case .submitJob(let b) = commands[1], case .submitJob(let c) = commands[2] else {
            Issue.record("expected three submits")
            return
        }
        #expect(a.spec.runAt == stamp)
        #expect(b.spec.runAt == Timestamp(5))
        // 08:00Z is 03:00 in New York (EST): the first 09:00 there is 14:00Z the same day.
        #expect(c.firstFireAt == stamp.adding(milliseconds: 6 * 3_600_000))
        #expect(c.spec.runAt == nil)
    }

    @Test("a command without times resolves to itself; times that do not match the submits are refused")
    func passThroughAndMismatch() throws {
        #expect(try UnstampedCommand(.cancelJob("j")).resolved(at: stamp) == .cancelJob("j"))
        #expect(throws: UnstampedCommand.ResolveError.self) {
            try UnstampedCommand.received(template: .tick, times: [.afterStamp(milliseconds: 1)])
        }
        #expect(throws: UnstampedCommand.ResolveError.self) {
            try UnstampedCommand(template: .batch([.tick]), times: [.firstFireAfterStamp]).resolved(at: stamp)
        }
        #expect(throws: UnstampedCommand.ResolveError.self) {
            try UnstampedCommand(template: .submitJob(SubmitJob(jobID: "a", spec: JobSpec(name: "a"), runID: "r")),
                                 times: [.afterStamp(milliseconds: -1)]).resolved(at: stamp)
        }
    }
}

@Suite("UnstampedCommand: cluster defaults the leader stamps")
struct UnstampedDefaultsTests {
    let stamp = Timestamp(1_800_000_000_000)
    let defaults = SubmissionDefaults(retentionMs: 120_000)

    func retention(_ command: Command) -> [Int64] {
        switch command {
        case .submitJob(let submit): [submit.spec.retentionMs]
        case .submitDAG(let submit): [submit.retentionMs]
        case .batch(let commands): commands.flatMap(retention)
        default: []
        }
    }

    @Test("a submit that left retention to the cluster gets the leader's default; a given one is kept")
    func stampsRetention() throws {
        let unset = JobSpec(name: "a", retentionMs: JobSpec.clusterDefaultRetentionMs)
        let given = JobSpec(name: "b", retentionMs: 60_000)
        let job = UnstampedCommand.submit(SubmitJob(jobID: "j", spec: unset, runID: "r"), .afterStamp(milliseconds: 0))
        #expect(retention(try job.resolved(at: stamp, defaults: defaults)) == [120_000])
        #expect(retention(try job.resolved(at: stamp)) == [JobSpec.defaultRetentionMs])
        let batch = UnstampedCommand.batch([(SubmitJob(jobID: "a", spec: unset, runID: "ra"), .afterStamp(milliseconds: 0)),
                                            (SubmitJob(jobID: "b", spec: given, runID: "rb"), .afterStamp(milliseconds: 0))])
        #expect(retention(try batch.resolved(at: stamp, defaults: defaults)) == [120_000, 60_000])
        let dag = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "t")])
        let dagRun = UnstampedCommand(.submitDAG(SubmitDAG(dagRunID: "d1", spec: dag, retentionMs: JobSpec.clusterDefaultRetentionMs)))
        #expect(retention(try dagRun.resolved(at: stamp, defaults: defaults)) == [120_000])
        // What a follower sends a leader too old to stamp defaults: already stamped, times kept.
        let forwarded = job.withDefaults(defaults)
        #expect(retention(forwarded.template) == [120_000] && forwarded.times == job.times)
    }

    @Test("a history limit left to the cluster gets the leader's default; a given one is kept")
    func stampsHistoryLimit() throws {
        let defaults = SubmissionDefaults(historyLimit: 9)
        func limit(_ spec: JobSpec) throws -> Int? {
            let unstamped = UnstampedCommand.submit(SubmitJob(jobID: "j", spec: spec, runID: "r"), .afterStamp(milliseconds: 0))
            guard case .submitJob(let submit) = try unstamped.resolved(at: stamp, defaults: defaults) else { return nil }
            return submit.spec.historyLimit
        }
        #expect(try limit(JobSpec(name: "a", historyLimit: JobSpec.clusterDefaultHistoryLimit)) == 9)
        #expect(try limit(JobSpec(name: "a", historyLimit: 3)) == 3)
        #expect(try limit(JobSpec(name: "a")) == nil)
    }

    @Test("a placeholder that reached apply is refused, never applied")
    func placeholderRefusedByApply() {
        var state = SchedulerState()
        let events = state.apply(.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "a", retentionMs: JobSpec.clusterDefaultRetentionMs),
                                                      runID: "r")), at: stamp)
        #expect(events.contains { if case .rejected = $0 { true } else { false } })
        #expect(state.jobCount == 0)
    }
}
