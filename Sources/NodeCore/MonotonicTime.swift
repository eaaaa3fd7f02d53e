/// A reading of a monotonic clock, as time since an origin the shell chose (its start). The
/// node core never reads a clock: the shell passes the time in (`ContinuousClock` in a running
/// node, simulated time in the scheduler simulator), so every decision can be replayed.
public struct MonotonicTime: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Time since the origin.
    public var sinceOrigin: Duration

    /// The reading `sinceOrigin` after the origin.
    public init(_ sinceOrigin: Duration) { self.sinceOrigin = sinceOrigin }

    /// The origin.
    public static let origin = MonotonicTime(.zero)

    public static func < (a: MonotonicTime, b: MonotonicTime) -> Bool { a.sinceOrigin < b.sinceOrigin }
    public static func + (a: MonotonicTime, b: Duration) -> MonotonicTime { MonotonicTime(a.sinceOrigin + b) }
    public static func - (a: MonotonicTime, b: Duration) -> MonotonicTime { MonotonicTime(a.sinceOrigin - b) }
    public static func - (a: MonotonicTime, b: MonotonicTime) -> Duration { a.sinceOrigin - b.sinceOrigin }

    public var description: String { "\(sinceOrigin)" }
}
