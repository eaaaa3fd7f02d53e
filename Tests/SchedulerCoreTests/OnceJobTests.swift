import SchedulerCore
import Testing

@Suite("Once jobs, the queue, attempts")
struct OnceJobTests {
    @Test("a once job due now is queued, runs and succeeds; status follows the state")
    func happyPath() throws {
        var h = Harness()
        h.submitOnce("a")
        let job = try #require(h.state.job("a"))
        #expect(h.state.fineState(of: job) == "queued")
        #expect(h.state.status(of: job) == .pending)
        h.assign("r-a")
        #expect(h.runState("r-a") == .running)
        #expect(h.state.status(of: try #require(h.state.job("a"))) == .inProgress)
        h.finish("r-a")
        #expect(h.runState("r-a") == .succeeded)
        #expect(h.state.status(of: try #require(h.state.job("a"))) == .completed)
        let history = h.state.attempts(ofJob: "a")
        #expect(history.count == 1)
        #expect(history.first?.outcome == .succeeded)
        #expect(history.first?.executor == "n2")
    }

    @Test("a future run_at stays pending until a command's time reaches it")
    func runAt() {
        var h = Harness()
        h.submitOnce("a", runAt: h.clock + 5_000)
        #expect(h.runState("r-a") == .pending)
        #expect(h.state.nextDueInstant == h.clock + 5_000)
        #expect(h.state.runsDue(atOrBefore: h.clock + 5_000) == ["r-a"])
        #expect(h.state.runsDue(atOrBefore: h.clock + 4_999).isEmpty)
        h.advance(ms: 4_999)
        #expect(h.runState("r-a") == .pending)
        h.advance(ms: 1)
        #expect(h.runState("r-a") == .queued)
    }

    @Test("higher priority first, FIFO within a priority by enqueue order")
    func priorityOrder() {
        var h = Harness()
        h.submitOnce("low1", priority: 0)
        h.submitOnce("high1", priority: 5)
        h.submitOnce("low2", priority: 0)
        h.submitOnce("high2", priority: 5)
        h.submitOnce("mid", priority: 1)
        #expect(h.state.runsToAssign(limit: 10).map(\.runID.rawValue) == ["r-high1", "r-high2", "r-mid", "r-low1", "r-low2"])
        #expect(h.state.runsToAssign(limit: 2).map(\.runID.rawValue) == ["r-high1", "r-high2"])
        h.assign("r-high1")
        h.apply(.cancelJob("mid"))
        #expect(h.state.runsToAssign(limit: 10).map(\.runID.rawValue) == ["r-high2", "r-low1", "r-low2"])
        #expect(h.state.queuedCount == 3)
        #expect(h.state.queueDepthByPriority().map(\.priority) == [5, 0])
        #expect(h.state.queueDepthByPriority().map(\.count) == [1, 2])
        h.assign("r-high2")
        #expect(h.state.queuedCountByPriority == [0: 2], "a priority with nothing queued has no key")
        #expect(h.state.invariantViolations().isEmpty)
    }

    @Test("a failure retries after min(max, initial × multiplier^(n−1)), then dies into the DLQ")
    func retriesThenDead() throws {
        var h = Harness()
        h.submitOnce("a")
        h.assign("r-a")
        h.fail("r-a")
        #expect(h.runState("r-a") == .pending)
        #expect(h.state.run("r-a")?.dueAt == h.clock + 1_000)
        h.advance(ms: 1_000)
        #expect(h.runState("r-a") == .queued)
        h.assign("r-a")
        #expect(h.state.run("r-a")?.attempt == 2)
        h.fail("r-a")
        #expect(h.state.run("r-a")?.dueAt == h.clock + 2_000)
        h.advance(ms: 2_000)
        h.assign("r-a")
        h.fail("r-a", exitCode: 7)
        #expect(h.runState("r-a") == .dead)
        #expect(h.state.dlqCount == 1)
        let dlq = h.state.listDLQ(limit: 10)
        #expect(dlq.items.map(\.runID) == ["r-a"])
        #expect(dlq.items.first?.error == "exit 7")
        #expect(dlq.items.first?.attempts == 3)
        #expect(h.state.status(of: try #require(h.state.job("a"))) == .failed)
    }

