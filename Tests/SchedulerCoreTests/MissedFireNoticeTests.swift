import BinaryCoding
import SchedulerCore
import Testing

/// The `missed` notification for the due times a late leader folds into one fire (issue #17):
/// derived on apply only from a fire that carries its folded range (entry tag 31, command format
/// 13), identical on every replica and through snapshot version 10.
@Suite("Missed fires: one notification for the fires a late leader folds")
struct MissedFireNoticeTests {
    private static let hook = "https://hooks.example.com/q"
    private static let minute: Int64 = 60_000
    private static let t0 = Timestamp(3_600_000)

    /// A cron job (every minute, `misfire = run_once`) with `rules`, then a fire stamped 10 minutes
    /// late that folds the 9 earlier due times (with their range when `marked`).
    private static func lateLog(rules: [NotificationRule], marked: Bool,
                                settings: NotificationSettings? = nil) -> [StampedCommand] {
        var log: [StampedCommand] = []
        if let settings { log.append(StampedCommand(at: t0, command: .notificationSettings(settings))) }
        let spec = JobSpec(name: "nightly", schedule: CronSchedule(expression: "* * * * *"), retry: RetryPolicy(jitter: false),
                           misfire: .runOnce, notify: rules)
        log.append(StampedCommand(at: t0, command: .submitJob(SubmitJob(jobID: "c", spec: spec, runID: "unused",
                                                                         firstFireAt: t0 + minute))))
        let range = marked ? MissedFireRange(first: t0 + minute, last: t0 + 9 * minute) : nil
        log.append(StampedCommand(at: t0 + 10 * minute + 500, command: .fireCron(FireCron(
            jobID: "c", scheduledAt: t0 + 10 * minute, nextFireAt: t0 + 11 * minute, runID: "c-10",
            missedBefore: 9, missedRange: range))))
        return log
    }

    /// Applies `log` through the encoded entries at indexes `first`, `first + 1`, … (what every replica does).
    private static func replay(_ log: [StampedCommand], into state: inout SchedulerState, from first: UInt64 = 1) throws {
        for (offset, stamped) in log.enumerated() {
            let decoded = try CommandCodec.decode(CommandCodec.encode(stamped))
            var events: [SchedulerEvent] = []
            state.apply(decoded.command, at: decoded.at, index: first + UInt64(offset), into: &events)
        }
    }

    @Test("a marked fire derives one missed notification with the count and range; the fire itself runs")
    func markedFireNotifies() throws {
        var state = SchedulerState()
        try Self.replay(Self.lateLog(rules: [NotificationRule(on: [.missed], webhook: Self.hook)], marked: true), into: &state)
        let pending = state.notifications.records(in: .pending)
        try #require(pending.count == 1)
        #expect(pending[0].trigger == .missed)
        #expect(pending[0].jobID == "c" && pending[0].runID == nil)
        #expect(pending[0].missedFires == MissedFires(count: 9, first: Self.t0 + Self.minute, last: Self.t0 + 9 * Self.minute))
        #expect(pending[0].eventID == "ev-0000000002000000", "entry 2, its first triggering event")
        #expect(state.job("c")?.missedFires == 9)
        #expect(state.run("c-10") != nil, "run_once: the stamped fire still runs")
    }

    @Test("an unmarked fire (format 12 spelling) counts the folded fires and notifies nothing")
    func unmarkedFireIsQuiet() throws {
        var state = SchedulerState()
        try Self.replay(Self.lateLog(rules: [NotificationRule(on: [.missed], webhook: Self.hook)], marked: false), into: &state)
        #expect(state.notifications.isEmpty)
        #expect(state.job("c")?.missedFires == 9)
    }

    @Test("a job that does not ask for missed gets nothing; the cluster default's missed reaches it")
    func onlyWhenAsked() throws {
        var quiet = SchedulerState()
        try Self.replay(Self.lateLog(rules: [NotificationRule(on: [.dead], webhook: Self.hook)], marked: true), into: &quiet)
        #expect(quiet.notifications.isEmpty)
        var defaulted = SchedulerState()
        let settings = NotificationSettings(defaults: NotificationRule(on: [.missed], email: ["ops@example.com"]))
        try Self.replay(Self.lateLog(rules: [], marked: true, settings: settings), into: &defaulted)
        #expect(defaulted.notifications.records(in: .pending).map(\.missedFires?.count) == [9])
    }

