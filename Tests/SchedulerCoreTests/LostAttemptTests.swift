import BinaryCoding
import SchedulerCore
import SchedulerTesting
import Testing

/// Issue #12, "Lost is not failed": under `retry.max_lost_attempts` an attempt lost to the
/// infrastructure (executor died, drained, cut off) is retried without spending `max_attempts`;
/// jobs from older commands (no cap in their spec) keep the old rule.
@Suite("Lost attempts")
struct LostAttemptTests {
    static func policy(maxAttempts: Int, lost: Int?) -> RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, initialBackoffMs: 10, multiplier: 1, maxBackoffMs: 10, jitter: false,
                    maxLostAttempts: lost)
    }

    /// Loses the running attempt of `run` (the leader's expiry for a dead executor).
    static func lose(_ h: inout Harness, _ run: String) {
        let attempt = h.state.run(RunID(run))?.attempt ?? 0
        h.apply(.expireAttempt(ExpireAttempt(runID: RunID(run), attempt: attempt, reason: .executorLost)))
    }

    /// Assigns the next attempt of `run` once its backoff is over.
    static func nextAttempt(_ h: inout Harness, _ run: String) {
        if h.runState(run) == .pending { h.advance(ms: 10) }
        #expect(h.runState(run) == .queued)
        h.assign(run)
    }

    @Test("a lost attempt does not spend max_attempts; attempt still counts every attempt")
    func lostDoesNotSpendTries() throws {
        var h = Harness()
        h.submitOnce("j", retry: Self.policy(maxAttempts: 2, lost: 5))
        for _ in 0..<3 {
            Self.nextAttempt(&h, "r-j")
            Self.lose(&h, "r-j")
            #expect(h.runState("r-j") == .pending)
        }
        Self.nextAttempt(&h, "r-j")
        h.fail("r-j")
        #expect(h.runState("r-j") == .pending)  // one try spent of two
        Self.nextAttempt(&h, "r-j")
        h.fail("r-j")
        let run = try #require(h.state.run("r-j"))
        #expect(run.state == .dead)
        #expect(run.attempt == 5)  // the fencing token grew on every attempt
        #expect(run.tries == 2)
        #expect(run.lostAttempts == 3)
        #expect(run.lastError == "exit 1")
    }

    @Test("after max_lost_attempts lost attempts the run is dead with an error naming the setting")
    func lostCap() throws {
        var h = Harness()
        h.submitOnce("j", retry: Self.policy(maxAttempts: 3, lost: 2))
        Self.nextAttempt(&h, "r-j")
        Self.lose(&h, "r-j")
        #expect(h.runState("r-j") == .pending)
        Self.nextAttempt(&h, "r-j")
        Self.lose(&h, "r-j")
        let run = try #require(h.state.run("r-j"))
        #expect(run.state == .dead)
        #expect(run.tries == 0)
        #expect(run.lostAttempts == 2)
        let error = try #require(run.lastError)
        #expect(error.hasPrefix("lost 2 times (node died, drained or cut off); see retry.max_lost_attempts"))
        #expect(error.contains("executor n2 was lost during attempt 2"))
        #expect(h.state.listDLQ(limit: 10).items.map(\.runID) == ["r-j"])

        var zero = Harness()
        zero.submitOnce("z", retry: Self.policy(maxAttempts: 3, lost: 0))
        Self.nextAttempt(&zero, "r-z")
        Self.lose(&zero, "r-z")
        #expect(zero.runState("r-z") == .dead)  // 0: no lost attempt is tolerated
    }

    @Test("without a cap (a job from an older command) a lost attempt is a try, as before format 4")
    func nilIsTheOldRule() throws {
        var h = Harness()
        h.submitOnce("j", retry: Self.policy(maxAttempts: 2, lost: nil))
        Self.nextAttempt(&h, "r-j")
        Self.lose(&h, "r-j")
        #expect(h.runState("r-j") == .pending)
        Self.nextAttempt(&h, "r-j")
        Self.lose(&h, "r-j")
        let run = try #require(h.state.run("r-j"))
        #expect(run.state == .dead)
        #expect(run.lostAttempts == 0)
        #expect(run.tries == 2)
        #expect(run.lastError == "executor n2 was lost during attempt 2")
    }

    @Test("requeue from the DLQ starts a fresh budget of tries and lost attempts")
    func requeueResets() throws {
        var h = Harness()
        h.submitOnce("j", retry: Self.policy(maxAttempts: 1, lost: 1))
        Self.nextAttempt(&h, "r-j")
        Self.lose(&h, "r-j")
        #expect(h.runState("r-j") == .dead)
        h.apply(.requeue("r-j"))
        #expect(h.state.run("r-j")?.lostAttempts == 0)
        #expect(h.state.run("r-j")?.tries == 0)
        Self.nextAttempt(&h, "r-j")
        #expect(h.state.run("r-j")?.attempt == 2)
        #expect(h.state.run("r-j")?.tries == 1)
        h.finish("r-j")
        #expect(h.runState("r-j") == .succeeded)
    }

    @Test("DAG tasks and a cron job's runs follow their own spec's cap")
    func dagAndCron() throws {
        var h = Harness()
        let dag = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a", retry: Self.policy(maxAttempts: 1, lost: 3))])
        h.apply(.submitDAG(SubmitDAG(dagRunID: "d1", spec: dag)))
        Self.nextAttempt(&h, "d1.a")
        Self.lose(&h, "d1.a")
        #expect(h.runState("d1.a") == .pending)
        #expect(h.state.run("d1.a")?.lostAttempts == 1)

        let cron = JobSpec(name: "c", schedule: CronSchedule(expression: "* * * * *"), retry: Self.policy(maxAttempts: 1, lost: 3))
        h.apply(.submitJob(SubmitJob(jobID: "c", spec: cron, runID: "unused", firstFireAt: h.clock)))
        h.apply(.fireCron(FireCron(jobID: "c", scheduledAt: h.clock, nextFireAt: nil, runID: "c1")))
        Self.nextAttempt(&h, "c1")
        Self.lose(&h, "c1")
        #expect(h.runState("c1") == .pending)
        Self.nextAttempt(&h, "c1")
        h.fail("c1")
        #expect(h.runState("c1") == .dead)  // its one try
        #expect(h.state.run("c1")?.lostAttempts == 1)
    }
}

