import Foundation
import NodeCore
import SchedulerCore

/// The one source of time of a running node: every loop and component of `NodeRuntime` reads
/// the monotonic time, the wall clock and sleeps through the node's single `NodeClock`
/// (``NodeSettings/clock``), created once when the node starts.
///
/// - ``monotonic()`` is time since this clock was created, as the node core's
///   ``NodeCore/MonotonicTime``: leases, "last heard", deadlines and the clock bound's ageing.
/// - ``wall()`` is the host's wall clock: the unbounded reading that ``StampClock`` bounds
///   before it becomes a command's stamp, and that lease probes report to the leader.
/// - ``sleep(for:)`` and ``monotonicClock`` wait on the same monotonic clock (the Raft driver's
///   ticks, the executor's timeouts, every polling loop).
///
/// Production uses ``system()`` (`ContinuousClock` and the system wall clock) — the only place
/// in `NodeRuntime` that reads them (`scripts/arrows.sh` checks it). Tests inject a test clock
/// (`TestClock` from swift-clocks) and a wall clock they set, so a lease running out or a wall
/// clock jumping happens when the test says, without real sleeping.
public struct NodeClock: Sendable {
    /// The monotonic clock that ``monotonic()`` reads and ``sleep(for:)`` waits on; handed to
    /// components that take a clock of their own (the Raft driver, the attempt runner).
    public let monotonicClock: any Clock<Duration>
    private let readMonotonic: @Sendable () -> MonotonicTime
    private let readWall: @Sendable () -> Timestamp

    /// A node clock on `clock` (its origin is now) and the wall clock `wall`.
    public init<C: Clock<Duration>>(_ clock: C, wall: @escaping @Sendable () -> Timestamp) {
        let origin = clock.now
        monotonicClock = clock
        readMonotonic = { MonotonicTime(origin.duration(to: clock.now)) }
        readWall = wall
    }

    /// The production clock: `ContinuousClock` (which keeps counting while the host sleeps, so
    /// a suspended VM finds its leases expired, as they are) and the system wall clock in
    /// milliseconds since the epoch.
    public static func system() -> NodeClock {
        NodeClock(ContinuousClock(), wall: { Timestamp(Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) })
    }

    /// Monotonic time since this clock was created.
    public func monotonic() -> MonotonicTime { readMonotonic() }

    /// The host's wall clock, unbounded (a command's stamp is ``StampClock/now()``, not this).
    public func wall() -> Timestamp { readWall() }

    /// Waits `duration` on the monotonic clock; throws `CancellationError` when cancelled.
    public func sleep(for duration: Duration) async throws {
        try await monotonicClock.sleep(for: duration)
    }
}
