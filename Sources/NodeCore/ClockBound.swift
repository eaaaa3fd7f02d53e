import RaftCore
import SchedulerCore

/// Bounds the leader's stamps, from above and from below, by its peers' clocks and by its own
/// monotonic clock, so that a jump of the leader's wall clock cannot move scheduler time: a stamp
/// far in the future would move it on for good (every cron fire and retry would wait for real time
/// to catch up, and running attempts would expire early), and a stamp in the past would hold it
/// still (a command applies at `max(its stamp, the last applied time)`, so cron fires, delayed runs,
/// retry backoffs and attempt deadlines would wait for up to the skew — issue #15's `clock` finding).
///
/// A pure value. Followers report their wall clock in every lease probe (``record(_:wallClock:at:)``);
/// each report ages with the leader's monotonic clock.
/// - When every voter's clock is known (its own and a fresh report from each peer), the stamp is
///   within ``tolerance`` of their **median**: a minority of wrong clocks, fast or slow,
///   cannot move the median.
/// - The **trusted offset** (wall clock minus monotonic clock) is confirmed whenever a majority of
///   voters' clocks, this node's included, agree within the tolerance, or a live entry's stamp
///   agrees with this node's clock (``observe(logStamp:own:at:)``) — so a follower has one when it
///   is elected.
/// - Otherwise (a peer is down or cut off, the leader is new) the stamp is within the tolerance of
///   the monotonic clock plus the trusted offset: a wall clock that jumped (either way) since it
///   was last confirmed shows as a changed offset. The bound moves with the monotonic clock,
///   not with the stamps, so it cannot ratchet scheduler time forward or hold it back.
/// - A process trusts its clock as it was at start until something confirms it. So only a process
///   that *started* with a wrong clock and was elected before applying a live entry or hearing
///   from every peer can stamp it; see `docs/node.md`.
public struct ClockBound: Sendable {
    private struct Report: Sendable {
        var wallClock: Timestamp
        var receivedAt: MonotonicTime
    }

    /// How far ahead of the majority's median the leader's clock may be.
    public let tolerance: Duration
    /// Reports older than this are not used (their node may be down).
    public let maxReportAge: Duration
    private var reports: [Raft.NodeID: Report] = [:]
    /// Wall clock minus monotonic clock, in milliseconds, when the median last confirmed it.
    public private(set) var trustedOffset: Int64?

    /// A bound with `tolerance`, ignoring reports older than `maxReportAge`. `startClock` (this
    /// process's wall clock at monotonic time `at`, when it started) is trusted until something
    /// confirms another offset: a clock that jumps later, before any confirmation, is still caught.
    public init(tolerance: Duration, maxReportAge: Duration, startClock: (wall: Timestamp, at: MonotonicTime)? = nil) {
        self.tolerance = tolerance
        self.maxReportAge = maxReportAge
        if let startClock { trustedOffset = startClock.wall.milliseconds &- Self.milliseconds(startClock.at.sinceOrigin) }
    }

    /// Records `peer`'s wall clock as reported in a probe received at `now`.
    public mutating func record(_ peer: Raft.NodeID, wallClock: Timestamp, at now: MonotonicTime) {
        reports[peer] = Report(wallClock: wallClock, receivedAt: now)
    }

    /// A live entry stamped `stamp` by the leader was applied at `now`, when this node's wall clock
    /// read `own`: if they agree within the tolerance, the leader (whose stamps a majority of clocks
    /// bound) confirms this node's clock. Only ever confirms, so an old entry applied late changes
    /// nothing; it is how a follower has a trusted offset when it is elected.
    public mutating func observe(logStamp stamp: Timestamp, own: Timestamp, at now: MonotonicTime) {
        guard abs(own.milliseconds &- stamp.milliseconds) <= Self.milliseconds(tolerance) else { return }
        trustedOffset = own.milliseconds &- Self.milliseconds(now.sinceOrigin)
    }

    /// The time to stamp: `own` (this node's wall clock, read at `now`) unless it is more than the
    /// tolerance ahead of or behind the reference (see the type), when it is the reference plus or
    /// minus the tolerance. `voters` are every voter's id, this node's included; `self` is this
    /// node. `jumped` says a bound applied (the stamp is above `own` when the clock is behind).
    public mutating func bound(_ own: Timestamp, at now: MonotonicTime, voters: Set<Raft.NodeID>,
                               self selfID: Raft.NodeID) -> (stamp: Timestamp, jumped: Bool) {
        var estimates: [Int64] = [own.milliseconds]
        for voter in voters where voter != selfID {
            guard let report = reports[voter] else { continue }
            let age = now - report.receivedAt
            guard age >= .zero, age <= maxReportAge else { continue }
            estimates.append(report.wallClock.milliseconds &+ Self.milliseconds(age))
        }
        let tolerance = Self.milliseconds(self.tolerance)
        let offset = own.milliseconds &- Self.milliseconds(now.sinceOrigin)
        let majority = voters.count / 2 + 1
        if estimates.count(where: { abs($0 &- own.milliseconds) <= tolerance }) >= majority {
            trustedOffset = offset  // a majority of voters, this one included, agree with its clock
        }
        let reference: Int64
        if estimates.count == voters.count || (!voters.contains(selfID) && estimates.count == voters.count + 1) {
            estimates.sort()
            let median = estimates[(estimates.count - 1) / 2]
            if abs(own.milliseconds &- median) <= tolerance { trustedOffset = offset }
            reference = median
        } else if let trustedOffset {
            reference = Self.milliseconds(now.sinceOrigin) &+ trustedOffset
        } else {
            return (own, false)
        }
        // Symmetric: a clock behind the reference would hold scheduler time still (a command applies
        // at `max(its stamp, the last applied time)`), delaying cron fires, retries and deadlines by
        // the skew; a clock ahead would move it on for good.
        if own.milliseconds > reference &+ tolerance { return (Timestamp(reference &+ tolerance), true) }
        if own.milliseconds < reference &- tolerance { return (Timestamp(reference &- tolerance), true) }
        return (own, false)
    }

    public static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds &* 1_000 &+ attoseconds / 1_000_000_000_000_000
    }
}
