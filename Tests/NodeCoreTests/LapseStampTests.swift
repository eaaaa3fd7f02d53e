import NodeCore
import RaftCore
import SchedulerCore
import Testing

/// The lapse rule (``ExecutorOrders/admitted(_:in:fenced:proven:startedWithoutLog:incarnation:process:startedAt:now:killGraceMs:lapseEnded:)``)
/// judged against the leader's stamp in the echo that brought the lease back (echo version 3,
/// command format 16), not against the executor's own wall clock — which may have stepped while
/// it was cut off (the scheduler simulator, seed 4209 with five nodes).
@Suite("The lapse rule judges against the leader's stamp")
struct LapseStampTests {
    let t0 = MonotonicTime(.seconds(100))
    /// The cluster's time at `t0` (the leader's wall clock, and the executor's until it steps).
    let clusterTime = Timestamp(1_800_000_000_000)
    let settings = NodeCore.Settings(lease: .seconds(5), leaseMargin: .seconds(7), voters: ["n1", "n2", "n3"],
                                     slots: ["n1": 2, "n2": 2, "n3": 2])

    /// Executor n2 proves its lease at `t0`, is cut off for 11 s while its wall clock steps an
    /// hour back, gets its lease back on an echo (`stamped`: carrying the leader's time), then
    /// applies what it missed: job `a` assigned to it 1 s after `t0` (before the lapse: the
    /// leader has since expired it and retried it elsewhere) and job `b` assigned after the lease
    /// came back. Returns the runs it starts.
    func startsAfterLapse(stamped: Bool) -> [RunID] {
        var executor = NodeCore(id: "n2", settings: settings, started: t0, startedWall: clusterTime)
        func roundTrip(at now: MonotonicTime, leaderTime: Timestamp, wall: Timestamp) {
            let directives = executor.executorTick(at: now, wallClock: wall, leader: "n1")
            guard case .sendProbe(_, let probe, _)? = directives.first else {
                Issue.record("expected a probe, got \(directives)")
                return
            }
            let echo = LeaseEcho(sequence: probe.sequence, echoID: probe.sequence, features: .thisBuild,
                                 leaderStamp: stamped ? leaderTime : nil)
            guard let decoded = try? LeaseEcho(decoding: echo.encoded()) else {
                Issue.record("the echo did not decode")
                return
            }
            executor.echoReceived(decoded, from: "n1", at: now + .milliseconds(5))
        }
        let stepped = clusterTime.adding(milliseconds: -3_600_000)  // the executor's clock, an hour behind
        roundTrip(at: t0, leaderTime: clusterTime, wall: clusterTime)
        roundTrip(at: t0 + .seconds(11), leaderTime: clusterTime.adding(milliseconds: 11_000), wall: stepped.adding(milliseconds: 11_000))
        let deadline = clusterTime.adding(milliseconds: 600_000)
        let entries: [(index: Raft.LogIndex, command: StampedCommand)] = [
            (Raft.LogIndex(1), StampedCommand(at: clusterTime, command: .submitJob(SubmitJob(jobID: "a", spec: JobSpec(name: "a"), runID: "ra")))),
            (Raft.LogIndex(2), StampedCommand(at: clusterTime, command: .submitJob(SubmitJob(jobID: "b", spec: JobSpec(name: "b"), runID: "rb")))),
            (Raft.LogIndex(3), StampedCommand(at: clusterTime.adding(milliseconds: 1_000),
                               command: .assignAttempt(AssignAttempt(runID: "ra", executor: "n2", attempt: 1, deadline: deadline)))),
            (Raft.LogIndex(4), StampedCommand(at: clusterTime.adding(milliseconds: 11_500),
                               command: .assignAttempt(AssignAttempt(runID: "rb", executor: "n2", attempt: 1, deadline: deadline)))),
        ]
        let now = t0 + .milliseconds(11_600)
        let (directives, _) = executor.apply(entries, clock: (now, stepped.adding(milliseconds: 11_600)))
        return directives.compactMap { directive in
            if case .start(let order) = directive { return order.runID }
            return nil
        }
    }

    @Test("after a lapse, an executor whose clock stepped back starts only what was assigned after its lease came back")
    func steppedClockStartsNothingFromBeforeTheLapse() {
        #expect(startsAfterLapse(stamped: true) == ["rb"])
    }

    /// What a leader before format 16 leaves: the lapse's end converted through the executor's
    /// own wall clock, an hour behind, lets the expired assignment start beside its retry.
    @Test("from an echo without a stamp the executor's own clock decides, and a stepped clock lets the old assignment start")
    func unstampedEchoKeepsTheClockRule() {
        #expect(startsAfterLapse(stamped: false) == ["ra", "rb"])
    }