@Suite("Lost caps in the codec, the format gate and snapshots")
struct LostAttemptFormatTests {
    static func capped() throws -> (job: Command, dag: Command) {
        let dag = try DAGSpec.validated(name: "d", tasks: [
            DAGTaskSpec(id: "a", retry: RetryPolicy(maxLostAttempts: 4)), DAGTaskSpec(id: "b", dependsOn: ["a"]),
        ])
        let spec = JobSpec(name: "j", retry: RetryPolicy(maxAttempts: 2, maxLostAttempts: 7))
        return (.submitJob(SubmitJob(jobID: "j", spec: spec, runID: "r")), .submitDAG(SubmitDAG(dagRunID: "d1", spec: dag)))
    }

    /// The bytes after the version byte and the one-byte timestamp varint of 0.
    static func body(_ command: Command) -> [UInt8] { Array(CommandCodec.encode(command, at: .zero).dropFirst(2)) }

    @Test("a submit with a cap is tag 19 around its old tag and round-trips; one without keeps its old bytes")
    func codec() throws {
        let (job, dag) = try Self.capped()
        #expect(Self.body(job).prefix(2) == [19, 1])
        #expect(Self.body(dag).prefix(2) == [19, 16])
        for command in [job, dag, .batch([job, .tick, dag])] {
            #expect(try CommandCodec.decode(CommandCodec.encode(command, at: Timestamp(9))).command == command)
        }
        let old = Command.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j"), runID: "r"))
        #expect(Self.body(old).first == 1)
        // Without the cap the capped submit is byte for byte what an older build wrote.
        let uncapped = Command.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", retry: RetryPolicy(maxAttempts: 2)), runID: "r"))
        #expect(Self.body(job.compatible(withFormat: 3)) == Self.body(uncapped))
        #expect(throws: DecodeError.self) { try CommandCodec.decode([1, 0, 19, 14]) }  // 19 wraps only submits
        #expect(throws: DecodeError.self) { try CommandCodec.decode([1, 0, 19, 19] + Self.body(job).dropFirst()) }
        #expect(throws: DecodeError.self) { try CommandCodec.decode([1, 0] + Self.body(job).dropLast()) }
    }

