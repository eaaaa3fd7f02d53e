import BinaryCoding
import SchedulerCore
import Testing

@Suite("notify rules in job specs: command format 10, tags 24 and 25, snapshot version 8")
struct NotifyRulesFormatTests {
    private static let rules = [NotificationRule(on: [.dead, .dagFailed], webhook: "https://hooks.example.com/q"),
                                NotificationRule(on: [.missed], email: ["ops@example.com"])]

    private func submit(rules: [NotificationRule] = rules) -> Command {
        .submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", retry: RetryPolicy(maxLostAttempts: 5), historyLimit: 7, notify: rules),
                             runID: "r"))
    }

    @Test("a submit with rules needs format 10 (tag 24), round-trips, and is never stripped for older members")
    func submitFormat() throws {
        let job = submit()
        #expect(job.minimumFormatVersion == CommandCodec.notifyRules)
        #expect(Command.batch([.tick, job]).minimumFormatVersion == CommandCodec.notifyRules)
        let bytes = CommandCodec.encode(job, at: Timestamp(5))
        #expect(bytes[bytes.startIndex + 2] == 24)
        #expect(try CommandCodec.decode(bytes).command == job)
        // Rules cannot be dropped silently: an older cluster gets the command unchanged, for the gate to refuse.
        #expect(job.compatible(withFormat: CommandCodec.notifyRules - 1) == job)
        #expect(Command.batch([job]).compatible(withFormat: 1) == .batch([job]))
    }

    @Test("a submit without rules keeps its old bytes and format")
    func withoutRules() throws {
        let job = submit(rules: [])
        #expect(job.minimumFormatVersion == CommandCodec.historyLimits)
        #expect(CommandCodec.encode(job, at: Timestamp(5))[2] == 20)
    }

    @Test("an edit carrying rules is tag 25 and round-trips; one without is tag 21")
    func editFormat() throws {
        let spec = JobSpec(name: "j", notify: Self.rules)
        let edit = Command.editJob(EditJob(jobID: "j", spec: spec, expectedVersion: 3))
        let bytes = CommandCodec.encode(edit, at: Timestamp(5))
        #expect(bytes[2] == 25)
        #expect(try CommandCodec.decode(bytes).command == edit)
        #expect(edit.minimumFormatVersion == CommandCodec.notifyRules)
        let plain = Command.editJob(EditJob(jobID: "j", spec: JobSpec(name: "j"), expectedVersion: 3))
        #expect(CommandCodec.encode(plain, at: Timestamp(5))[2] == 21)
    }

    @Test("a rule with an unknown trigger byte is a decode error, not a trap")
    func badTrigger() throws {
        var bytes = CommandCodec.encode(submit(rules: [NotificationRule(on: [.dead], webhook: "https://h/x")]), at: Timestamp(5))
        let other = CommandCodec.encode(submit(rules: [NotificationRule(on: [.failed], webhook: "https://h/x")]), at: Timestamp(5))
        // The one byte that differs is the trigger's.
        guard let index = bytes.indices.first(where: { bytes[$0] != other[$0] }) else {
            Issue.record("no trigger byte")
            return
        }
        bytes[index] = 200
        #expect(throws: DecodeError.self) { try CommandCodec.decode(bytes) }
    }

    @Test("a state with rules snapshots as version 8 and restores them; without rules the version stays")
    func snapshot() throws {
        var state = SchedulerState()
        _ = state.apply(submit(), at: Timestamp(5))
        let bytes = state.snapshot()
        #expect(bytes[4] == 8)
        let restored = try SchedulerState(snapshot: bytes)
        #expect(restored.job("j")?.spec.notify == Self.rules)
        #expect(restored.snapshot() == bytes)
        var plain = SchedulerState()
        _ = plain.apply(submit(rules: []), at: Timestamp(5))
        #expect(plain.snapshot()[4] == 4)
    }

    @Test("rules and a placement together: the submit (tag 24), the edit (tag 25, never under the placement wrapper) and a cron DAG's task placements round-trip; the snapshot is version 8 and keeps both")
    func rulesWithPlacement() throws {
        let gpu = Placement(constraints: [KeyValue("gpu", "true")], maxPerNode: 2)
        let dag = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "a", placement: Placement(constraints: [KeyValue("zone", "b")], maxPerNode: nil))])
        let spec = JobSpec(name: "j", schedule: CronSchedule(expression: "*/5 * * * *"), dag: dag, historyLimit: 7,
                           placement: gpu, notify: Self.rules)
        let submit = Command.submitJob(SubmitJob(jobID: "j", spec: spec, runID: "r", firstFireAt: Timestamp(60_000)))
        let submitBytes = CommandCodec.encode(submit, at: Timestamp(5))
        #expect(submitBytes[2] == 24)
        #expect(try CommandCodec.decode(submitBytes).command == submit)
        #expect(submit.minimumFormatVersion == CommandCodec.notifyRules)
        let edit = Command.editJob(EditJob(jobID: "j", spec: spec, expectedVersion: 1))
        let editBytes = CommandCodec.encode(edit, at: Timestamp(5))
        #expect(editBytes[2] == 25)
        #expect(try CommandCodec.decode(editBytes).command == edit)
        // A placement without rules keeps the placement wrapper (tag 23) around the plain edit tag.
        let placedOnly = Command.editJob(EditJob(jobID: "j", spec: JobSpec(name: "j", placement: gpu), expectedVersion: 1))
        let placedBytes = CommandCodec.encode(placedOnly, at: Timestamp(5))
        #expect(placedBytes[2] == 23 && placedBytes[3] == 21)
        #expect(try CommandCodec.decode(placedBytes).command == placedOnly)

        var state = SchedulerState()
        _ = state.apply(submit, at: Timestamp(5))
        let bytes = state.snapshot()
        #expect(bytes[4] == 8)
        let restored = try SchedulerState(snapshot: bytes)
        #expect(restored.job("j")?.spec == spec)
        #expect(restored.snapshot() == bytes)
    }
}
