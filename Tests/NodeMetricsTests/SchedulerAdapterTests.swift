import NodeMetrics
import SchedulerCore
import Testing

/// A scheduler whose every applied command goes through ``QuorumMetrics/recordApplied``, as the
/// node's apply loop will do it.
struct MeteredScheduler {
    var state = SchedulerState()
    let metrics = QuorumMetrics()
    var clock = Timestamp(1_700_000_000_000)
    var replaying = false

    mutating func apply(_ command: Command) {
        let events = state.apply(command, at: clock)
        metrics.recordApplied(events, state: state, replaying: replaying)
    }

    mutating func advance(ms: Int64) {
        clock = clock.adding(milliseconds: ms)
    }

    mutating func submit(_ id: String, priority: Int = 0, maxAttempts: Int = 3, runAt: Timestamp? = nil) {
        let spec = JobSpec(name: id, runAt: runAt, priority: priority,
                           retry: RetryPolicy(maxAttempts: maxAttempts, initialBackoffMs: 1_000, jitter: false))
        apply(.submitJob(SubmitJob(jobID: JobID(id), spec: spec, runID: RunID("r-" + id))))
    }

    mutating func assign(_ run: String) {
        let next = (state.run(RunID(run))?.attempt ?? 0) + 1
        apply(.assignAttempt(AssignAttempt(runID: RunID(run), executor: "n2", attempt: next,
                                           deadline: clock.adding(milliseconds: 60_000))))
    }

    mutating func finish(_ run: String, _ outcome: AttemptOutcome) {
        let attempt = state.run(RunID(run))?.attempt ?? 0
        apply(.finishAttempt(FinishAttempt(runID: RunID(run), attempt: attempt, report: AttemptReport(outcome: outcome))))
    }

    mutating func expire(_ run: String, _ reason: ExpiryReason) {
        let attempt = state.run(RunID(run))?.attempt ?? 0
        apply(.expireAttempt(ExpireAttempt(runID: RunID(run), attempt: attempt, reason: reason)))
    }

    var scrape: Exposition { Exposition(metrics.exposition()) }

    func finished(_ outcome: String) -> Double? {
        scrape.value("quorum_runs_finished_total", "outcome=\"\(outcome)\"")
    }
}

@Suite("Scheduler events → metrics, driven by real SchedulerState commands")
struct SchedulerAdapterTests {
    @Test("submissions count; queue depth follows priorities and drops to 0 as runs start")
    func submissionsAndQueueDepth() {
        var s = MeteredScheduler()
        s.submit("a", priority: 5)
        s.submit("b", priority: 5)
        s.submit("c")
        #expect(s.scrape.value("quorum_jobs_submitted_total") == 3)
        #expect(s.scrape.value("quorum_queue_depth", #"priority="5""#) == 2)
        #expect(s.scrape.value("quorum_queue_depth", #"priority="0""#) == 1)
        s.assign("r-a")
        s.assign("r-b")
        s.assign("r-c")
        #expect(s.scrape.value("quorum_queue_depth", #"priority="5""#) == nil)
        #expect(s.scrape.value("quorum_queue_depth", #"priority="0""#) == 0)
        // A duplicate submit (same idempotency key) is not a new job.
        let spec = JobSpec(name: "d")
        let key = IdempotencyStamp(key: "k", bodyDigest: 1)
        s.apply(.submitJob(SubmitJob(jobID: "d", spec: spec, runID: "r-d", idempotency: key)))
        s.apply(.submitJob(SubmitJob(jobID: "d2", spec: spec, runID: "r-d2", idempotency: key)))
        #expect(s.scrape.value("quorum_jobs_submitted_total") == 4)
    }

    @Test("outcomes succeeded, failed, timed_out, lost and cancelled, with attempt durations")
    func outcomesAndDurations() {
        var s = MeteredScheduler()
        for id in ["ok", "bad", "slow", "gone", "stop"] { s.submit(id) }
        for id in ["ok", "bad", "slow", "gone", "stop"] { s.assign("r-" + id) }
        s.advance(ms: 250)
        s.finish("r-ok", .succeeded)
        s.finish("r-bad", .failed)
        s.expire("r-slow", .deadlinePassed)
        s.expire("r-gone", .executorLost)
        s.apply(.cancelJob("stop"))
        s.apply(.cancelJob("ok"))  // already succeeded: nothing more ended
        #expect(s.finished("succeeded") == 1)
        #expect(s.finished("failed") == 1)
        #expect(s.finished("timed_out") == 1)
        #expect(s.finished("lost") == 1)
        #expect(s.finished("cancelled") == 1)
        let scrape = s.scrape
        #expect(scrape.value("quorum_run_duration_seconds_count") == 5)
        #expect(scrape.value("quorum_run_duration_seconds_sum") == 1.25)
        #expect(scrape.value("quorum_run_duration_seconds_bucket", #"le="0.1""#) == 0)
        #expect(scrape.value("quorum_run_duration_seconds_bucket", #"le="0.5""#) == 5)
    }