    @Test("a capped submit needs format 4; the leader strips the cap for format 3 and the task ids too for 2")
    func formatGate() throws {
        let (job, dag) = try Self.capped()
        #expect(CommandCodec.buildFormatVersion >= CommandCodec.lostAttemptCaps)
        #expect(job.minimumFormatVersion == CommandCodec.lostAttemptCaps)
        #expect(dag.minimumFormatVersion == CommandCodec.lostAttemptCaps)
        #expect(Command.batch([.tick, job]).minimumFormatVersion == CommandCodec.lostAttemptCaps)
        #expect(job.compatible(withFormat: 4) == job)

        guard case .submitJob(let stripped) = job.compatible(withFormat: 3),
              case .submitDAG(let strippedDAG) = dag.compatible(withFormat: 3),
              case .submitDAG(let legacyDAG) = dag.compatible(withFormat: 2) else {
            Issue.record("compatible(withFormat:) changed the command kind")
            return
        }
        #expect(stripped.spec.retry == RetryPolicy(maxAttempts: 2))
        #expect(strippedDAG.spec.tasks.allSatisfy { $0.retry.maxLostAttempts == nil })
        #expect(strippedDAG.spec.dependencies == [[], [0]])
        #expect(strippedDAG.taskRunIDStyle == .dot)
        #expect(Command.submitDAG(strippedDAG).minimumFormatVersion == CommandCodec.urlSafeTaskRunIDs)
        #expect(legacyDAG.taskRunIDStyle == .slash)
        #expect(Command.submitDAG(legacyDAG).minimumFormatVersion == CommandCodec.baselineFormatVersion)
        #expect(Command.batch([job, dag]).compatible(withFormat: 3).minimumFormatVersion == CommandCodec.urlSafeTaskRunIDs)
        // A cron job's DAG tasks lose their caps too.
        let cronDAG = JobSpec(name: "c", schedule: CronSchedule(expression: "* * * * *"),
                              dag: try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a", retry: RetryPolicy(maxLostAttempts: 1))]))
        let cron = Command.submitJob(SubmitJob(jobID: "c", spec: cronDAG, runID: "u", firstFireAt: .zero))
        #expect(cron.minimumFormatVersion == CommandCodec.lostAttemptCaps)
        #expect(cron.compatible(withFormat: 3).minimumFormatVersion == CommandCodec.baselineFormatVersion)
    }

    @Test("a state without caps is still written as snapshot version 2; with caps as 3, lost counts included")
    func snapshots() throws {
        let old = SchedulerWorkload.replay(seed: 3, count: 400)
        let oldBytes = old.snapshot()
        #expect(oldBytes[4] == 2)
        #expect(try SchedulerState(snapshot: oldBytes).snapshot() == oldBytes)

        var h = Harness()
        h.submitOnce("j", retry: LostAttemptTests.policy(maxAttempts: 2, lost: 5))
        LostAttemptTests.nextAttempt(&h, "r-j")
        LostAttemptTests.lose(&h, "r-j")
        let bytes = h.state.snapshot()
        #expect(bytes[4] == 3)  // lost caps, no history limit: version 3
        let restored = try SchedulerState(snapshot: bytes)
        #expect(restored.run("r-j")?.lostAttempts == 1)
        #expect(restored.job("j")?.spec.retry.maxLostAttempts == 5)
        #expect(restored.snapshot() == bytes)
    }

    @Test("an old-format command stream replays to the same digests as the build before format 4")
    func oldStreamsKeepTheirDigests() {
        // Printed by `scheduler-replay 7 1500` and `scheduler-replay 42 3000` on main before this change.
        #expect(SchedulerSnapshot.digest(SchedulerWorkload.replay(seed: 7, count: 1_500).snapshot()) == 0xf20e_9bba_da33_c657)
        #expect(SchedulerSnapshot.digest(SchedulerWorkload.replay(seed: 42, count: 3_000).snapshot()) == 0x6184_b0cd_63dd_91b5)
    }

    @Test("random streams with caps: invariants hold, snapshots restore exactly and continue identically",
          arguments: [UInt64(5), 17, 2026])
    func randomWithCaps(seed: UInt64) throws {
        var state = SchedulerState()
        var workload = SchedulerWorkload(seed: seed, lostAttemptCaps: true)
        var sawLost = false
        for step in 0..<1_200 {
            let stamped = workload.next(for: state)
            let decoded = try CommandCodec.decode(CommandCodec.encode(stamped))
            #expect(decoded == stamped, "seed \(seed) step \(step): codec round trip changed the command")
            _ = state.apply(decoded)
            if step % 10 == 9 {
                let problems = state.invariantViolations()
                #expect(problems.isEmpty, "seed \(seed) step \(step): \(problems)")
                if !problems.isEmpty { return }
            }
            sawLost = sawLost || state.listDLQ(limit: 1_000).items.contains { $0.error.hasPrefix("lost ") }
        }
        let bytes = state.snapshot()
        var restored = try SchedulerState(snapshot: bytes)
        #expect(restored.snapshot() == bytes, "seed \(seed): restore changed the snapshot")
        var w2 = workload
        for _ in 0..<300 {
            let a = workload.next(for: state)
            let b = w2.next(for: restored)
            #expect(state.apply(a) == restored.apply(b), "seed \(seed): continuing from a snapshot diverged")
        }
        #expect(state.snapshot() == restored.snapshot(), "seed \(seed)")
        #expect(sawLost, "seed \(seed): no run died of lost attempts; the stream does not exercise the cap")
    }
}
