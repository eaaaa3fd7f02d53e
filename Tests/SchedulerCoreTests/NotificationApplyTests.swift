import BinaryCoding
import SchedulerCore
import Testing

/// Notifications inside the replicated state: derived on apply from the entry's log index,
/// moved by the leader's settings and outcome entries (tags 26, 27), kept in snapshot version 8.
@Suite("Notifications in the state: apply, outcomes, settings, snapshots")
struct NotificationApplyTests {
    private static let hook = "https://hooks.example.com/q"
    private static let t0 = Timestamp(1_000_000)

    /// A log: a once job (with `rules`) that fails its only attempt, each entry stamped a second apart.
    private static func deadJobLog(rules: [NotificationRule], settings: NotificationSettings? = nil) -> [StampedCommand] {
        var log: [StampedCommand] = []
        if let settings { log.append(StampedCommand(at: t0, command: .notificationSettings(settings))) }
        let spec = JobSpec(name: "nightly", retry: RetryPolicy(maxAttempts: 1, jitter: false), notify: rules)
        log.append(StampedCommand(at: t0, command: .submitJob(SubmitJob(jobID: "j", spec: spec, runID: "r"))))
        log.append(StampedCommand(at: t0 + 1_000, command: .assignAttempt(
            AssignAttempt(runID: "r", executor: "n1", attempt: 1, deadline: t0 + 60_000))))
        log.append(StampedCommand(at: t0 + 2_000, command: .finishAttempt(FinishAttempt(
            runID: "r", attempt: 1, report: AttemptReport(outcome: .failed, exitCode: 2, outputTail: "boom", error: "exit 2")))))
        return log
    }

    /// Applies `log` through the encoded entries at indexes 1, 2, … (what every replica does).
    private static func replay(_ log: [StampedCommand], into state: inout SchedulerState, from first: UInt64 = 1) throws {
        for (offset, stamped) in log.enumerated() {
            let decoded = try CommandCodec.decode(CommandCodec.encode(stamped))
            var events: [SchedulerEvent] = []
            state.apply(decoded.command, at: decoded.at, index: first + UInt64(offset), into: &events)
        }
    }

    @Test("a dead job with a rule leaves one pending notification keyed by the entry's log index")
    func deadJobPending() throws {
        var state = SchedulerState()
        try Self.replay(Self.deadJobLog(rules: [NotificationRule(on: [.dead], webhook: Self.hook)]), into: &state)
        let pending = state.notifications.records(in: .pending)
        try #require(pending.count == 1)
        #expect(pending[0].trigger == .dead)
        #expect(pending[0].key == NotificationKey(event: 3_000_000, destination: 0), "entry 3, first triggering event")
        #expect(pending[0].eventID == "ev-0000000003000000")
        #expect(pending[0].nextAttemptAt == Self.t0 + 2_000 && pending[0].tries == 0)
        #expect(state.notifications.due(at: Self.t0 + 2_000, limit: 10).map(\.key) == [pending[0].key])
    }

    @Test("nothing is recorded for a job whose notify does not ask; the stamped [notify] defaults reach every job")
    func onlyWhenAsked() throws {
        var quiet = SchedulerState()
        try Self.replay(Self.deadJobLog(rules: [NotificationRule(on: [.succeeded], webhook: Self.hook)]), into: &quiet)
        #expect(quiet.notifications.isEmpty)
        var defaulted = SchedulerState()
        let settings = NotificationSettings(defaults: NotificationRule(on: [.dead], email: ["ops@example.com"]), maxPending: 5)
        try Self.replay(Self.deadJobLog(rules: [], settings: settings), into: &defaulted)
        #expect(defaulted.notificationSettings == settings)
        #expect(defaulted.notifications.records(in: .pending).map(\.destination) == [.email(["ops@example.com"])])
    }

    @Test("two replicas, one restored from the other's snapshot midway, hold the same table and digest")
    func deterministicThroughSnapshot() throws {
        let log = Self.deadJobLog(rules: [NotificationRule(on: [.dead, .failed], webhook: Self.hook, email: ["a@x.org"])],
                                  settings: NotificationSettings(defaults: NotificationRule(on: [.dead], webhook: "https://d.example.com")))
        var a = SchedulerState()
        try Self.replay(log, into: &a)
        let key = try #require(a.notifications.records(in: .pending).first?.key)
        let outcome = StampedCommand(at: Self.t0 + 3_000, command: .notificationOutcomes([
            .retry(key, tries: 1, nextAttemptAt: Self.t0 + 20_000, error: "HTTP 503")]))
        try Self.replay([outcome], into: &a, from: 5)

        var b = SchedulerState()
        try Self.replay(Array(log.prefix(2)), into: &b)
        b = try SchedulerState(snapshot: b.snapshot())
        try Self.replay(Array(log.dropFirst(2)), into: &b, from: 3)
        try Self.replay([outcome], into: &b, from: 5)
        #expect(a.notifications == b.notifications)
        #expect(a.snapshot() == b.snapshot())
        let restored = try SchedulerState(snapshot: a.snapshot())
        #expect(restored.notifications == a.notifications && restored.notificationSettings == a.notificationSettings)
        // The restored table rebuilt its due index: it offers the same, at the same times.
        let later = Self.t0 + 60_000
        #expect(restored.notifications.due(at: later, limit: 10) == a.notifications.due(at: later, limit: 10))
        #expect(restored.notifications.nextDueAt == a.notifications.nextDueAt && a.notifications.nextDueAt != nil)
        #expect(a.snapshot()[4] == SchedulerSnapshot.versionWithNotifications)
    }

