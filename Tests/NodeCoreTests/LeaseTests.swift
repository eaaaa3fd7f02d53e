@testable import NodeCore
import RaftCore
import SchedulerCore
import Testing

@Suite("Leases: round trips both ways, the fencing margin, bounded stamps, caught-up executors")
struct LeaseTests {
    let t0 = MonotonicTime(.seconds(100))
    let n2 = Raft.NodeID("n2")

    @Test("an executor's probe renews its lease only when it names an echo the leader sent, as of that echo's send time")
    func roundTripRenews() {
        var ledger = LeaseLedger()
        let leading = t0
        let echo = ledger.echo(to: n2, at: t0 + .seconds(1))
        ledger.probe(from: n2, lastEcho: echo, appliedIndex: 7, at: t0 + .seconds(2))
        #expect(ledger.proof(of: n2) == t0 + .seconds(1))
        #expect(ledger.appliedIndex(of: n2) == 7)
        #expect(ledger.holds(n2, at: t0 + .seconds(6), lease: .seconds(5), leadingSince: leading))
        #expect(!ledger.holds(n2, at: t0 + .milliseconds(6_001), lease: .seconds(5), leadingSince: leading))
    }

    /// The one-way partition: the executor's probes reach the leader, the leader's echoes never
    /// reach the executor. "Any inbound frame renews" kept its attempts `running` until their
    /// timeout while the executor had already fenced itself.
    @Test("one-way partition: probes keep arriving but name no new echo, so the lease runs out")
    func oneWayPartitionExpires() {
        var ledger = LeaseLedger()
        let first = ledger.echo(to: n2, at: t0)
        ledger.probe(from: n2, lastEcho: first, appliedIndex: 1, at: t0 + .milliseconds(100))
        // From here on every echo is lost: the executor keeps naming `first`.
        for step in 1...100 {
            let now = t0 + .milliseconds(100 * step)
            _ = ledger.echo(to: n2, at: now)
            ledger.probe(from: n2, lastEcho: first, appliedIndex: 1, at: now + .milliseconds(50))
        }
        #expect(ledger.proof(of: n2) == t0)
        #expect(!ledger.holds(n2, at: t0 + .seconds(10), lease: .seconds(5), leadingSince: t0 - .seconds(1)))
    }

    @Test("a probe naming an unknown or another peer's echo proves nothing; a new leader gives the benefit of the doubt from taking office")
    func foreignEchoes() {
        var ledger = LeaseLedger()
        let forN3 = ledger.echo(to: Raft.NodeID("n3"), at: t0)
        ledger.probe(from: n2, lastEcho: forN3, appliedIndex: 0, at: t0)
        ledger.probe(from: n2, lastEcho: 999, appliedIndex: 0, at: t0)
        #expect(ledger.proof(of: n2) == nil)
        #expect(ledger.holds(n2, at: t0 + .seconds(4), lease: .seconds(5), leadingSince: t0))
        #expect(!ledger.holds(n2, at: t0 + .seconds(6), lease: .seconds(5), leadingSince: t0))
    }

