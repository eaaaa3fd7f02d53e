import RaftCore
import SchedulerCore

/// The executor side of the lease: when to probe the leader, what a probe carries, and when to
/// fence (stop every running attempt) because no probe came back for the lease.
///
/// A pure value; the shell sends the probes and reports the echoes. The lease runs from the
/// **send time** of the latest probe a leader echoed — proof that messages went both ways since
/// then — or from when this node last led, or from its start (nothing ran before).
public struct ExecutorLease: Sendable {
    private struct Probe: Sendable {
        var leader: Raft.NodeID
        var sentAt: MonotonicTime
    }

    /// How long a round trip holds.
    public let lease: Duration
    private let started: MonotonicTime
    private var ledAt: MonotonicTime?
    private var probes: [UInt64: Probe] = [:]
    private var nextProbe: UInt64 = 1
    private var lastEchoFrom: [Raft.NodeID: UInt64] = [:]
    private var lastVersionOneEcho: MonotonicTime?
    /// The send time of the latest probe a leader echoed.
    public private(set) var lastRoundTrip: MonotonicTime?
    /// When the lease last came back after running out: the send time of the first probe echoed
    /// (or the leading that began) more than a lease after the contact before it. The leader may
    /// have expired as lost anything assigned here before then (``ExecutorOrders/admitted(_:in:fenced:proven:startedWithoutLog:incarnation:process:startedAt:now:killGraceMs:lapseEnded:)``).
    public private(set) var lastLapseEnded: MonotonicTime?
    /// The leader's stamp in the echo that ended the latest lapse (``LeaseEcho/leaderStamp``);
    /// `nil` when that echo carried none (an older leader) or this node's leadership ended it.
    public private(set) var lastLapseEndedStamp: Timestamp?

    /// A lease of `lease` for a node started at `started`.
    public init(lease: Duration, started: MonotonicTime) {
        self.lease = lease
        self.started = started
    }

    /// This node leads at `now`: its own attempts need no probe.
    public mutating func leading(at now: MonotonicTime) {
        noteContact(at: now)
        ledAt = now
    }

    /// Records a lapse that contact at `now` ends (the lease ran out since the previous contact).
    /// `leaderStamp` is the stamp of the echo that made the contact, if any.
    private mutating func noteContact(at now: MonotonicTime, leaderStamp: Timestamp? = nil) {
        let previous = [started, ledAt, lastRoundTrip].compactMap { $0 }.max() ?? started
        if now - previous > lease, lastLapseEnded.map({ $0 < now }) ?? true {
            lastLapseEnded = now
            lastLapseEndedStamp = leaderStamp
        }
    }

    /// A probe to `leader` sent at `now`, and whether a legacy ping should go too (the leader has
    /// not answered a version-1 probe for `legacyAfter`: it may run an older build).
    public mutating func probe(_ leader: Raft.NodeID, at now: MonotonicTime, appliedIndex: Raft.LogIndex,
                               wallClock: Timestamp, legacyAfter: Duration) -> (probe: LeaseProbe, sendLegacy: Bool) {
        let sequence = nextProbe
        nextProbe += 1
        probes[sequence] = Probe(leader: leader, sentAt: now)
        if probes.count > 64, let oldest = probes.keys.min() { probes[oldest] = nil }
        let legacy = lastVersionOneEcho.map { now - $0 > legacyAfter } ?? true
        let probe = LeaseProbe(sequence: sequence, lastEcho: lastEchoFrom[leader] ?? 0, appliedIndex: appliedIndex.rawValue,
                               wallClockMilliseconds: wallClock.milliseconds, commandFormatVersion: CommandCodec.buildFormatVersion)
        return (probe, legacy)
    }

    /// `peer` echoed probe `sequence` at `now` (`echoID` is nil for a legacy pong), with its
    /// stamp (``LeaseEcho/leaderStamp``) if the echo carried one.
    public mutating func echoed(_ sequence: UInt64, by peer: Raft.NodeID, echoID: UInt64?, leaderStamp: Timestamp? = nil,
                                at now: MonotonicTime) {
        if let echoID {
            // The latest, not the largest: a leader that restarted counts its echo ids from 1 again
            // (keeping the largest would name an id the new process never sent, and no probe would
            // ever prove the lease again — the scheduler simulator found this).
            lastEchoFrom[peer] = echoID
            lastVersionOneEcho = now
        }
        guard let probe = probes.removeValue(forKey: sequence), probe.leader == peer else { return }
        if lastRoundTrip.map({ $0 < probe.sentAt }) ?? true {
            noteContact(at: probe.sentAt, leaderStamp: leaderStamp)
            lastRoundTrip = probe.sentAt
        }
    }

    /// Whether a round trip with a leader (or this node's own leadership) proves, at `now`, that
    /// the leader counts this node's lease — unlike ``mustFence(at:)``, the grace of a fresh start
    /// does not count. A node starts attempts only then: one that just restarted (or lost its log)
    /// and catches up would otherwise start old assignments the leader is about to expire as lost.
    public func isProven(at now: MonotonicTime) -> Bool {
        guard let contact = [ledAt, lastRoundTrip].compactMap({ $0 }).max() else { return false }
        return now - contact <= lease
    }

    /// Whether the lease ran out at `now`: no round trip with a leader (nor leading, nor a
    /// fresh start) within the lease. The node must then stop its attempts unreported.
    public func mustFence(at now: MonotonicTime) -> Bool {
        let contact = [started, ledAt, lastRoundTrip].compactMap { $0 }.max() ?? started
        return now - contact > lease
    }
}