    @Test("retries then the DLQ: failures count per attempt and quorum_dlq_size follows requeue and purge")
    func dlq() {
        var s = MeteredScheduler()
        s.submit("x", maxAttempts: 2)
        s.assign("r-x")
        s.finish("r-x", .failed)
        #expect(s.scrape.value("quorum_queue_depth", #"priority="0""#) == 0, "pending in backoff is not queued")
        s.advance(ms: 1_000)
        s.apply(.tick)
        #expect(s.scrape.value("quorum_queue_depth", #"priority="0""#) == 1)
        s.assign("r-x")
        s.finish("r-x", .failed)
        #expect(s.finished("failed") == 2)
        #expect(s.scrape.value("quorum_dlq_size") == 1)
        s.apply(.requeue("r-x"))
        #expect(s.scrape.value("quorum_dlq_size") == 0)
        #expect(s.scrape.value("quorum_queue_depth", #"priority="0""#) == 1)
        s.assign("r-x")
        s.finish("r-x", .failed)
        s.advance(ms: 1_000)
        s.apply(.tick)
        s.assign("r-x")
        s.finish("r-x", .failed)
        #expect(s.scrape.value("quorum_dlq_size") == 1)
        s.apply(.purge("r-x"))
        #expect(s.scrape.value("quorum_dlq_size") == 0)
        #expect(s.finished("failed") == 4)
    }

    @Test("schedule lag: first attempts from their due time; retries are not timed")
    func scheduleLag() {
        var s = MeteredScheduler()
        s.submit("now")
        s.submit("later", runAt: s.clock.adding(milliseconds: 2_000))
        s.advance(ms: 40)
        s.assign("r-now")  // 40 ms after submission
        s.advance(ms: 2_000)
        s.apply(.tick)
        s.advance(ms: 5)
        s.assign("r-later")  // 45 ms after its run_at
        s.finish("r-now", .failed)
        s.advance(ms: 10_000)
        s.apply(.tick)
        s.assign("r-now")  // a retry: not timed
        let scrape = s.scrape
        #expect(scrape.value("quorum_schedule_lag_seconds_count") == 2)
        #expect(abs((scrape.value("quorum_schedule_lag_seconds_sum") ?? 0) - 0.085) < 1e-9)
        #expect(scrape.value("quorum_schedule_lag_seconds_bucket", #"le="0.025""#) == 0)
        #expect(scrape.value("quorum_schedule_lag_seconds_bucket", #"le="0.05""#) == 2)
    }

    @Test("a cron run leaves the run table when it ends; its duration comes from the job's history")
    func cronRunDuration() throws {
        var s = MeteredScheduler()
        let spec = JobSpec(name: "tick", schedule: CronSchedule(expression: "* * * * *"))
        let first = s.clock.adding(milliseconds: 60_000)
        s.apply(.submitJob(SubmitJob(jobID: "cron", spec: spec, runID: "unused", firstFireAt: first)))
        s.advance(ms: 60_000)
        s.apply(.fireCron(FireCron(jobID: "cron", scheduledAt: first, nextFireAt: first.adding(milliseconds: 60_000),
                                   runID: "cron-1")))
        s.advance(ms: 30)
        s.assign("cron-1")
        s.advance(ms: 700)
        s.finish("cron-1", .succeeded)
        #expect(s.state.run("cron-1") == nil)
        let scrape = s.scrape
        #expect(s.finished("succeeded") == 1)
        #expect(scrape.value("quorum_run_duration_seconds_sum") == 0.7)
        #expect(scrape.value("quorum_schedule_lag_seconds_sum") == 0.03, "lag from the cron time")
        #expect(scrape.value("quorum_jobs_submitted_total") == 1, "a cron job is one job however often it fires")
    }

    @Test("DAG tasks: roots are timed from the submission, dependent tasks are not")
    func dagLag() throws {
        var s = MeteredScheduler()
        let spec = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a"), DAGTaskSpec(id: "b", dependsOn: ["a"])])
        s.apply(.submitDAG(SubmitDAG(dagRunID: "dag", spec: spec)))
        s.advance(ms: 10)
        s.assign("dag.a")
        s.advance(ms: 100)
        s.finish("dag.a", .succeeded)
        s.advance(ms: 10)
        s.assign("dag.b")
        let scrape = s.scrape
        #expect(scrape.value("quorum_schedule_lag_seconds_count") == 1)
        #expect(scrape.value("quorum_schedule_lag_seconds_sum") == 0.01)
        #expect(scrape.value("quorum_jobs_submitted_total") == 0, "a DAG run is not a job")
    }

    @Test("replayed commands set the gauges but not the counters or histograms")
    func replay() {
        var s = MeteredScheduler()
        s.replaying = true
        s.submit("a", priority: 2)
        s.submit("b")
        s.assign("r-b")
        s.finish("r-b", .succeeded)
        var scrape = s.scrape
        #expect(scrape.value("quorum_jobs_submitted_total") == 0)
        #expect(scrape.value("quorum_runs_finished_total", #"outcome="succeeded""#) == 0)
        #expect(scrape.value("quorum_schedule_lag_seconds_count") == 0)
        #expect(scrape.value("quorum_queue_depth", #"priority="2""#) == 1)
        s.replaying = false
        s.assign("r-a")
        scrape = s.scrape
        #expect(scrape.value("quorum_queue_depth", #"priority="2""#) == nil)
        #expect(scrape.value("quorum_schedule_lag_seconds_count") == 1)
    }

    @Test("recordGauges after a snapshot restore shows the restored queue and DLQ")
    func gaugesFromRestoredState() throws {
        var s = MeteredScheduler()
        s.submit("q", priority: 9)
        s.submit("d", maxAttempts: 1)
        s.assign("r-d")
        s.finish("r-d", .failed)
        let restored = try SchedulerState(snapshot: s.state.snapshot())
        let fresh = QuorumMetrics()
        fresh.recordGauges(of: restored)
        let scrape = Exposition(fresh.exposition())
        #expect(scrape.value("quorum_queue_depth", #"priority="9""#) == 1)
        #expect(scrape.value("quorum_dlq_size") == 1)
    }
}