    @Test("requeue gives a fresh budget with growing attempt numbers; purge removes a once job")
    func requeueAndPurge() {
        var h = Harness()
        h.submitOnce("a", retry: RetryPolicy(maxAttempts: 1, jitter: false))
        h.assign("r-a")
        h.fail("r-a")
        #expect(h.runState("r-a") == .dead)
        h.apply(.requeue("r-a"))
        #expect(h.runState("r-a") == .queued)
        #expect(h.state.dlqCount == 0)
        h.assign("r-a", attempt: 1)
        #expect(h.rejections.count == 1)  // attempt numbers only grow
        h.assign("r-a")
        #expect(h.state.run("r-a")?.attempt == 2)
        h.fail("r-a")
        #expect(h.runState("r-a") == .dead)
        h.apply(.purge("r-a"))
        #expect(h.state.job("a") == nil)
        #expect(h.state.run("r-a") == nil)
        #expect(h.state.dlqCount == 0)
        h.apply(.purge("r-a"))
        #expect(h.rejections.first?.code == .notFound)
    }

    @Test("fencing: a report for an attempt that is not current changes nothing and is counted")
    func fencing() {
        var h = Harness()
        h.submitOnce("a")
        h.assign("r-a")
        h.apply(.expireAttempt(ExpireAttempt(runID: "r-a", attempt: 1, reason: .executorLost)))
        // The cut-off executor is told to stop the attempt when it applies the expiry.
        #expect(h.lastEvents.first == .stopAttempt(runID: "r-a", attempt: 1, executor: "n2"))
        #expect(h.runState("r-a") == .pending)
        #expect(h.state.attempts(ofJob: "a").first?.outcome == .lost)
        h.advance(ms: 1_000)
        h.assign("r-a", executor: "n3")
        let before = h.state.run("r-a")
        let events = h.finish("r-a", attempt: 1)  // the zombie from attempt 1 reports success
        #expect(events == [.staleReport("r-a", attempt: 1)])
        #expect(h.state.run("r-a") == before)
        #expect(h.state.counters.staleReports == 1)
        h.apply(.expireAttempt(ExpireAttempt(runID: "r-a", attempt: 3, reason: .deadlinePassed)))
        #expect(h.state.counters.staleReports == 2)
        h.finish("r-a", attempt: 2)
        #expect(h.runState("r-a") == .succeeded)
        h.finish("r-a", attempt: 2)  // a duplicate delivery
        #expect(h.state.counters.staleReports == 3)
    }

    @Test("an expired deadline times the attempt out; the leader finds it by query")
    func deadline() {
        var h = Harness()
        h.submitOnce("a")
        h.assign("r-a", timeoutMs: 10_000)
        #expect(h.state.attemptsPastDeadline(at: h.clock + 9_999).isEmpty)
        let due = h.state.attemptsPastDeadline(at: h.clock + 10_000)
        #expect(due.map(\.runID) == ["r-a"])
        #expect(h.state.activeAttempts(on: "n2").map(\.runID) == ["r-a"])
        #expect(h.state.activeAttempts(on: "n3").isEmpty)
        h.clock = h.clock + 10_000
        h.apply(.expireAttempt(ExpireAttempt(runID: "r-a", attempt: 1, reason: .deadlinePassed)))
        #expect(h.state.attempts(ofJob: "a").first?.outcome == .timedOut)
        #expect(h.state.run("r-a")?.lastError == "attempt 1 passed its deadline")
    }

    @Test("running attempts come from an index kept through finishes, retries and a snapshot restore")
    func runningAttemptsIndex() throws {
        var h = Harness()
        for id in ["a", "b", "c"] { h.submitOnce(id) }
        h.assign("r-c")
        h.assign("r-a", executor: "n3")
        #expect(h.state.runningAttempts().map(\.runID) == ["r-a", "r-c"])
        #expect(h.state.runningAttempts().map(\.executor) == ["n3", "n2"])
        h.finish("r-c")
        h.apply(.expireAttempt(ExpireAttempt(runID: "r-a", attempt: 1, reason: .executorLost)))
        #expect(h.state.runningAttempts().isEmpty)
        h.assign("r-b")
        let restored = try SchedulerState(snapshot: h.state.snapshot())
        #expect(restored.runningAttempts().map(\.runID) == ["r-b"])
        #expect(restored.activeAttempts(on: "n2").map(\.runID) == ["r-b"])
        #expect(restored.invariantViolations().isEmpty)
        #expect(h.state.invariantViolations().isEmpty)
    }

