import BinaryCoding
import SchedulerCore
import SchedulerTesting
import Testing

/// `editJob` and idempotent trigger/requeue (command format 6) in the state machine.
@Suite("Job edits and idempotent triggers")
struct JobEditTests {
    static func edited(_ spec: JobSpec, priority: Int? = nil, schedule: CronSchedule? = nil,
                       task: TaskSpec? = nil) -> JobSpec {
        JobSpec(name: spec.name, schedule: schedule ?? spec.schedule, runAt: spec.runAt, priority: priority ?? spec.priority,
                task: task ?? spec.task, dag: spec.dag, retry: spec.retry, timeoutMs: spec.timeoutMs,
                concurrency: spec.concurrency, misfire: spec.misfire, startingDeadlineMs: spec.startingDeadlineMs,
                labels: spec.labels, retentionMs: spec.retentionMs, historyLimit: spec.historyLimit)
    }

    func rejection(_ events: [SchedulerEvent]) -> CommandRejection? {
        events.lazy.compactMap { if case .rejected(let r) = $0 { r } else { nil } }.first
    }

    @Test("an edit installs the spec, bumps the version and moves a cron job's next fire; the old fire never comes")
    func editMovesNextFire() throws {
        var h = Harness()
        let first = h.clock.adding(milliseconds: 60_000)
        h.submitCron("c", firstFireAt: first)
        let job = try #require(h.state.job(JobID("c")))
        #expect(job.version == 1)
        let later = h.clock.adding(milliseconds: 3_600_000)
        let spec = Self.edited(job.spec, priority: 7, schedule: CronSchedule(expression: "0 * * * *", timezone: "Europe/Berlin"))
        let events = h.apply(.editJob(EditJob(jobID: JobID("c"), spec: spec, expectedVersion: 1, nextFireAt: later)))
        #expect(rejection(events) == nil)
        #expect(events.contains(.jobChanged(JobID("c"))))
        let after = try #require(h.state.job(JobID("c")))
        #expect(after.version == 2)
        #expect(after.nextFireAt == later)
        #expect(after.spec.priority == 7)
        #expect(after.spec.schedule?.timezone == "Europe/Berlin")
        #expect(h.state.cronFiresDue(atOrBefore: first).isEmpty, "the old next fire is stale")
        #expect(h.state.cronFiresDue(atOrBefore: later).map(\.jobID) == [JobID("c")])
    }

    @Test("the wrong expected version is a precondition failure and changes nothing")
    func versionMismatch() throws {
        var h = Harness()
        h.submitOnce("o", runAt: h.clock.adding(milliseconds: 10_000))
        let spec = try #require(h.state.job(JobID("o"))).spec
        let stale = h.apply(.editJob(EditJob(jobID: JobID("o"), spec: Self.edited(spec, priority: 3), expectedVersion: 2)))
        #expect(rejection(stale)?.code == .preconditionFailed)
        #expect(h.state.job(JobID("o"))?.version == 1)
        #expect(h.state.job(JobID("o"))?.spec.priority == 0)
    }

    @Test("a queued once job's run takes the new priority; a finished one refuses edits (409); a missing one 404")
    func onceJobRules() throws {
        var h = Harness()
        h.submitOnce("o")
        h.submitOnce("p")
        #expect(h.state.run(RunID("r-o"))?.state == .queued)
        let spec = try #require(h.state.job(JobID("o"))).spec
        h.apply(.editJob(EditJob(jobID: JobID("o"), spec: Self.edited(spec, priority: 9), expectedVersion: 1)))
        #expect(h.state.run(RunID("r-o"))?.priority == 9)
        #expect(h.state.queuedCountByPriority == [9: 1, 0: 1])
        #expect(h.state.runsToAssign(limit: 2).map(\.runID) == [RunID("r-o"), RunID("r-p")])
        h.assign("r-o")
        h.finish("r-o")
        let done = h.apply(.editJob(EditJob(jobID: JobID("o"), spec: Self.edited(spec, priority: 1), expectedVersion: 2)))
        #expect(rejection(done)?.code == .conflict)
        let missing = h.apply(.editJob(EditJob(jobID: JobID("nope"), spec: spec, expectedVersion: 1)))
        #expect(rejection(missing)?.code == .notFound)
    }

    @Test("a running attempt keeps its task; the next attempt runs the edited one")
    func runningAttemptKeepsTask() throws {
        var h = Harness()
        h.submitOnce("o")
        h.assign("r-o")
        let spec = try #require(h.state.job(JobID("o"))).spec
        let newTask = TaskSpec.sleep(milliseconds: 5)
        h.apply(.editJob(EditJob(jobID: JobID("o"), spec: Self.edited(spec, task: newTask), expectedVersion: 1)))
        #expect(h.state.run(RunID("r-o"))?.state == .running, "the edit does not touch the running attempt")
        h.fail("r-o")
        h.advance(ms: 600_000)
        let next = try #require(h.state.runsToAssign(limit: 1).first)
        #expect(next.task == newTask)
    }