    @Test("a skip job late past its deadline: one notification for the folded fires, one for the stamped fire")
    func skipJobNotifiesBoth() throws {
        var log = Self.lateLog(rules: [NotificationRule(on: [.missed], webhook: Self.hook)], marked: true)
        let spec = JobSpec(name: "nightly", schedule: CronSchedule(expression: "* * * * *"), retry: RetryPolicy(jitter: false),
                           misfire: .skip, startingDeadlineMs: 100, notify: [NotificationRule(on: [.missed], webhook: Self.hook)])
        log[0] = StampedCommand(at: Self.t0, command: .submitJob(SubmitJob(jobID: "c", spec: spec, runID: "unused",
                                                                            firstFireAt: Self.t0 + Self.minute)))
        var state = SchedulerState()
        try Self.replay(log, into: &state)
        let pending = state.notifications.records(in: .pending)
        #expect(pending.map(\.eventID) == ["ev-0000000002000000", "ev-0000000002000001"])
        #expect(pending.map(\.missedFires?.count) == [9, nil])
        #expect(state.job("c")?.missedFires == 10)
    }

    @Test("two replicas, one restored from a snapshot, hold the same record; the image is version 10 only with one")
    func stableThroughSnapshot() throws {
        let log = Self.lateLog(rules: [NotificationRule(on: [.missed], webhook: Self.hook)], marked: true)
        var a = SchedulerState()
        try Self.replay(log, into: &a)
        var b = SchedulerState()
        try Self.replay(Array(log.prefix(1)), into: &b)
        #expect(b.snapshot()[4] < SchedulerSnapshot.versionWithMissedFires)
        b = try SchedulerState(snapshot: b.snapshot())
        try Self.replay(Array(log.dropFirst(1)), into: &b, from: 2)
        #expect(a.notifications == b.notifications)
        #expect(a.snapshot() == b.snapshot())
        #expect(a.snapshot()[4] == SchedulerSnapshot.versionWithMissedFires)
        let restored = try SchedulerState(snapshot: a.snapshot())
        #expect(restored.notifications == a.notifications)
        #expect(restored.snapshot() == a.snapshot())

        var unmarked = SchedulerState()
        try Self.replay(Self.lateLog(rules: [NotificationRule(on: [.missed], webhook: Self.hook)], marked: false), into: &unmarked)
        #expect(unmarked.snapshot()[4] < SchedulerSnapshot.versionWithMissedFires)
    }

    @Test("tag 31 round-trips, needs format 13, and below 13 the leader writes tag 17 without the range")
    func gateAndEncoding() throws {
        let fire = FireCron(jobID: "c", scheduledAt: Self.t0 + 10 * Self.minute, nextFireAt: nil, runID: "r", missedBefore: 9,
                            missedRange: MissedFireRange(first: Self.t0 + Self.minute, last: Self.t0 + 9 * Self.minute))
        let marked = StampedCommand(at: Self.t0, command: .fireCron(fire))
        let bytes = CommandCodec.encode(marked)
        #expect(try CommandCodec.decode(bytes) == marked)
        #expect(Command.fireCron(fire).minimumFormatVersion == CommandCodec.missedFireNotices)
        #expect(CommandCodec.missedFireNotices == 13 && CommandCodec.buildFormatVersion >= 13)
        #expect(Command.batch([.fireCron(fire)]).minimumFormatVersion == CommandCodec.missedFireNotices)

        let old = Command.fireCron(fire).compatible(withFormat: CommandCodec.assignmentIncarnations)
        guard case .fireCron(let downgraded) = old else { Issue.record("not a fire: \(old)"); return }
        #expect(downgraded.missedRange == nil && downgraded.missedBefore == 9)
        #expect(old.minimumFormatVersion == CommandCodec.urlSafeTaskRunIDs)
        #expect(Command.fireCron(fire).compatible(withFormat: CommandCodec.missedFireNotices) == .fireCron(fire))
        #expect(Command.batch([.fireCron(fire)]).compatible(withFormat: 12) == .batch([old]))
    }

    @Test("a tag 31 with a bad range or no folded fires is a decode error naming it, never a trap")
    func badRangeRefused() throws {
        for (missed, first, last) in [(9, Self.t0 + 9 * Self.minute, Self.t0 + Self.minute),
                                      (9, Self.t0, Self.t0 + 10 * Self.minute)] {
            let fire = FireCron(jobID: "c", scheduledAt: Self.t0 + 10 * Self.minute, nextFireAt: nil, runID: "r",
                                missedBefore: missed, missedRange: MissedFireRange(first: first, last: last))
            #expect(throws: DecodeError.self) { try CommandCodec.decode(CommandCodec.encode(StampedCommand(at: Self.t0, command: .fireCron(fire)))) }
        }
        // missedBefore 0: the range is not written (tag 17), so nothing to refuse and nothing derived.
        let none = FireCron(jobID: "c", scheduledAt: Self.t0, nextFireAt: nil, runID: "r", missedBefore: 0,
                            missedRange: MissedFireRange(first: Self.t0 + -1, last: Self.t0 + -1))
        let decoded = try CommandCodec.decode(CommandCodec.encode(StampedCommand(at: Self.t0, command: .fireCron(none))))
        #expect(decoded.command == .fireCron(FireCron(jobID: "c", scheduledAt: Self.t0, nextFireAt: nil, runID: "r")))
    }
}