    @Test("time never goes backwards: an earlier stamp applies at the last applied time")
    func monotonicTime() {
        var h = Harness()
        h.submitOnce("a", runAt: h.clock + 1_000)
        h.advance(ms: 5_000)
        let later = h.clock
        h.submitOnce("b", runAt: nil)
        h.apply(.submitJob(SubmitJob(jobID: "c", spec: JobSpec(name: "c"), runID: "r-c")), at: later + -60_000)
        #expect(h.state.now == later)
        #expect(h.state.job("c")?.createdAt == later)
        #expect(h.runState("r-c") == .queued)
    }

    @Test("cancel stops a running attempt; its late report is stale")
    func cancelRunning() {
        var h = Harness()
        h.submitOnce("a")
        h.assign("r-a")
        let events = h.apply(.cancelJob("a"))
        #expect(events.contains(.stopAttempt(runID: "r-a", attempt: 1, executor: "n2")))
        #expect(h.runState("r-a") == .cancelled)
        h.finish("r-a", attempt: 1)
        #expect(h.runState("r-a") == .cancelled)
        #expect(h.state.counters.staleReports == 1)
        h.apply(.cancelJob("a"))
        #expect(h.rejections.first?.code == .conflict)
        h.apply(.cancelJob("nope"))
        #expect(h.rejections.first?.code == .notFound)
    }

    @Test("assign only a queued run, with the next attempt number")
    func assignChecks() {
        var h = Harness()
        h.submitOnce("a", runAt: h.clock + 1_000)
        h.assign("r-a")
        #expect(h.rejections.first?.code == .conflict)
        h.advance(ms: 1_000)
        h.assign("r-a", attempt: 2)
        #expect(h.rejections.first?.code == .conflict)
        h.assign("r-a", attempt: 1)
        #expect(h.rejections.isEmpty)
        h.assign("r-a", attempt: 2)
        #expect(h.rejections.first?.code == .conflict)
        #expect(h.state.counters.rejectedCommands == 3)
    }

    @Test("trigger queues a waiting once job now")
    func triggerOnce() {
        var h = Harness()
        h.submitOnce("a", runAt: h.clock + 60_000)
        h.apply(.trigger(TriggerJob(jobID: "a", runID: "ignored")))
        #expect(h.runState("r-a") == .queued)
        h.apply(.trigger(TriggerJob(jobID: "a", runID: "ignored")))
        #expect(h.rejections.first?.code == .conflict)
    }

    @Test("a batch applies its commands in order at one timestamp")
    func batch() {
        var h = Harness()
        let spec = JobSpec(name: "x")
        h.apply(.batch([
            .submitJob(SubmitJob(jobID: "a", spec: spec, runID: "r-a")),
            .submitJob(SubmitJob(jobID: "b", spec: spec, runID: "r-b")),
            .assignAttempt(AssignAttempt(runID: "r-a", executor: "n1", attempt: 1, deadline: h.clock + 1000)),
            .assignAttempt(AssignAttempt(runID: "r-unknown", executor: "n1", attempt: 1, deadline: h.clock + 1000)),
        ]))
        #expect(h.runState("r-a") == .running)
        #expect(h.runState("r-b") == .queued)
        // A stale assignment in a batch is refused alone; the rest applies.
        #expect(h.rejections.count == 1)
    }

    @Test("a batch with one refused submit applies none of it, naming the index",
          arguments: ["existing id", "repeated id", "invalid spec", "idempotency clash", "nested batch"])
    func batchAllOrNone(_ flaw: String) {
        var h = Harness()
        let spec = JobSpec(name: "x")
        h.apply(.submitJob(SubmitJob(jobID: "old", spec: spec, runID: "r-old",
                                     idempotency: IdempotencyStamp(key: "k", bodyDigest: 1))))
        var bad = Command.submitJob(SubmitJob(jobID: "c", spec: spec, runID: "r-c"))
        switch flaw {
        case "existing id": bad = .submitJob(SubmitJob(jobID: "old", spec: spec, runID: "r-c"))
        case "repeated id": bad = .submitJob(SubmitJob(jobID: "a", spec: spec, runID: "r-c"))
        case "invalid spec":
            bad = .submitJob(SubmitJob(jobID: "c", spec: JobSpec(name: "x", timeoutMs: 0), runID: "r-c"))
        case "idempotency clash":
            bad = .submitJob(SubmitJob(jobID: "c", spec: spec, runID: "r-c", idempotency: IdempotencyStamp(key: "k", bodyDigest: 2)))
        default: bad = .batch([.tick])
        }
        let before = h.state
        h.apply(.batch([
            .submitJob(SubmitJob(jobID: "a", spec: spec, runID: "r-a")),
            .submitJob(SubmitJob(jobID: "b", spec: spec, runID: "r-b")),
            bad,
        ]))
        #expect(h.rejections.count == 1)
        #expect(h.rejections.first?.batchIndex == 2)
        #expect(h.state.job("a") == nil && h.state.job("b") == nil && h.state.job("c") == nil)
        #expect(h.state.jobCount == before.jobCount)
    }

