import NodeCore
import RaftCore
import SchedulerCore
import Testing

/// The leader stamps a late cron fire's folded due times (entry tag 31) only when every member
/// decodes them (command format ``CommandCodec/missedFireNotices``); below that it writes the
/// older fire and nobody derives a notification for the folded fires.
@Suite("Missed fires: the leader's format gate")
struct MissedFireGateTests {
    static let t0 = Timestamp(1_800_000_000_000)
    static let minute: Int64 = 60_000

    /// A leader whose peers probed with `formats` and hold their leases.
    static func leader(formats: [Raft.NodeID: UInt32]) -> (LeaderSide, MonotonicTime) {
        let start = MonotonicTime(.seconds(100))
        var leader = LeaderSide(id: "n1", settings: NodeCore.Settings(lease: .seconds(5), leaseMargin: .seconds(7),
                                                                      voters: ["n1", "n2", "n3"],
                                                                      slots: ["n1": 2, "n2": 2, "n3": 2]),
                                started: start)
        leader.leadership(since: start)
        for (peer, format) in formats.sorted(by: { $0.key < $1.key }) {
            let first = LeaseProbe(sequence: 1, lastEcho: 0, appliedIndex: 0, wallClockMilliseconds: t0.milliseconds,
                                   commandFormatVersion: format)
            let echo = leader.probeReceived(first, from: peer, at: start)
            let second = LeaseProbe(sequence: 2, lastEcho: echo?.echoID ?? 0, appliedIndex: 0,
                                    wallClockMilliseconds: t0.milliseconds, commandFormatVersion: format)
            _ = leader.probeReceived(second, from: peer, at: start)
        }
        return (leader, start)
    }

    /// A state with an every-minute cron job first due at `t0 + 1 min`.
    static func lateCronState() -> SchedulerState {
        var state = SchedulerState()
        var events: [SchedulerEvent] = []
        let spec = JobSpec(name: "c", schedule: CronSchedule(expression: "* * * * *"),
                           notify: [NotificationRule(on: [.missed], webhook: "https://hooks.example.com/q")])
        state.apply(.submitJob(SubmitJob(jobID: "c", spec: spec, runID: "unused", firstFireAt: t0.adding(milliseconds: minute))),
                    at: t0, index: 1, into: &events)
        return state
    }

    static func fires(in command: Command) -> [FireCron] {
        switch command {
        case .fireCron(let f): [f]
        case .batch(let commands): commands.flatMap(fires(in:))
        default: []
        }
    }

    /// The fires the leader proposes ten minutes late, with peers at `formats`.
    static func lateFires(formats: [Raft.NodeID: UInt32]) throws -> [FireCron] {
        var (leader, start) = Self.leader(formats: formats)
        let planned = leader.dutyRound(at: start, commitIndex: .zero)
        let round = try #require(planned)
        let entries = round.entries(state: lateCronState(), stamp: t0.adding(milliseconds: 10 * minute + 500), nextRunID: { "c-10" })
        return entries.flatMap(fires(in:))
    }

    @Test("every member at format 13: the fire carries its 9 folded due times, first and last")
    func stampedWhenAllDecode() throws {
        let fires = try Self.lateFires(formats: ["n2": CommandCodec.missedFireNotices, "n3": CommandCodec.missedFireNotices])
        try #require(fires.count == 1)
        #expect(fires[0].scheduledAt == Self.t0.adding(milliseconds: 10 * Self.minute) && fires[0].missedBefore == 9)
        #expect(fires[0].missedRange == MissedFireRange(first: Self.t0.adding(milliseconds: Self.minute), last: Self.t0.adding(milliseconds: 9 * Self.minute)))
    }

    @Test("a member at format 12: the older fire, counted but no range, so no notification anywhere")
    func notStampedBelow13() throws {
        let fires = try Self.lateFires(formats: ["n2": CommandCodec.missedFireNotices, "n3": CommandCodec.assignmentIncarnations])
        try #require(fires.count == 1)
        #expect(fires[0].missedBefore == 9 && fires[0].missedRange == nil)
        var state = Self.lateCronState()
        var events: [SchedulerEvent] = []
        state.apply(.fireCron(fires[0]), at: Self.t0.adding(milliseconds: 10 * Self.minute + 500), index: 2, into: &events)
        #expect(state.notifications.isEmpty)
        #expect(state.job("c")?.missedFires == 9)
    }

    @Test("an on-time fire carries no range at any format")
    func onTimeFireUnchanged() throws {
        var (leader, start) = Self.leader(formats: ["n2": CommandCodec.missedFireNotices, "n3": CommandCodec.missedFireNotices])
        let planned = leader.dutyRound(at: start, commitIndex: .zero)
        let round = try #require(planned)
        let entries = round.entries(state: Self.lateCronState(), stamp: Self.t0.adding(milliseconds: Self.minute), nextRunID: { "c-1" })
        let fires = entries.flatMap(Self.fires(in:))
        #expect(fires.count == 1 && fires[0].missedBefore == 0 && fires[0].missedRange == nil)
    }
}
