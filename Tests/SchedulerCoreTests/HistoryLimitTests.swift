import BinaryCoding
import SchedulerCore
import Testing

/// `history_limit`: how many finished runs a job keeps (issue #12).
@Suite("History limit")
struct HistoryLimitTests {
    static func cronDAGJob(limit: Int?) throws -> JobSpec {
        let dag = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a", retry: RetryPolicy(maxAttempts: 1, jitter: false))])
        return JobSpec(name: "c", schedule: CronSchedule(expression: "* * * * *"), dag: dag,
                       retry: RetryPolicy(jitter: false), historyLimit: limit)
    }

    /// Fires DAG run `id` of job `c` and runs its one task to `success` (else it goes dead).
    static func fireAndFinish(_ h: inout Harness, _ id: String, success: Bool = true) {
        h.clock = h.clock + 60_000
        h.apply(.trigger(TriggerJob(jobID: "c", runID: RunID(id))))
        h.assign(id + ".a")
        if success { h.finish(id + ".a") } else { h.fail(id + ".a") }
    }

    @Test("a scheduled DAG keeps its newest history_limit finished DAG runs; DLQ'd and running ones are kept and not counted")
    func dagRunsCapped() throws {
        var h = Harness()
        h.apply(.submitJob(SubmitJob(jobID: "c", spec: try Self.cronDAGJob(limit: 2), runID: "unused",
                                     firstFireAt: h.clock + 86_400_000)))
        Self.fireAndFinish(&h, "r1")
        Self.fireAndFinish(&h, "r2", success: false)  // dead: in the DLQ
        Self.fireAndFinish(&h, "r3")
        #expect(h.state.dagCount == 3)  // r2 does not count: r1 and r3 are the two kept
        Self.fireAndFinish(&h, "r4")
        #expect(h.lastEvents.contains(.removed(id: "r1", isDAG: true)))
        #expect(h.state.dagRun("r1") == nil && h.state.run("r1.a") == nil)
        #expect(h.state.dagRun("r2") != nil && h.state.dagRun("r3") != nil && h.state.dagRun("r4") != nil)
        h.clock = h.clock + 60_000
        h.apply(.trigger(TriggerJob(jobID: "c", runID: "r5")))  // running: not counted
        // A replica restored from a snapshot now decides the same from here on.
        var replica = try SchedulerState(snapshot: h.state.snapshot())
        h.assign("r5.a")
        h.finish("r5.a")
        #expect(h.state.dagRun("r3") == nil && h.state.dagRun("r4") != nil && h.state.dagRun("r5") != nil)
        // Purging r2's dead task makes r2 a finished DAG run: now the oldest, it goes.
        h.apply(.purge("r2.a"))
        #expect(h.state.dagRun("r2") == nil)
        #expect(h.state.dagCount == 2)
        // The replica applies the same tail of the log.
        for command in [Command.assignAttempt(AssignAttempt(runID: "r5.a", executor: "n2", attempt: 1, deadline: h.clock + 60_000)),
                        .finishAttempt(FinishAttempt(runID: "r5.a", attempt: 1, report: .success)), .purge("r2.a")] {
            _ = replica.apply(command, at: h.clock)
        }
        #expect(SchedulerSnapshot.digest(replica.snapshot()) == SchedulerSnapshot.digest(h.state.snapshot()))
    }

    @Test("without a limit (a job from before format 5) DAG runs stay for their retention")
    func legacyKeepsDAGRuns() throws {
        var h = Harness()
        h.apply(.submitJob(SubmitJob(jobID: "c", spec: try Self.cronDAGJob(limit: nil), runID: "unused",
                                     firstFireAt: h.clock + 86_400_000)))
        for n in 1...5 { Self.fireAndFinish(&h, "r\(n)") }
        #expect(h.state.dagCount == 5)
    }

    @Test("a job's attempt history keeps history_limit attempts, the running one included")
    func attemptHistory() {
        var h = Harness()
        let spec = JobSpec(name: "j", retry: RetryPolicy(maxAttempts: 10, initialBackoffMs: 0, jitter: false), historyLimit: 3)
        h.apply(.submitJob(SubmitJob(jobID: "j", spec: spec, runID: "r")))
        for _ in 0..<5 {
            h.assign("r")
            h.fail("r")
            h.apply(.tick)
        }
        h.assign("r")
        let attempts = h.state.attempts(ofJob: "j")
        #expect(attempts.map(\.attempt) == [6, 5, 4])
    }

    @Test("out of 1…1000 (or the leader's placeholder) is refused at apply", arguments: [0, -1, 1_001])
    func refused(_ limit: Int) {
        var h = Harness()
        h.apply(.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", historyLimit: limit), runID: "r")))
        #expect(h.rejections.first?.message.contains("history_limit") == true)
        #expect(h.state.jobCount == 0)
    }

    @Test("a submit with a limit needs format 5 (tag 20), round-trips, and loses the limit for older members")
    func format() throws {
        let job = Command.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", retry: RetryPolicy(maxLostAttempts: 5), historyLimit: 7),
                                              runID: "r"))
        #expect(job.minimumFormatVersion == CommandCodec.historyLimits)
        #expect(Command.batch([.tick, job]).minimumFormatVersion == CommandCodec.historyLimits)
        let bytes = CommandCodec.encode(job, at: Timestamp(5))
        #expect(try CommandCodec.decode(bytes).command == job)
        let older = job.compatible(withFormat: CommandCodec.historyLimits - 1)
        guard case .submitJob(let stripped) = older else {
            Issue.record("not a submit")
            return
        }
        #expect(stripped.spec.historyLimit == nil)
        #expect(stripped.spec.retry.maxLostAttempts == 5)  // format 4 keeps the lost cap
        #expect(older.minimumFormatVersion == CommandCodec.lostAttemptCaps)
        #expect(job.compatible(withFormat: CommandCodec.historyLimits) == job)
        // A tag 20 around anything but a job submit is malformed.
        var bad = CommandCodec.encode(.tick, at: Timestamp(5))
        bad.insert(20, at: bad.count - 1)
        #expect(throws: DecodeError.self) { try CommandCodec.decode(bad) }
    }

    @Test("a state with a history limit snapshots as version 4 and restores it")
    func snapshot() throws {
        var state = SchedulerState()
        _ = state.apply(.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", historyLimit: 7), runID: "r")), at: Timestamp(5))
        let bytes = state.snapshot()
        #expect(bytes[4] == 4)  // history limits, no edited job: version 4
        let restored = try SchedulerState(snapshot: bytes)
        #expect(restored.job("j")?.spec.historyLimit == 7)
        #expect(restored.snapshot() == bytes)
    }
}
