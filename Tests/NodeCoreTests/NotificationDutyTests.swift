import NodeCore
import SchedulerCore
import Testing

/// The leader's notification duty on the applied state: settings stamped when they differ, due
/// notifications offered unless in flight, nothing below command format 10.
@Suite("NotificationDuty: what the leader stamps and delivers")
struct NotificationDutyTests {
    private static let t0 = Timestamp(1_000_000)
    private static let hook = "https://hooks.example.com/q"

    /// A state where job `j` (rule: dead → webhook) died at t0.adding(milliseconds: 2) s.
    private static func stateWithDeadJob() -> SchedulerState {
        var state = SchedulerState()
        let spec = JobSpec(name: "nightly", retry: RetryPolicy(maxAttempts: 1, jitter: false),
                           notify: [NotificationRule(on: [.dead], webhook: hook)])
        let log: [Command] = [
            .submitJob(SubmitJob(jobID: "j", spec: spec, runID: "r")),
            .assignAttempt(AssignAttempt(runID: "r", executor: "n1", attempt: 1, deadline: t0.adding(milliseconds: 60_000))),
            .finishAttempt(FinishAttempt(runID: "r", attempt: 1,
                                         report: AttemptReport(outcome: .failed, exitCode: 2, outputTail: "boom", error: "exit 2"))),
        ]
        for (n, command) in log.enumerated() {
            var events: [SchedulerEvent] = []
            state.apply(command, at: t0.adding(milliseconds: Int64(n) * 1_000), index: UInt64(n + 1), into: &events)
        }
        return state
    }

    @Test("below format 10 a fresh state gets nothing; a state holding notifications proves format 10 (a down member after a failover); the due one carries its payload facts")
    func gatedThenPlanned() throws {
        let state = Self.stateWithDeadJob()
        let desired = NotificationSettings(defaults: NotificationRule(on: [.dead], email: ["ops@example.com"]))
        let fresh = NotificationDuty.plan(state: SchedulerState(), desired: desired, format: CommandCodec.notifications - 1,
                                          now: Self.t0.adding(milliseconds: 5_000), inFlight: [])
        #expect(fresh.settings == nil && fresh.deliveries.isEmpty)
        let proven = NotificationDuty.plan(state: state, desired: desired, format: CommandCodec.baselineFormatVersion,
                                           now: Self.t0.adding(milliseconds: 5_000), inFlight: [])
        #expect(proven.deliveries.count == 1, "pending records exist only through format-10 entries")
        let duty = NotificationDuty.plan(state: state, desired: desired, format: CommandCodec.notifications,
                                         now: Self.t0.adding(milliseconds: 5_000), inFlight: [])
        #expect(duty.settings == .notificationSettings(desired))
        let delivery = try #require(duty.deliveries.first)
        #expect(duty.deliveries.count == 1)
        #expect(delivery.record.trigger == .dead && delivery.record.destination == .webhook(Self.hook))
        #expect(delivery.jobName == "nightly" && delivery.maxAttempts == 1 && delivery.error == "exit 2")
        #expect(delivery.outcome == "failed" && delivery.outputTail == "boom")
    }

    @Test("equal settings are not stamped again; in-flight and not-yet-due notifications are left out")
    func inFlightAndDue() throws {
        var state = Self.stateWithDeadJob()
        let key = try #require(state.notifications.records(in: .pending).first?.key)
        let same = NotificationDuty.plan(state: state, desired: NotificationSettings(), format: CommandCodec.notifications,
                                         now: Self.t0.adding(milliseconds: 5_000), inFlight: [key])
        #expect(same.settings == nil && same.deliveries.isEmpty)
        var events: [SchedulerEvent] = []
        state.apply(.notificationOutcomes([.retry(key, tries: 1, nextAttemptAt: Self.t0.adding(milliseconds: 30_000), error: "HTTP 503")]),
                    at: Self.t0.adding(milliseconds: 6_000), index: 4, into: &events)
        #expect(NotificationDuty.plan(state: state, desired: NotificationSettings(), format: CommandCodec.notifications,
                                      now: Self.t0.adding(milliseconds: 29_999), inFlight: []).deliveries.isEmpty)
        let resumed = NotificationDuty.plan(state: state, desired: NotificationSettings(), format: CommandCodec.notifications,
                                            now: Self.t0.adding(milliseconds: 30_000), inFlight: [])
        #expect(resumed.deliveries.map(\.record.tries) == [1], "a new leader resumes with the replicated tries")
    }

    @Test("a DAG run's notification names its DAG: a one-off run is its own DAG (dag_id = the run id), with its name")
    func dagFacts() throws {
        var state = SchedulerState()
        let dag = try DAGSpec.validated(name: "etl", tasks: [DAGTaskSpec(id: "a", retry: RetryPolicy(maxAttempts: 1, jitter: false))])
        let task = RunID.dagTask("d1", taskID: "a", style: .dot)
        let log: [Command] = [
            .notificationSettings(NotificationSettings(defaults: NotificationRule(on: [.dagFailed], webhook: Self.hook))),
            .submitDAG(SubmitDAG(dagRunID: "d1", spec: dag)),
            .assignAttempt(AssignAttempt(runID: task, executor: "n1", attempt: 1, deadline: Self.t0.adding(milliseconds: 60_000))),
            .finishAttempt(FinishAttempt(runID: task, attempt: 1, report: AttemptReport(outcome: .failed, exitCode: 1, outputTail: "", error: "exit 1"))),
        ]
        for (n, command) in log.enumerated() {
            var events: [SchedulerEvent] = []
            state.apply(command, at: Self.t0.adding(milliseconds: Int64(n) * 1_000), index: UInt64(n + 1), into: &events)
        }
        let duty = NotificationDuty.plan(state: state, desired: state.notificationSettings, format: CommandCodec.notifications,
                                         now: Self.t0.adding(milliseconds: 10_000), inFlight: [])
        let delivery = try #require(duty.deliveries.first { $0.record.trigger == .dagFailed }, "\(duty.deliveries)")
        #expect(delivery.dagID == "d1" && delivery.dagName == "etl")
        #expect(delivery.record.dagRunID == "d1")
    }
}