    @Test("an edit that changes the kind, or a schedule without a next fire, is invalid")
    func invalidEdits() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock.adding(milliseconds: 60_000))
        let spec = try #require(h.state.job(JobID("c"))).spec
        let noNext = h.apply(.editJob(EditJob(jobID: JobID("c"), spec: Self.edited(spec, schedule: CronSchedule(expression: "5 * * * *")),
                                              expectedVersion: 1)))
        #expect(rejection(noNext)?.code == .invalid)
        let once = JobSpec(name: "c")
        #expect(rejection(h.apply(.editJob(EditJob(jobID: JobID("c"), spec: once, expectedVersion: 1))))?.code == .invalid)
        #expect(h.state.job(JobID("c"))?.version == 1)
    }

    @Test("edits and keyed commands round-trip through the codec and need format 6")
    func codec() throws {
        let spec = JobSpec(name: "x", schedule: CronSchedule(expression: "0 * * * *", timezone: "Asia/Tokyo"), priority: 2,
                           retry: RetryPolicy(maxLostAttempts: 5))
        let commands: [Command] = [
            .editJob(EditJob(jobID: JobID("j1"), spec: spec, expectedVersion: 4, nextFireAt: Timestamp(123_456))),
            .editJob(EditJob(jobID: JobID("j1"), spec: spec, expectedVersion: 1)),
            .idempotent(IdempotencyStamp(key: "k", bodyDigest: 9), .trigger(TriggerJob(jobID: JobID("j1"), runID: RunID("r1")))),
            .idempotent(IdempotencyStamp(key: "k2", bodyDigest: 1), .requeue(RunID("r1"))),
        ]
        for command in commands {
            let bytes = CommandCodec.encode(command, at: Timestamp(77))
            #expect(try CommandCodec.decode(bytes) == StampedCommand(at: Timestamp(77), command: command))
            #expect(command.minimumFormatVersion == CommandCodec.jobEdits)
        }
        #expect(CommandCodec.jobEdits == 6 && CommandCodec.buildFormatVersion >= CommandCodec.jobEdits)
        // Below format 6 a keyed trigger loses its key; an edit has no older spelling.
        #expect(commands[2].compatible(withFormat: 5) == .trigger(TriggerJob(jobID: JobID("j1"), runID: RunID("r1"))))
        #expect(commands[0].compatible(withFormat: 5) == commands[0])
        // Tag 21 wrapping anything but a trigger or requeue is refused.
        var bad = CommandCodec.encode(.idempotent(IdempotencyStamp(key: "k", bodyDigest: 1), .tick), at: Timestamp(1))
        #expect(throws: DecodeError.self) { try CommandCodec.decode(bad) }
        bad = CommandCodec.encode(commands[0], at: Timestamp(1))
        bad.removeLast()
        #expect(throws: DecodeError.self) { try CommandCodec.decode(bad) }
    }

    @Test("a snapshot carries job versions (version 5); without edits it stays at the older version and restores version 1")
    func snapshotRoundTrip() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock.adding(milliseconds: 60_000))
        h.submitOnce("o", runAt: h.clock.adding(milliseconds: 1_000_000))
        let before = h.state.snapshot()
        #expect(before[4] < SchedulerSnapshot.version)
        #expect(try SchedulerState(snapshot: before).job(JobID("c"))?.version == 1)
        let spec = try #require(h.state.job(JobID("c"))).spec
        for version in 1...3 {
            h.apply(.editJob(EditJob(jobID: JobID("c"), spec: Self.edited(spec, priority: version), expectedVersion: version)))
        }
        let bytes = h.state.snapshot()
        #expect(bytes[4] == SchedulerSnapshot.versionWithEdits)
        let restored = try SchedulerState(snapshot: bytes)
        #expect(restored.job(JobID("c"))?.version == 4)
        #expect(restored.job(JobID("o"))?.version == 1)
        #expect(restored.snapshot() == bytes, "a restored state writes the same bytes")
    }

    @Test("the same edits applied to two replicas give identical snapshots (determinism)")
    func determinism() throws {
        func run() throws -> [UInt8] {
            var h = Harness()
            h.submitCron("c", firstFireAt: h.clock.adding(milliseconds: 60_000))
            h.submitOnce("o")
            let cron = try #require(h.state.job(JobID("c"))).spec
            let once = try #require(h.state.job(JobID("o"))).spec
            h.apply(.editJob(EditJob(jobID: JobID("c"), spec: Self.edited(cron, priority: 2), expectedVersion: 1,
                                     nextFireAt: h.clock.adding(milliseconds: 120_000))))
            h.apply(.editJob(EditJob(jobID: JobID("o"), spec: Self.edited(once, priority: 5), expectedVersion: 1)))
            h.advance(ms: 130_000)
            h.apply(.idempotent(IdempotencyStamp(key: "t", bodyDigest: 1), .trigger(TriggerJob(jobID: JobID("c"), runID: RunID("rt")))))
            return h.state.snapshot()
        }
        #expect(try run() == run())
    }

    @Test("a trigger repeated with its key starts one run and names it again; another job with the key is a conflict")
    func idempotentTrigger() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock.adding(milliseconds: 3_600_000))
        h.submitCron("d", firstFireAt: h.clock.adding(milliseconds: 3_600_000))
        let stamp = IdempotencyStamp(key: "key-1", bodyDigest: 42)
        let first = h.apply(.idempotent(stamp, .trigger(TriggerJob(jobID: JobID("c"), runID: RunID("r1")))))
        #expect(rejection(first) == nil)
        #expect(h.state.run(RunID("r1")) != nil)
        let runs = h.state.runCount
        let again = h.apply(.idempotent(stamp, .trigger(TriggerJob(jobID: JobID("c"), runID: RunID("r2")))))
        #expect(again == [.duplicateSubmit(key: "key-1", existingID: "r1")])
        #expect(h.state.runCount == runs)
        #expect(h.state.run(RunID("r2")) == nil)
        let other = h.apply(.idempotent(IdempotencyStamp(key: "key-1", bodyDigest: 43), .trigger(TriggerJob(jobID: JobID("d"), runID: RunID("r3")))))
        #expect(rejection(other)?.code == .conflict)
        // A refused trigger does not take its key.
        let refused = h.apply(.idempotent(IdempotencyStamp(key: "key-2", bodyDigest: 1), .trigger(TriggerJob(jobID: JobID("zz"), runID: RunID("r4")))))
        #expect(rejection(refused)?.code == .notFound)
        #expect(!h.state.hasIdempotencyKey("key-2"))
        // The key expires with the idempotency window.
        h.advance(ms: SchedulerConfig().idempotencyWindowMs + 1)
        #expect(!h.state.hasIdempotencyKey("key-1"))
    }

    @Test("a requeue repeated with its key requeues once")
    func idempotentRequeue() throws {
        var h = Harness()
        h.submitOnce("o", retry: RetryPolicy(maxAttempts: 1, jitter: false))
        h.assign("r-o")
        h.fail("r-o")
        #expect(h.state.run(RunID("r-o"))?.state == .dead)
        let stamp = IdempotencyStamp(key: "rq", bodyDigest: 5)
        #expect(rejection(h.apply(.idempotent(stamp, .requeue(RunID("r-o"))))) == nil)
        #expect(h.state.run(RunID("r-o"))?.state == .queued)
        h.assign("r-o")
        let again = h.apply(.idempotent(stamp, .requeue(RunID("r-o"))))
        #expect(again == [.duplicateSubmit(key: "rq", existingID: "r-o")])
        #expect(h.state.run(RunID("r-o"))?.state == .running)
    }
}

/// Edits and keyed triggers/requeues mixed into seeded random streams.
@Suite("Job edits in random streams")
struct JobEditStreamTests {
    @Test("random streams with edits: invariants hold, snapshots restore exactly and continue identically",
          arguments: [UInt64(6), 42, 2026])
    func randomWithEdits(seed: UInt64) throws {
        var state = SchedulerState()
        var workload = SchedulerWorkload(seed: seed)
        workload.jobEdits = true
        var edits = 0
        for step in 0..<1_500 {
            let stamped = workload.next(for: state)
            let decoded = try CommandCodec.decode(CommandCodec.encode(stamped))
            #expect(decoded == stamped, "seed \(seed) step \(step): codec round trip changed the command")
            let events = state.apply(decoded)
            if case .editJob = decoded.command, !events.contains(where: { if case .rejected = $0 { true } else { false } }) { edits += 1 }
            if step % 10 == 9 {
                let problems = state.invariantViolations()
                #expect(problems.isEmpty, "seed \(seed) step \(step): \(problems)")
                if !problems.isEmpty { return }
            }
        }
        #expect(edits > 10, "seed \(seed): only \(edits) edits applied; the stream does not exercise them")
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
    }
}