    @Test("the lease probe and echo round-trip through their encoding; a truncated or unknown-version frame is an error")
    func probeEncoding() throws {
        let probe = LeaseProbe(sequence: 42, lastEcho: 7, appliedIndex: 1_000_000, wallClockMilliseconds: -5,
                               commandFormatVersion: 1, finishReports: [[1, 2, 3]])
        #expect(try LeaseProbe(decoding: probe.encoded()) == probe)
        let echo = LeaseEcho(sequence: 42, echoID: 9)
        #expect(try LeaseEcho(decoding: echo.encoded()) == echo)
        let bytes = probe.encoded()
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self) { try LeaseProbe(decoding: Array(bytes[..<cut])) }
        }
        var future = bytes
        future[0] = 9
        #expect(throws: (any Error).self) { try LeaseProbe(decoding: future) }
    }

    /// A forward jump of the leader's wall clock used to move scheduler time for good: cron
    /// fires and retries stalled until real time caught up.
    @Test("a leader whose clock jumped ahead of a majority stamps the majority's time plus the tolerance")
    func forwardJumpIsBounded() {
        let voters: Set<Raft.NodeID> = ["n1", "n2", "n3"]
        var bound = ClockBound(tolerance: .seconds(1), maxReportAge: .seconds(10))
        let real = Timestamp(1_800_000_000_000)
        bound.record("n2", wallClock: real, at: t0)
        bound.record("n3", wallClock: real.adding(milliseconds: 20), at: t0)
        let jumped = real.adding(milliseconds: 3_600_000)
        let result = bound.bound(jumped, at: t0 + .milliseconds(500), voters: voters, self: "n1")
        #expect(result.jumped)
        #expect(result.stamp == real.adding(milliseconds: 500 + 1_000 + 20))
        // Within the tolerance, the leader's own clock stands.
        let fine = bound.bound(real.adding(milliseconds: 1_200), at: t0 + .milliseconds(500), voters: voters, self: "n1")
        #expect(!fine.jumped && fine.stamp == real.adding(milliseconds: 1_200))
    }

    /// A backward jump used to hold scheduler time still: a command applies at `max(its stamp,
    /// the last applied time)`, so cron fires, retries and deadlines waited for up to the skew
    /// (issue #15, the chaos run's `clock` finding).
    @Test("a leader whose clock is behind a majority stamps the majority's time minus the tolerance")
    func backwardJumpIsBounded() {
        let voters: Set<Raft.NodeID> = ["n1", "n2", "n3"]
        var bound = ClockBound(tolerance: .seconds(1), maxReportAge: .seconds(10))
        let real = Timestamp(1_800_000_000_000)
        bound.record("n2", wallClock: real, at: t0)
        bound.record("n3", wallClock: real.adding(milliseconds: 20), at: t0)
        let behind = real.adding(milliseconds: -300_000)
        let result = bound.bound(behind, at: t0 + .milliseconds(500), voters: voters, self: "n1")
        #expect(result.jumped)
        #expect(result.stamp == real.adding(milliseconds: 500 - 1_000))
        // Within the tolerance, the leader's own clock stands.
        let fine = bound.bound(real.adding(milliseconds: -400), at: t0 + .milliseconds(500), voters: voters, self: "n1")
        #expect(!fine.jumped && fine.stamp == real.adding(milliseconds: -400))
    }

    /// With a peer silent there is no median; the offset the majority last confirmed moves on with
    /// the monotonic clock, so a clock stepped back after it was confirmed is still caught.
    @Test("a clock stepped back after its offset was confirmed is bounded by the monotonic clock while a peer is silent")
    func backwardJumpWithoutMedian() {
        let voters: Set<Raft.NodeID> = ["n1", "n2", "n3"]
        var bound = ClockBound(tolerance: .seconds(1), maxReportAge: .seconds(10))
        let real = Timestamp(1_800_000_000_000)
        bound.record("n2", wallClock: real, at: t0)
        bound.record("n3", wallClock: real, at: t0)
        #expect(bound.bound(real, at: t0, voters: voters, self: "n1") == (real, false))  // confirms the offset
        // n3 falls silent; 20 s later n1's wall clock reads five minutes behind.
        bound.record("n2", wallClock: real.adding(milliseconds: 20_000), at: t0 + .seconds(20))
        let now = t0 + .seconds(20)
        let result = bound.bound(real.adding(milliseconds: 20_000 - 300_000), at: now, voters: voters, self: "n1")
        #expect(result == (real.adding(milliseconds: 20_000 - 1_000), true))
        // Scheduler time keeps moving while the clock stays behind.
        let later = bound.bound(real.adding(milliseconds: 25_000 - 300_000), at: now + .seconds(5), voters: voters, self: "n1")
        #expect(later == (real.adding(milliseconds: 25_000 - 1_000), true))
    }

    @Test("one wrong peer clock cannot move the stamp; without a majority of fresh reports the own clock is used")
    func minorityCannotMoveTheStamp() {
        let voters: Set<Raft.NodeID> = ["n1", "n2", "n3"]
        var bound = ClockBound(tolerance: .seconds(1), maxReportAge: .seconds(10))
        let real = Timestamp(1_800_000_000_000)
        bound.record("n2", wallClock: real.adding(milliseconds: -3_600_000), at: t0)  // a slow peer
        #expect(bound.bound(real, at: t0, voters: voters, self: "n1") == (real, false))
        bound.record("n3", wallClock: real, at: t0)
        #expect(bound.bound(real, at: t0, voters: voters, self: "n1") == (real, false))
        // Stale reports do not count.
        var stale = ClockBound(tolerance: .seconds(1), maxReportAge: .seconds(10))
        stale.record("n2", wallClock: real, at: t0)
        stale.record("n3", wallClock: real, at: t0)
        let later = real.adding(milliseconds: 3_600_000)
        #expect(stale.bound(later, at: t0 + .seconds(11), voters: voters, self: "n1") == (later, false))
    }

    @Test("an executor that has not applied what was committed a while ago is not caught up (it gets no work)")
    func caughtUp() {
        var history = CommitHistory()
        history.record(Raft.LogIndex(100), at: t0)
        history.record(Raft.LogIndex(200), at: t0 + .seconds(1))
        history.record(Raft.LogIndex(300), at: t0 + .seconds(2))
        let now = t0 + .milliseconds(2_500)
        #expect(history.isCaughtUp(applied: Raft.LogIndex(200), at: now, lag: .seconds(1)))
        #expect(!history.isCaughtUp(applied: Raft.LogIndex(0), at: now, lag: .seconds(1)))  // a wiped node
        #expect(history.isCaughtUp(applied: nil, at: now, lag: .seconds(1)))
        #expect(history.isCaughtUp(applied: Raft.LogIndex(0), at: t0 - .seconds(5), lag: .seconds(1)))
    }
}

@Suite("Leases: when the leader may expire an executor's attempts")
struct LeaseLossTests {
    let t0 = MonotonicTime(.seconds(100))
    let n2 = Raft.NodeID("n2")
    let lease = Duration.seconds(2)
    let margin = Duration.milliseconds(2_100)

