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
}
