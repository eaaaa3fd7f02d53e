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
/// reports, this is just the wall clock. A jump is logged and counted (`quorum_clock_jumps_total`)
/// once when it is first seen, not per stamp.
final class StampClock: Sendable {
    private let clock: NodeClock
    private let link: PeerLink
    private let metrics: QuorumMetrics?
    private let logger: Logger
    private let jumping = Mutex(false)

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
        let started = jumping.withLock { state -> Bool in
            defer { state = jumped }
            return jumped && !state
        }
        if started {
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
