import Logging
import NodeMetrics
import RaftCore
import SchedulerCore
import Synchronization

/// The one clock this node stamps commands with: its wall clock, bounded on the leader by the
/// clocks the voters report (``ClockBound`` via ``PeerLink/boundedStamp(_:)``).
///
/// Only the leader's stamps reach the log (a follower forwards its clients' commands unstamped,
/// or, to an older leader, stamped and re-stamped there), so on a follower, which receives no
/// reports, this is just the wall clock. A clock ahead of the bound is logged and counted
/// (`quorum_clock_jumps_total`), one behind it too (`quorum_clock_behind_total`), once when the
/// episode is first seen, not per stamp.
final class StampClock: Sendable {
    private let clock: NodeClock
    private let link: PeerLink
    private let metrics: QuorumMetrics?
    private let logger: Logger
    /// Which way the clock was off at the last stamp (`nil`: within the bound).
    private let jumping = Mutex<Direction?>(nil)

    private enum Direction { case ahead, behind }

    /// Stamps from `clock`'s wall clock, bounded by what `link` heard from the voters.
    init(clock: NodeClock, link: PeerLink, metrics: QuorumMetrics?, logger: Logger) {
        self.clock = clock
        self.link = link
        self.metrics = metrics
        self.logger = logger
    }

    /// This host's wall clock, unbounded (for reports to the leader and for ids).
    func wall() -> Timestamp { clock.wall() }

    /// The time to stamp into a command now.
    func now() -> Timestamp {
        let own = clock.wall()
        let (stamp, jumped) = link.boundedStamp(own)
        let direction: Direction? = jumped ? (stamp.milliseconds > own.milliseconds ? .behind : .ahead) : nil
        let started = jumping.withLock { state -> Bool in
            defer { state = direction }
            return direction != nil && direction != state
        }
        guard started else { return stamp }
        if direction == .behind {
            metrics?.clockFellBehind()
            logger.error("""
                this node's wall clock is behind a majority of the cluster's; stamping the majority's time instead \
                until it agrees again (stamping its own would hold scheduler time still) — check NTP on this host
                """,
                         metadata: ["own_ms": "\(own.milliseconds)", "stamp_ms": "\(stamp.milliseconds)",
                                    "behind_ms": "\(stamp.milliseconds - own.milliseconds)"])
        } else {
            metrics?.clockJumped()
            logger.error("""
                this node's wall clock is ahead of a majority of the cluster's; stamping the majority's time instead \
                until it agrees again — check NTP on this host
                """,
                         metadata: ["own_ms": "\(own.milliseconds)", "stamp_ms": "\(stamp.milliseconds)",
                                    "ahead_ms": "\(own.milliseconds - stamp.milliseconds)"])
        }
        return stamp
    }
}
