import SchedulerCore
import Testing

@Suite("Cron fires, concurrency and misfire policies")
struct CronTests {
    static let minute: Int64 = 60_000

    func fire(_ h: inout Harness, _ job: String, scheduledAt: Timestamp, next: Timestamp?, run: String,
              missedBefore: Int = 0) -> [SchedulerEvent] {
        h.apply(.fireCron(FireCron(jobID: JobID(job), scheduledAt: scheduledAt, nextFireAt: next,
                                   runID: RunID(run), missedBefore: missedBefore)))
    }

    @Test("a fire starts a run and stores the leader's next fire time; a duplicate or older fire changes nothing")
    func fireAtMostOnce() throws {
        var h = Harness()
        let t0 = h.clock
        h.submitCron("c", firstFireAt: t0)
        #expect(h.state.cronFiresDue(atOrBefore: t0).map(\.jobID) == ["c"])
        _ = fire(&h, "c", scheduledAt: t0, next: t0 + Self.minute, run: "c-1")
        #expect(h.runState("c-1") == .queued)
        let job = try #require(h.state.job("c"))
        #expect(job.nextFireAt == t0 + Self.minute)
        #expect(h.state.status(of: job) == .inProgress)
        #expect(h.state.fineState(of: job) == "scheduled")
        let again = fire(&h, "c", scheduledAt: t0, next: t0 + Self.minute, run: "c-1b")
        #expect(again.isEmpty)
        #expect(h.state.run("c-1b") == nil)
        _ = fire(&h, "c", scheduledAt: t0 + -Self.minute, next: t0, run: "c-0")
        #expect(h.state.run("c-0") == nil)
        #expect(h.state.counters.duplicateFires == 2)
        #expect(h.state.cronFiresDue(atOrBefore: t0).isEmpty)
    }

