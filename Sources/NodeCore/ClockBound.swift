import RaftCore
import SchedulerCore

/// Bounds the leader's stamps by its peers' clocks, so that a forward jump of the leader's
/// wall clock cannot move scheduler time for good (a stamp far in the future would make every
/// cron fire and retry wait for real time to catch up).
///
/// A pure value. Followers report their wall clock in every lease probe (``record(_:wallClock:at:)``);
/// each report ages with the leader's monotonic clock. ``bound(_:at:voters:self:)`` sorts the
/// leader's own clock and every fresh report and takes the majority-th smallest (the median of
/// a majority): the leader's clock stands unless it is ahead of that by more than ``tolerance`` —
/// that is, unless a majority of voters agree it runs ahead — and then the stamp is that value
/// plus the tolerance. A minority with wrong clocks, fast or slow, cannot move the stamp; with
/// fewer than a majority reporting (a new leader's first moments, or most peers down) the log's
/// own time advanced by the monotonic clock bounds it instead.
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

    /// A bound with `tolerance`, ignoring reports older than `maxReportAge`.
    public init(tolerance: Duration, maxReportAge: Duration) {
        self.tolerance = tolerance
        self.maxReportAge = maxReportAge
    }

    /// Records `peer`'s wall clock as reported in a probe received at `now`.
    public mutating func record(_ peer: Raft.NodeID, wallClock: Timestamp, at now: MonotonicTime) {
        reports[peer] = Report(wallClock: wallClock, receivedAt: now)
    }

    /// The time to stamp: `own` (this node's wall clock, read at `now`) unless it is ahead of
    /// the median estimate by more than the tolerance. `voters` are every voter's id, this
    /// node's included; `self` is this node. `jumped` says the bound applied.
    ///
    /// Without a majority of fresh reports (a new leader's first probe interval), `logTime` —
    /// the scheduler time of the last applied entry and the monotonic time it was applied at —
    /// bounds the stamp instead: the log's time, advanced by the monotonic clock, plus the
    /// tolerance. A new leader whose clock jumped therefore cannot stamp its jump either.
    public func bound(_ own: Timestamp, at now: MonotonicTime, voters: Set<Raft.NodeID>, self selfID: Raft.NodeID,
                      logTime: (stamp: Timestamp, appliedAt: MonotonicTime)? = nil) -> (stamp: Timestamp, jumped: Bool) {
        var estimates: [Int64] = [own.milliseconds]
        for voter in voters where voter != selfID {
            guard let report = reports[voter] else { continue }
            let age = now - report.receivedAt
            guard age >= .zero, age <= maxReportAge else { continue }
            estimates.append(report.wallClock.milliseconds &+ Self.milliseconds(age))
        }
        let majority = voters.count / 2 + 1
        let limit: Int64
        if estimates.count >= majority {
            estimates.sort()
            limit = estimates[majority - 1] &+ Self.milliseconds(tolerance)
        } else if let logTime, now >= logTime.appliedAt {
            limit = logTime.stamp.milliseconds &+ Self.milliseconds(now - logTime.appliedAt) &+ Self.milliseconds(tolerance)
        } else {
            return (own, false)
        }
        guard own.milliseconds > limit else { return (own, false) }
        return (Timestamp(limit), true)
    }

    public static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds &* 1_000 &+ attoseconds / 1_000_000_000_000_000
    }
}
