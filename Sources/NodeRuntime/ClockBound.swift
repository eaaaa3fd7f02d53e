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
/// fewer than a majority reporting (a new leader's first moments, or most peers down) the
/// leader's own clock is used.
struct ClockBound: Sendable {
    private struct Report: Sendable {
        var wallClock: Timestamp
        var receivedAt: ContinuousClock.Instant
    }

    /// How far ahead of the majority's median the leader's clock may be.
    let tolerance: Duration
    /// Reports older than this are not used (their node may be down).
    let maxReportAge: Duration
    private var reports: [Raft.NodeID: Report] = [:]

    /// A bound with `tolerance`, ignoring reports older than `maxReportAge`.
    init(tolerance: Duration, maxReportAge: Duration) {
        self.tolerance = tolerance
        self.maxReportAge = maxReportAge
    }

    /// Records `peer`'s wall clock as reported in a probe received at `now`.
    mutating func record(_ peer: Raft.NodeID, wallClock: Timestamp, at now: ContinuousClock.Instant) {
        reports[peer] = Report(wallClock: wallClock, receivedAt: now)
    }

    /// The time to stamp: `own` (this node's wall clock, read at `now`) unless it is ahead of
    /// the median estimate by more than the tolerance. `voters` are every voter's id, this
    /// node's included; `self` is this node. `jumped` says the bound applied.
    func bound(_ own: Timestamp, at now: ContinuousClock.Instant, voters: Set<Raft.NodeID>,
               self selfID: Raft.NodeID) -> (stamp: Timestamp, jumped: Bool) {
        var estimates: [Int64] = [own.milliseconds]
        for voter in voters where voter != selfID {
            guard let report = reports[voter] else { continue }
            let age = now - report.receivedAt
            guard age >= .zero, age <= maxReportAge else { continue }
            estimates.append(report.wallClock.milliseconds &+ Self.milliseconds(age))
        }
        let majority = voters.count / 2 + 1
        guard estimates.count >= majority else { return (own, false) }
        estimates.sort()
        let limit = estimates[majority - 1] &+ Self.milliseconds(tolerance)
        guard own.milliseconds > limit else { return (own, false) }
        return (Timestamp(limit), true)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds &* 1_000 &+ attoseconds / 1_000_000_000_000_000
    }
}
