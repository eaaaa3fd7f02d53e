import BinaryCoding
import SchedulerCore
import Testing

/// A one-off DAG run's own `notify` rules (command format 11, entry tag 28, snapshot version 9):
/// its `dag_failed` and its tasks' run events notify, through the log encoding and snapshots.
@Suite("notify rules on one-off DAG runs")
struct DAGNotifyRulesTests {
    private static let hook = "https://hooks.example.com/dag"
    private static let t0 = Timestamp(2_000_000)
    private static let rules = [NotificationRule(on: [.dagFailed, .dead], webhook: hook)]

    /// A one-task DAG run with `rules` whose task fails its only attempt, a second apart.
    private static func failingDAGLog(rules: [NotificationRule]) throws -> [StampedCommand] {
        let task = DAGTaskSpec(id: "a", retry: RetryPolicy(maxAttempts: 1, jitter: false))
        let spec = try DAGSpec.validated(name: "etl", tasks: [task])
        let run = RunID.dagTask(DAGRunID("d1"), taskID: "a", style: .dot)
        return [
            StampedCommand(at: t0, command: .submitDAG(SubmitDAG(dagRunID: "d1", spec: spec, notify: rules))),
            StampedCommand(at: t0 + 1_000, command: .assignAttempt(AssignAttempt(runID: run, executor: "n1", attempt: 1, deadline: t0 + 60_000))),
            StampedCommand(at: t0 + 2_000, command: .finishAttempt(FinishAttempt(
                runID: run, attempt: 1, report: AttemptReport(outcome: .failed, exitCode: 1, outputTail: "", error: "exit 1")))),
        ]
    }

    /// Applies `log` through the encoded entries at indexes 1, 2, … (what every replica does).
    private static func replay(_ log: [StampedCommand], into state: inout SchedulerState) throws {
        for (offset, stamped) in log.enumerated() {
            let decoded = try CommandCodec.decode(CommandCodec.encode(stamped))
            #expect(decoded == stamped, "entry \(offset + 1) does not round-trip")
            var events: [SchedulerEvent] = []
            state.apply(decoded.command, at: decoded.at, index: UInt64(offset + 1), into: &events)
            #expect(!events.contains { if case .rejected = $0 { true } else { false } }, "\(events)")
        }
    }

    @Test("the run's own rules notify dead and dag_failed; without rules nothing is recorded")
    func ownRulesNotify() throws {
        var state = SchedulerState()
        try Self.replay(Self.failingDAGLog(rules: Self.rules), into: &state)
        let pending = state.notifications.records(in: .pending)
        #expect(pending.map(\.trigger) == [.dead, .dagFailed], "\(pending)")
        #expect(pending.allSatisfy { $0.dagRunID == DAGRunID("d1") && $0.jobID == nil && $0.destination == .webhook(Self.hook) })
        #expect(state.dagRun("d1")?.notify == Self.rules)

        var quiet = SchedulerState()
        try Self.replay(Self.failingDAGLog(rules: []), into: &quiet)
        #expect(quiet.notifications.isEmpty)
    }

    @Test("a submit with rules needs format 11 and has its own tag; without rules its bytes are unchanged")
    func encoding() throws {
        let log = try Self.failingDAGLog(rules: Self.rules)
        let withRules = log[0].command
        #expect(withRules.minimumFormatVersion == CommandCodec.dagNotifyRules)
        #expect(CommandCodec.buildFormatVersion >= CommandCodec.dagNotifyRules)
        // The version byte and the stamp come before the tag: as long as a tick's entry without its tag.
        let header = CommandCodec.encode(StampedCommand(at: Self.t0, command: .tick)).count - 1
        #expect(CommandCodec.encode(log[0])[header] == 28, "entry tag 28")
        let plain = try Self.failingDAGLog(rules: [])[0]
        #expect(plain.command.minimumFormatVersion < CommandCodec.dagNotifyRules)
        #expect(CommandCodec.encode(plain)[header] == 16, "the old DAG submit tag")
        // A hand-made tag 28 around a job submit is refused, not applied.
        var bytes = CommandCodec.encode(StampedCommand(at: Self.t0, command: .submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "x"), runID: "r"))))
        bytes.insert(30, at: header)
        #expect(throws: DecodeError.self) { try CommandCodec.decode(bytes) }
    }

    @Test("snapshot version 9 keeps a DAG run's rules; a state without them keeps its older version")
    func snapshots() throws {
        var state = SchedulerState()
        let log = try Self.failingDAGLog(rules: Self.rules)
        try Self.replay(Array(log.prefix(1)), into: &state)
        let bytes = state.snapshot()
        #expect(bytes[4] == SchedulerSnapshot.versionWithDAGNotifyRules)
        var restored = try SchedulerState(snapshot: bytes)
        #expect(restored.dagRun("d1")?.notify == Self.rules)
        #expect(restored.snapshot() == bytes)
        // The restored replica derives the same notifications as one that never restarted.
        var events: [SchedulerEvent] = []
        for (offset, stamped) in log.enumerated().dropFirst() {
            restored.apply(stamped.command, at: stamped.at, index: UInt64(offset + 1), into: &events)
        }
        var straight = SchedulerState()
        try Self.replay(log, into: &straight)
        #expect(restored.notifications == straight.notifications && restored.snapshot() == straight.snapshot())

        var plain = SchedulerState()
        try Self.replay(Array(try Self.failingDAGLog(rules: []).prefix(1)), into: &plain)
        #expect(plain.snapshot()[4] < SchedulerSnapshot.versionWithDAGNotifyRules)
    }
}