    @Test("a finished cron run leaves the run table; the job keeps its history and last run")
    func lastRun() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock)
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-1")
        h.assign("c-1")
        h.finish("c-1")
        let job = try #require(h.state.job("c"))
        #expect(job.lastRun?.state == .succeeded)
        #expect(job.activeRuns.isEmpty)
        #expect(h.state.run("c-1") == nil)
        #expect(h.state.attempts(ofJob: "c").map(\.runID) == ["c-1"])
        #expect(h.state.status(of: job) == .pending)
    }

    @Test("forbid: a fire while the previous run is active is skipped and counted")
    func forbid() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock, concurrency: .forbid)
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-1")
        h.assign("c-1")
        h.clock = h.clock + Self.minute
        let events = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-2")
        #expect(events.contains(.fireSkipped("c", scheduledAt: h.clock, reason: .forbidden)))
        #expect(h.state.run("c-2") == nil)
        #expect(h.state.job("c")?.forbiddenFires == 1)
        #expect(h.runState("c-1") == .running)
        h.finish("c-1")
        h.clock = h.clock + Self.minute
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-3")
        #expect(h.runState("c-3") == .queued)
    }

    @Test("forbid holds while a run waits in retry backoff (it is still active)")
    func forbidDuringBackoff() {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock, concurrency: .forbid)
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-1")
        h.assign("c-1")
        h.fail("c-1")
        #expect(h.runState("c-1") == .pending)
        _ = fire(&h, "c", scheduledAt: h.clock + 1, next: h.clock + Self.minute, run: "c-2")
        #expect(h.state.run("c-2") == nil)
    }

    @Test("forbid is not wedged by a lost executor: expiry ends the attempt and frees the job")
    func forbidAfterExecutorLoss() {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock, concurrency: .forbid)
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-1")
        h.assign("c-1")
        h.apply(.cancelJob("unrelated"))
        h.apply(.expireAttempt(ExpireAttempt(runID: "c-1", attempt: 1, reason: .executorLost)))
        h.advance(ms: 1_000)
        h.assign("c-1")
        h.finish("c-1")
        h.clock = h.clock + Self.minute
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-2")
        #expect(h.runState("c-2") == .queued)
    }

    @Test("replace: the active run is cancelled (its attempt stopped) and the new one starts")
    func replace() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock, concurrency: .replace)
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-1")
        h.assign("c-1", executor: "n3")
        h.clock = h.clock + Self.minute
        let events = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-2")
        #expect(events.contains(.stopAttempt(runID: "c-1", attempt: 1, executor: "n3")))
        #expect(h.state.run("c-1") == nil)  // cancelled, retired from the run table
        #expect(h.state.attempts(ofJob: "c").first?.outcome == .cancelled)
        #expect(h.runState("c-2") == .queued)
        #expect(try #require(h.state.job("c")).activeRuns == ["c-2"])
        h.finish("c-1", attempt: 1)
        #expect(h.state.counters.staleReports == 1)
    }

    @Test("allow: both runs are active")
    func allow() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock, concurrency: .allow)
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-1")
        h.assign("c-1")
        h.clock = h.clock + Self.minute
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-2")
        #expect(h.runState("c-1") == .running)
        #expect(h.runState("c-2") == .queued)
        #expect(try #require(h.state.job("c")).activeRuns == ["c-1", "c-2"])
    }

    @Test("misfire: a fire later than the starting deadline is skipped under skip, within it it runs")
    func misfireSkip() throws {
        var h = Harness()
        let t0 = h.clock
        h.submitCron("c", firstFireAt: t0, misfire: .skip)
        h.clock = t0 + 59_000
        _ = fire(&h, "c", scheduledAt: t0, next: t0 + Self.minute, run: "c-1")
        #expect(h.runState("c-1") == .queued)  // 59 s late < 60 s deadline
        h.clock = t0 + 10 * Self.minute
        let events = fire(&h, "c", scheduledAt: t0 + (10 * Self.minute - 61_000), next: t0 + 11 * Self.minute, run: "c-2",
                          missedBefore: 7)
        #expect(events.contains(.fireSkipped("c", scheduledAt: t0 + (10 * Self.minute - 61_000), reason: .missed)))
        #expect(h.state.run("c-2") == nil)
        #expect(h.state.job("c")?.missedFires == 8)
        #expect(h.state.job("c")?.nextFireAt == t0 + 11 * Self.minute)
    }

    @Test("misfire run_once: one run for the latest missed time; earlier missed times are counted")
    func misfireRunOnce() throws {
        var h = Harness()
        let t0 = h.clock
        h.submitCron("c", firstFireAt: t0, misfire: .runOnce)
        h.clock = t0 + 30 * Self.minute
        // A leader that replays missed fires one by one: all but the latest are skipped.
        _ = fire(&h, "c", scheduledAt: t0, next: t0 + Self.minute, run: "c-0")
        #expect(h.state.run("c-0") == nil)
        // The latest missed time (next fire is in the future): runs although late.
        _ = fire(&h, "c", scheduledAt: t0 + 29 * Self.minute, next: t0 + 31 * Self.minute, run: "c-29", missedBefore: 27)
        #expect(h.runState("c-29") == .queued)
        #expect(h.state.job("c")?.missedFires == 28)
    }

    @Test("pause stops fires; resume makes missed fires due at once")
    func pauseResume() throws {
        var h = Harness()
        let t0 = h.clock
        h.submitCron("c", firstFireAt: t0 + Self.minute)
        h.apply(.pause("c"))
        #expect(h.state.fineState(of: try #require(h.state.job("c"))) == "paused")
        #expect(h.state.cronFiresDue(atOrBefore: t0 + 10 * Self.minute).isEmpty)
        h.clock = t0 + 5 * Self.minute
        _ = fire(&h, "c", scheduledAt: t0 + Self.minute, next: t0 + 6 * Self.minute, run: "c-1")
        #expect(h.rejections.first?.code == .conflict)
        h.apply(.pause("c"))
        #expect(h.rejections.first?.code == .conflict)
        h.apply(.resume("c"))
        #expect(h.state.cronFiresDue(atOrBefore: h.clock).map(\.fireAt) == [t0 + Self.minute])
        _ = fire(&h, "c", scheduledAt: t0 + 5 * Self.minute, next: t0 + 6 * Self.minute, run: "c-5", missedBefore: 3)
        #expect(h.runState("c-5") == .queued)
        #expect(h.state.job("c")?.missedFires == 3)
        h.apply(.pause("nope"))
        #expect(h.rejections.first?.code == .notFound)
    }

    @Test("trigger starts a run now, honouring forbid; the schedule is untouched")
    func trigger() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock + Self.minute, concurrency: .forbid)
        h.apply(.trigger(TriggerJob(jobID: "c", runID: "t-1")))
        #expect(h.runState("t-1") == .queued)
        h.apply(.trigger(TriggerJob(jobID: "c", runID: "t-2")))
        #expect(h.rejections.first?.code == .conflict)
        #expect(h.state.job("c")?.nextFireAt == h.clock + Self.minute)
    }

    @Test("cancel a cron job: active runs are cancelled, no more fires, status Failed")
    func cancelCron() throws {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock)
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + Self.minute, run: "c-1")
        h.assign("c-1")
        let events = h.apply(.cancelJob("c"))
        #expect(events.contains(.stopAttempt(runID: "c-1", attempt: 1, executor: "n2")))
        let job = try #require(h.state.job("c"))
        #expect(job.cronState == .cancelled)
        #expect(h.state.status(of: job) == .failed)
        #expect(h.state.cronFiresDue(atOrBefore: h.clock + 10 * Self.minute).isEmpty)
        h.clock = h.clock + Self.minute
        _ = fire(&h, "c", scheduledAt: h.clock, next: nil, run: "c-2")
        #expect(h.rejections.first?.code == .conflict)
    }

    @Test("a dead cron run is in the DLQ; requeue makes it active again")
    func cronDLQ() throws {
        var h = Harness()
        let spec = JobSpec(name: "c", schedule: CronSchedule(expression: "@hourly", timezone: "Europe/Berlin"),
                           retry: RetryPolicy(maxAttempts: 1), concurrency: .forbid)
        h.apply(.submitJob(SubmitJob(jobID: "c", spec: spec, runID: "x", firstFireAt: h.clock)))
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock + 3_600_000, run: "c-1")
        h.assign("c-1")
        h.fail("c-1")
        #expect(h.runState("c-1") == .dead)
        #expect(h.state.job("c")?.lastRun?.state == .dead)
        #expect(h.state.job("c")?.activeRuns == [])
        h.apply(.requeue("c-1"))
        #expect(h.state.job("c")?.activeRuns == ["c-1"])
        h.assign("c-1")
        h.finish("c-1")
        #expect(h.state.run("c-1") == nil)
        #expect(h.state.dlqCount == 0)
    }

    @Test("a fire whose next fire time is not after it is rejected (it would loop)")
    func nextFireMustAdvance() {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock)
        _ = fire(&h, "c", scheduledAt: h.clock, next: h.clock, run: "c-1")
        #expect(h.rejections.first?.code == .invalid)
        #expect(h.state.run("c-1") == nil)
        #expect(h.state.job("c")?.lastFireScheduledAt == nil)
    }

    @Test("absurd missed counts saturate instead of trapping")
    func missedSaturates() {
        var h = Harness()
        h.submitCron("c", firstFireAt: h.clock, misfire: .skip)
        h.clock = h.clock + 10 * Self.minute
        _ = fire(&h, "c", scheduledAt: h.clock + -5 * Self.minute, next: h.clock + Self.minute, run: "a", missedBefore: Int.max)
        _ = fire(&h, "c", scheduledAt: h.clock + -4 * Self.minute, next: h.clock + Self.minute, run: "b", missedBefore: Int.max)
        #expect(h.state.job("c")?.missedFires == Int.max)
    }
}