    @Test("the stamp of the echo that ended the latest lapse is kept; a lapse ended by leading clears it")
    func stampFollowsTheLatestLapse() {
        var lease = ExecutorLease(lease: .seconds(2), started: t0)
        func roundTrip(at time: MonotonicTime, stamp: Timestamp?) {
            let sent = lease.probe("n1", at: time, appliedIndex: Raft.LogIndex(1), wallClock: Timestamp(0), legacyAfter: .seconds(1))
            lease.echoed(sent.probe.sequence, by: "n1", echoID: sent.probe.sequence, leaderStamp: stamp, at: time + .milliseconds(5))
        }
        roundTrip(at: t0 + .seconds(1), stamp: Timestamp(1_000))
        #expect(lease.lastLapseEndedStamp == nil)  // no lapse yet
        roundTrip(at: t0 + .seconds(5), stamp: Timestamp(5_000))
        #expect(lease.lastLapseEnded == t0 + .seconds(5))
        #expect(lease.lastLapseEndedStamp == Timestamp(5_000))
        roundTrip(at: t0 + .seconds(6), stamp: Timestamp(6_000))  // within the lease: not a lapse
        #expect(lease.lastLapseEndedStamp == Timestamp(5_000))
        lease.leading(at: t0 + .seconds(9))
        #expect(lease.lastLapseEnded == t0 + .seconds(9))
        #expect(lease.lastLapseEndedStamp == nil)
    }

    @Test("a leader stamps its echo with no earlier time than it stamped or saw applied, and only for builds of format 16 on")
    func leaderStampsEchoes() throws {
        var leader = LeaderSide(id: "n1", settings: settings, started: t0)
        leader.leadership(since: t0)
        // An entry applied at a time ahead of this leader's own clock (an earlier leader's).
        leader.observe(logStamp: clusterTime.adding(milliseconds: 800), own: clusterTime, at: t0)
        func probe(_ sequence: UInt64, format: UInt32, lastEcho: UInt64 = 0) -> LeaseProbe {
            LeaseProbe(sequence: sequence, lastEcho: lastEcho, appliedIndex: 0, wallClockMilliseconds: clusterTime.milliseconds,
                       commandFormatVersion: format)
        }
        let currentEcho = leader.probeReceived(probe(1, format: CommandCodec.leaderStampedEchoes), from: "n2", at: t0,
                                               wallClock: clusterTime)
        let current = try #require(currentEcho)
        #expect(current.leaderStamp == clusterTime.adding(milliseconds: 800))
        #expect(current.encoded().first == 3)
        #expect(try LeaseEcho(decoding: current.encoded()) == current)
        let laterEcho = leader.probeReceived(probe(1, format: CommandCodec.leaderStampedEchoes), from: "n3",
                                             at: t0 + .seconds(2), wallClock: clusterTime.adding(milliseconds: 2_000))
        let later = try #require(laterEcho)
        #expect(later.leaderStamp == clusterTime.adding(milliseconds: 2_000))
        let olderEcho = leader.probeReceived(probe(2, format: CommandCodec.leaderStampedEchoes - 1, lastEcho: current.echoID), from: "n2",
                                             at: t0 + .seconds(2), wallClock: clusterTime.adding(milliseconds: 2_000))
        let older = try #require(olderEcho)
        #expect(older.leaderStamp == nil)
        #expect(older.encoded().first == 2)
        // Replayed or restored state ahead of this leader's clock (earlier leaders stamped it):
        // the echo carries the applied time, never less.
        leader.noteApplied(time: clusterTime.adding(milliseconds: 60_000))
        let aheadEcho = leader.probeReceived(probe(1, format: CommandCodec.leaderStampedEchoes, lastEcho: later.echoID), from: "n3",
                                             at: t0 + .seconds(3), wallClock: clusterTime.adding(milliseconds: 3_000))
        #expect(try #require(aheadEcho).leaderStamp == clusterTime.adding(milliseconds: 60_000))
    }

    @Test("a node's applied state sets the floor of its echoes' stamps, replayed entries included")
    func appliedTimeFloorsEchoes() throws {
        var core = NodeCore(id: "n1", settings: settings, started: t0, startedWall: clusterTime, replayThrough: Raft.LogIndex(1))
        // Replayed from disk: stamped by an earlier leader whose clock ran ahead of this node's.
        _ = core.apply([(Raft.LogIndex(1), StampedCommand(at: clusterTime.adding(milliseconds: 90_000), command: .tick))],
                       clock: (t0, clusterTime))
        core.leadership(since: t0)
        let probe = LeaseProbe(sequence: 1, lastEcho: 0, appliedIndex: 1, wallClockMilliseconds: clusterTime.milliseconds,
                               commandFormatVersion: CommandCodec.leaderStampedEchoes)
        guard case .sendEcho(_, let echo)? = core.probeReceived(probe, from: "n2", at: t0, wallClock: clusterTime).first else {
            Issue.record("expected an echo")
            return
        }
        #expect(echo.leaderStamp == clusterTime.adding(milliseconds: 90_000))
    }

    @Test("a version-3 echo cut anywhere, or with a byte more, is an error, never a trap")
    func truncatedEchoes() {
        let bytes = LeaseEcho(sequence: 7, echoID: 9, features: .thisBuild, leaderStamp: Timestamp(-1)).encoded()
        #expect((try? LeaseEcho(decoding: bytes))?.leaderStamp == Timestamp(-1))
        for cut in 0 ..< bytes.count {
            #expect(throws: (any Error).self) { try LeaseEcho(decoding: Array(bytes[..<cut])) }
        }
        #expect(throws: (any Error).self) { try LeaseEcho(decoding: bytes + [0]) }
    }
}
