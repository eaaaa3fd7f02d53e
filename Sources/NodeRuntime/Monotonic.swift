import NodeCore

/// The running node's monotonic clock as the node core reads time: `ContinuousClock` since this
/// process started. The one place the runtime turns a clock reading into a ``NodeCore/MonotonicTime``.
enum Monotonic {
    /// The origin: when this process first asked.
    static let origin = ContinuousClock.now

    /// Now.
    static func now() -> MonotonicTime { time(of: .now) }

    /// `instant` on the node core's time line.
    static func time(of instant: ContinuousClock.Instant) -> MonotonicTime { MonotonicTime(instant - origin) }
}
