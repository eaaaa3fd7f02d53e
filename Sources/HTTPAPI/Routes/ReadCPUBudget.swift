/// The CPU list reads may use (issue #12, `[api] max_read_cpu_percent`): a token bucket in
/// CPU time. It fills at `share` seconds of CPU per second of wall time, up to ``burst``, and
/// every list read's measured CPU — the walk, rendering and encoding on the reader thread — is
/// taken out of it. While it is below zero the next list read waits until it fills back.
///
/// Why a budget on top of one read at a time: each list read also costs the node fixed work
/// at normal priority — the HTTP exchange, a ReadIndex round with the followers, the hops to
/// and from the reader thread — that competes with writes for the same cores. A few clients
/// looping over pages get one page after another, so without a budget that work grows with
/// whatever the clients ask for; the budget caps how many pages of a given cost a node serves
/// a second. Measured on the 2-core benchmark machine: 4 looping readers of 50-job two-label
/// pages took ~400 pages/s and raised the writes' p99 2.1× (median of five runs); capped, they
/// raise it less (docs/benchmarks.md, "A CPU budget for list reads").
///
/// Pure: time and the CPU spent come in as arguments (``wait(now:spent:)``).
public struct ReadCPUBudget: Sendable, Equatable {
    /// Seconds of CPU list reads may use per second (0.25: a quarter of one core).
    public let share: Double
    /// How much unused budget may pile up: a client that read nothing for a while gets this
    /// much CPU at once, no more.
    public let burst: Duration
    /// Budget left, in CPU nanoseconds (negative: overdrawn by the reads that ran).
    private var available: Double
    /// When ``available`` was last brought up to date, and the reads' CPU counter then.
    private var updatedAt: Duration?
    private var spentAt: Duration = .zero

    /// A budget of `share` of one core (above 0), starting full.
    public init(share: Double, burst: Duration = .milliseconds(100)) {
        self.share = share
        self.burst = burst
        available = Self.nanoseconds(burst)
    }

    /// Brings the budget up to `now` (a monotonic instant) with `spent`, the list reads' CPU
    /// so far (a counter that only grows), and answers how long the next read must wait: `nil`
    /// when it may run now.
    public mutating func wait(now: Duration, spent: Duration) -> Duration? {
        if let updatedAt {
            let elapsed = max(0, Self.nanoseconds(now - updatedAt))
            available = min(Self.nanoseconds(burst), available + elapsed * share)
            available -= max(0, Self.nanoseconds(spent - spentAt))
        }
        updatedAt = now
        spentAt = spent
        guard available < 0 else { return nil }
        // Rounded up, so a read that waits this long finds the budget at zero or above.
        return .nanoseconds(Int64((-available / share).rounded(.up)))
    }

    private static func nanoseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }
}
