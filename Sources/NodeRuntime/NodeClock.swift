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

/// The CPU time one thread has used (Linux: `pthread_getcpuclockid`). Not a clock of the node's
/// time — nothing waits on it or stamps with it — but it is read here, beside ``NodeClock``, so
/// that this file stays the only one in `NodeRuntime` reading an OS clock (`scripts/arrows.sh`).
/// The list reads' CPU budget reads the reader thread's (``ReadExecutor/cpuTime()``).
struct ThreadCPUClock: Sendable {
    #if os(Linux)
    private let id: clockid_t
    #endif

    /// The calling thread's CPU clock; nil where the OS has none.
    static func current() -> ThreadCPUClock? {
        #if os(Linux)
        var id = clockid_t()
        return pthread_getcpuclockid(pthread_self(), &id) == 0 ? ThreadCPUClock(id: id) : nil
        #else
        return nil
        #endif
    }

    /// CPU time the thread has used since it started (`.zero` if the OS refuses to say).
    func elapsed() -> Duration {
        #if os(Linux)
        var time = timespec()
        guard clock_gettime(id, &time) == 0 else { return .zero }
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
        #else
        return .zero
        #endif
    }
}
