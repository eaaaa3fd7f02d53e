import SchedulerCore
import Testing

/// Each test is a problem users of another scheduler hit (see
/// shared/reference/scheduler-users.md), shown not to happen here.
@Suite("What users of other schedulers hit")
struct UserReportsTests {
    static let minute: Int64 = 60_000

    @Test("Dkron #998/#1210: a new leader (restored from a snapshot) still sees the due fire")
    func fireSurvivesLeaderChange() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock + Self.minute)
        let restored = try SchedulerState(snapshot: h.state.snapshot())
        #expect(restored.cronFiresDue(atOrBefore: h.clock + Self.minute).map(\.jobID) == ["c"])
        #expect(restored.nextDueInstant == h.clock + Self.minute)
    }

    @Test("Dkron #541, Nomad #11052, Quartz #548: a fire proposed twice (old and new leader) runs once")
    func noDoubleFire() {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock, concurrency: .allow)
        let fire = FireCron(jobID: "c", scheduledAt: h.clock, nextFireAt: h.clock + Self.minute, runID: "by-old-leader")
        h.apply(.fireCron(fire))
        var second = fire
        second.runID = "by-new-leader"
        h.apply(.fireCron(second))
        #expect(h.state.run("by-old-leader") != nil)
        #expect(h.state.run("by-new-leader") == nil)
    }

    @Test("Nomad #26690: the idempotency key is checked in the state machine, not only at the API")
    func idempotencyInFSM() {
        var h = Harness()
        let stamp = IdempotencyStamp(key: "retry-me", bodyDigest: 9)
        // Two nodes forwarded the same client retry; both proposals reach the log.
        h.submitOnce("from-n1", idempotency: stamp)
        h.submitOnce("from-n2", idempotency: stamp)
        #expect(h.state.jobCount == 1)
    }

    @Test("K8s #36311: a huge backlog of missed times is counted, not fatal")
    func manyMissedTimes() {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock, misfire: .runOnce)
        h.clock = h.clock + 200 * Self.minute
        h.apply(.fireCron(FireCron(jobID: "c", scheduledAt: h.clock, nextFireAt: h.clock + Self.minute, runID: "c-late",
                                   missedBefore: 199)))
        #expect(h.runState("c-late") == .queued)
        #expect(h.state.job("c")?.missedFires == 199)
    }

    @Test("K8s #114516: a retry's backoff survives a restart (it is in the replicated state)")
    func backoffSurvivesRestart() throws {
        var h = Harness()
        h.submitOnce("a", retry: RetryPolicy(initialBackoffMs: 30_000, jitter: false))
        h.assign("r-a")
        h.fail("r-a")
        var restored = try SchedulerState(snapshot: h.state.snapshot())
        #expect(restored.run("r-a")?.dueAt == h.clock + 30_000)
        _ = restored.apply(.tick, at: h.clock + 29_999)
        #expect(restored.run("r-a")?.state == .pending)
        _ = restored.apply(.tick, at: h.clock + 30_000)
        #expect(restored.run("r-a")?.state == .queued)
    }

    @Test("Sidekiq dead set: DLQ entries do not expire silently with retention")
    func dlqDoesNotExpire() {
        var h = Harness()
        h.submitOnce("a", retry: RetryPolicy(maxAttempts: 1, jitter: false), retentionMs: 1_000)
        h.assign("r-a")
        h.fail("r-a")
        h.advance(ms: 365 * 86_400_000)
        #expect(h.state.listDLQ(limit: 10).items.map(\.runID) == ["r-a"])
    }

    @Test("Airflow #13542: queued work survives a restart in the same order")
    func queueSurvivesRestart() throws {
        var h = Harness()
        for (i, p) in [0, 3, 1, 3, 0].enumerated() { h.submitOnce("j\(i)", priority: p) }
        h.assign("r-j1")
        let restored = try SchedulerState(snapshot: h.state.snapshot())
        #expect(restored.runsToAssign(limit: 10) == h.state.runsToAssign(limit: 10))
        #expect(restored.runsToAssign(limit: 10).map(\.runID) == ["r-j3", "r-j2", "r-j0", "r-j4"])
    }

    @Test("Temporal #3614: several triggers in a row each start a run (allow)")
    func manyTriggers() {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock + Self.minute, concurrency: .allow)
        for i in 0..<5 { h.apply(.trigger(TriggerJob(jobID: "c", runID: RunID("t\(i)")))) }
        #expect(h.state.job("c")?.activeRuns.count == 5)
    }

    @Test("Celery #7918: a worker reporting days later cannot complete a re-run task")
    func lateWorker() {
        var h = Harness()
        h.submitOnce("a")
        h.assign("r-a", executor: "old-worker")
        h.apply(.expireAttempt(ExpireAttempt(runID: "r-a", attempt: 1, reason: .deadlinePassed)))
        h.advance(ms: 1_000)
        h.assign("r-a", executor: "n3")
        h.advance(ms: 3 * 86_400_000)
        h.finish("r-a", attempt: 1, AttemptReport(outcome: .failed, exitCode: 1))
        #expect(h.runState("r-a") == .running)
        #expect(h.state.run("r-a")?.executor == "n3")
    }

    @Test("seed API: job-status maps states to Pending / In-Progress / Completed / Failed")
    func jobStatus() throws {
        var h = Harness()
        h.submitOnce("a")
        #expect(h.state.jobStatus("a")?.status == .pending)
        h.assign("r-a")
        let running = try #require(h.state.jobStatus("a"))
        #expect(running.status == .inProgress)
        #expect(running.state == "running")
        #expect(running.attempt == 1)
        h.finish("r-a")
        #expect(h.state.jobStatus("a")?.status == .completed)
        #expect(h.state.jobStatus("nope") == nil)
    }
}