    @Test("outcomes: retry moves next_attempt_at and tries, delivered settles once; a late outcome changes nothing")
    func outcomes() throws {
        var state = SchedulerState()
        try Self.replay(Self.deadJobLog(rules: [NotificationRule(on: [.dead], webhook: Self.hook)]), into: &state)
        let key = try #require(state.notifications.records(in: .pending).first?.key)
        let steps: [NotificationOutcome] = [
            .retry(key, tries: 1, nextAttemptAt: Self.t0 + 30_000, error: "HTTP 500"),
            .retry(key, tries: 2, nextAttemptAt: Self.t0 + 60_000, error: "HTTP 500"),
        ]
        try Self.replay([StampedCommand(at: Self.t0 + 3_000, command: .notificationOutcomes(steps))], into: &state, from: 4)
        #expect(state.notifications.due(at: Self.t0 + 59_999, limit: 10).isEmpty)
        #expect(state.notifications.records(in: .pending).first?.tries == 2)
        try Self.replay([StampedCommand(at: Self.t0 + 61_000, command: .notificationOutcomes([.delivered(key, tries: 3)]))],
                        into: &state, from: 5)
        #expect(state.notifications.records(in: .pending).isEmpty)
        #expect(state.notifications.records(in: .delivered).map(\.tries) == [3])
        // A deposed leader's late outcome for the same notification: already settled, nothing moves.
        try Self.replay([StampedCommand(at: Self.t0 + 62_000, command: .notificationOutcomes([.failed(key, tries: 9, error: "late")]))],
                        into: &state, from: 6)
        #expect(state.notifications.records(in: .failed).isEmpty && state.notifications.deliveredTotal == 1)
    }

    @Test("max_pending caps the table; the overflow is counted")
    func cap() throws {
        var state = SchedulerState()
        let settings = NotificationSettings(defaults: NotificationRule(on: [.succeeded], webhook: Self.hook), maxPending: 2)
        var log = [StampedCommand(at: Self.t0, command: .notificationSettings(settings))]
        for n in 1...3 {
            log.append(StampedCommand(at: Self.t0, command: .submitJob(SubmitJob(jobID: JobID("j\(n)"), spec: JobSpec(name: "j"), runID: RunID("r\(n)")))))
            log.append(StampedCommand(at: Self.t0, command: .assignAttempt(AssignAttempt(runID: RunID("r\(n)"), executor: "n1", attempt: 1, deadline: Self.t0 + 9_000))))
            log.append(StampedCommand(at: Self.t0, command: .finishAttempt(FinishAttempt(runID: RunID("r\(n)"), attempt: 1, report: .success))))
        }
        try Self.replay(log, into: &state)
        #expect(state.notifications.pending.count == 2)
        #expect(state.notifications.dropped == 1)
    }

    @Test("settings and outcomes need format 10, round-trip their tags, and a bad cap or kind is refused")
    func coding() throws {
        let settings = Command.notificationSettings(NotificationSettings(defaults: NotificationRule(on: [.dead, .missed], webhook: Self.hook), maxPending: 7))
        let key = NotificationKey(event: 42_000_001, destination: 1)
        let outcomes = Command.notificationOutcomes([.delivered(key, tries: 1), .failed(key, tries: 8, error: "gave up"),
                                                     .retry(key, tries: 2, nextAttemptAt: Self.t0, error: "timeout")])
        for command in [settings, outcomes] {
            #expect(command.minimumFormatVersion == CommandCodec.notifications)
            #expect(try CommandCodec.decode(CommandCodec.encode(command, at: Self.t0)).command == command)
        }
        var bytes = CommandCodec.encode(.notificationOutcomes([.delivered(key, tries: 1)]), at: Self.t0)
        // Version and stamp as for any command, then the tag, the count (1) and the first kind byte.
        let tagOffset = CommandCodec.encode(.tick, at: Self.t0).count - 1
        #expect(bytes[tagOffset] == 27 && bytes[tagOffset + 2] == 0)
        bytes[tagOffset + 2] = 9
        #expect(throws: DecodeError.self) { try CommandCodec.decode(bytes) }
        var state = SchedulerState()
        let events = state.apply(.notificationSettings(NotificationSettings(maxPending: 0)), at: Self.t0)
        #expect(events.contains { if case .rejected = $0 { true } else { false } })
        #expect(state.notificationSettings == NotificationSettings())
    }

    @Test("a state without notifications keeps its older snapshot version")
    func olderVersionKept() {
        var state = SchedulerState()
        _ = state.apply(.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j"), runID: "r")), at: Self.t0)
        #expect(state.snapshot()[4] < SchedulerSnapshot.version)
    }
}