    @Test("a batch repeating an earlier idempotent submit answers it as a duplicate and applies the rest")
    func batchWithDuplicate() {
        var h = Harness()
        let spec = JobSpec(name: "x")
        let stamp = IdempotencyStamp(key: "k", bodyDigest: 1)
        h.apply(.submitJob(SubmitJob(jobID: "a", spec: spec, runID: "r-a", idempotency: stamp)))
        h.apply(.batch([
            .submitJob(SubmitJob(jobID: "a2", spec: spec, runID: "r-a2", idempotency: stamp)),
            .submitJob(SubmitJob(jobID: "b", spec: spec, runID: "r-b")),
        ]))
        #expect(h.rejections.isEmpty)
        #expect(h.state.job("a2") == nil)
        #expect(h.runState("r-b") == .queued)
    }

    @Test("the attempt history keeps the last N attempts")
    func historyLimit() {
        var h = Harness(config: SchedulerConfig(attemptHistoryLimit: 2))
        h.submitOnce("a", retry: RetryPolicy(maxAttempts: 5, initialBackoffMs: 0, jitter: false))
        for _ in 0..<4 {
            h.assign("r-a")
            h.fail("r-a")
            h.apply(.tick)
        }
        #expect(h.state.attempts(ofJob: "a").map(\.attempt) == [4, 3])
    }

    @Test("cancelled far-future jobs do not leave unbounded garbage in the due heap")
    func dueHeapGarbage() {
        var h = Harness()
        for i in 0..<3_000 {
            h.submitOnce("f\(i)", runAt: h.clock + 10_000_000_000, retentionMs: 0)
            h.apply(.cancelJob(JobID("f\(i)")))
        }
        h.advance(ms: 1)
        #expect(h.state.jobCount == 0)
        #expect(h.state.runsDue(atOrBefore: h.clock + 20_000_000_000).isEmpty)
        #expect(h.state.invariantViolations().isEmpty)
        #expect(h.state.nextDueInstant == nil)
    }
}

@Suite("Finish reports batched in one entry (an executor's round)")
struct BatchedFinishTests {
    @Test("fencing in a batch: a stale finish is counted stale while its neighbours apply")
    func staleFinishInABatchLeavesItsNeighbours() {
        var h = Harness()
        h.submitOnce("a")
        h.submitOnce("b")
        h.submitOnce("c")
        h.assign("r-a")
        h.assign("r-b")
        h.assign("r-c")
        h.apply(.expireAttempt(ExpireAttempt(runID: "r-b", attempt: 1, reason: .executorLost)))
        let events = h.apply(.batch([
            .finishAttempt(FinishAttempt(runID: "r-a", attempt: 1, report: .success)),
            .finishAttempt(FinishAttempt(runID: "r-b", attempt: 1, report: .success)),  // its attempt was expired
            .finishAttempt(FinishAttempt(runID: "r-c", attempt: 1, report: AttemptReport(outcome: .failed, exitCode: 1))),
        ]))
        #expect(events.contains(.staleReport("r-b", attempt: 1)))
        #expect(h.runState("r-a") == .succeeded)
        #expect(h.runState("r-b") == .pending)
        #expect(h.runState("r-c") != .running)
        #expect(h.state.counters.staleReports == 1)
        // The same round resent (its answer was lost) changes nothing.
        let before = (h.state.run("r-a"), h.state.run("r-c"))
        h.apply(.batch([
            .finishAttempt(FinishAttempt(runID: "r-a", attempt: 1, report: .success)),
            .finishAttempt(FinishAttempt(runID: "r-c", attempt: 1, report: AttemptReport(outcome: .failed, exitCode: 1))),
        ]))
        #expect(h.state.run("r-a") == before.0)
        #expect(h.state.run("r-c") == before.1)
        #expect(h.state.counters.staleReports == 3)
    }
}