    /// An executor extends its own lease with every echo it receives, which the leader cannot
    /// see: the leader may expire its attempts only a lease and the margin after the last echo it
    /// sent, not after the last proof it holds (the scheduler simulator found the difference).
    @Test("attempts are lost a lease and the margin after the last echo sent, whatever the proofs")
    func lostAfterLastEchoSent() {
        var ledger = LeaseLedger()
        _ = ledger.echo(to: n2, at: t0 + .seconds(3))  // sent; its proof never came back
        #expect(!ledger.isLost(n2, at: t0 + .seconds(7), lease: lease, margin: margin, leadingSince: t0))
        #expect(ledger.isLost(n2, at: t0 + .milliseconds(7_200), lease: lease, margin: margin, leadingSince: t0))
    }

    @Test("one-way partition: probes naming stale echoes are not echoed, so the last echo sent stops advancing")
    func stopEchoingACutOffExecutor() {
        var ledger = LeaseLedger()
        #expect(ledger.shouldEcho(n2, lastEcho: 0, at: t0, leadingSince: t0, lease: lease, margin: margin))
        let first = ledger.echo(to: n2, at: t0)
        // The echo never arrives: the executor keeps naming nothing newer.
        #expect(ledger.shouldEcho(n2, lastEcho: first, at: t0 + .milliseconds(900), leadingSince: t0, lease: lease, margin: margin))
        #expect(!ledger.shouldEcho(n2, lastEcho: 0, at: t0 + .milliseconds(1_100), leadingSince: t0, lease: lease, margin: margin))
        #expect(!ledger.shouldEcho(n2, lastEcho: first, at: t0 + .seconds(2), leadingSince: t0, lease: lease, margin: margin))
        #expect(ledger.isLost(n2, at: t0 + .milliseconds(4_200), lease: lease, margin: margin, leadingSince: t0))
        // Retried only once the attempts are surely expired.
        #expect(!ledger.shouldEcho(n2, lastEcho: first, at: t0 + .milliseconds(4_200), leadingSince: t0, lease: lease, margin: margin))
        #expect(ledger.shouldEcho(n2, lastEcho: first, at: t0 + .milliseconds(5_200), leadingSince: t0, lease: lease, margin: margin))
    }

    @Test("a round trip more than a lease after the contact before it marks when the lease came back; one within it does not")
    func lapseEnded() {
        var lease = ExecutorLease(lease: .seconds(2), started: t0)
        func roundTrip(at time: MonotonicTime) {
            let sent = lease.probe("n1", at: time, appliedIndex: Raft.LogIndex(1), wallClock: Timestamp(0), legacyAfter: .seconds(1))
            lease.echoed(sent.probe.sequence, by: "n1", echoID: sent.probe.sequence, at: time + .milliseconds(5))
        }
        roundTrip(at: t0 + .seconds(1))
        #expect(lease.lastLapseEnded == nil)
        roundTrip(at: t0 + .seconds(2))
        #expect(lease.lastLapseEnded == nil)
        roundTrip(at: t0 + .seconds(5))  // 3 s without contact: the lease ran out in between
        #expect(lease.lastLapseEnded == t0 + .seconds(5))
        roundTrip(at: t0 + .seconds(6))
        #expect(lease.lastLapseEnded == t0 + .seconds(5))
        lease.leading(at: t0 + .seconds(9))  // elected after 3 s without contact
        #expect(lease.lastLapseEnded == t0 + .seconds(9))
        var side = ExecutorSide(id: "n2", lease: .seconds(2), started: t0)
        #expect(side.lastLapseEnded(now: t0, wall: Timestamp(50_000)) == nil)
        _ = side.mustFence(at: t0 + .seconds(3), leading: true)
        #expect(side.lastLapseEnded(now: t0 + .seconds(4), wall: Timestamp(50_000)) == Timestamp(49_000))
    }

    @Test("an executor's lease keeps the latest echo id, so a restarted leader's ids (from 1 again) still prove it")
    func restartedLeaderEchoIDs() {
        var lease = ExecutorLease(lease: .seconds(2), started: t0)
        let first = lease.probe("n1", at: t0, appliedIndex: Raft.LogIndex(1), wallClock: Timestamp(0), legacyAfter: .seconds(1))
        lease.echoed(first.probe.sequence, by: "n1", echoID: 40, at: t0)
        let second = lease.probe("n1", at: t0 + .seconds(1), appliedIndex: Raft.LogIndex(1), wallClock: Timestamp(0), legacyAfter: .seconds(1))
        lease.echoed(second.probe.sequence, by: "n1", echoID: 1, at: t0 + .seconds(1))  // the leader restarted
        let third = lease.probe("n1", at: t0 + .seconds(2), appliedIndex: Raft.LogIndex(1), wallClock: Timestamp(0), legacyAfter: .seconds(1))
        #expect(third.probe.lastEcho == 1)
    }
}
