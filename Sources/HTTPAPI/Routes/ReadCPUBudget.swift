/// The CPU list reads may use (issue #12, `[api] max_read_cpu_percent`): a token bucket in CPU
/// time. It fills at ``share`` seconds of CPU per second of wall time, and every list read is
/// charged what it cost — the CPU its walk, rendering and encoding measured on the reader
/// thread, plus ``perRead`` for its fixed work elsewhere. While the bucket is below zero the
/// next list read waits until it fills back.
///
/// Why a budget on top of one read at a time: each list read also costs the node fixed work at
/// normal priority — the HTTP exchange, a ReadIndex round with the followers, the hops to and
/// from the reader thread — that competes with writes for the same cores. A few clients looping
/// over pages get one page after another, so without a budget that work grows with whatever
/// the clients ask for; the budget caps the cost of the pages a node serves each second
/// (docs/benchmarks.md, "A CPU budget for list reads").
///
/// Bounds: unused budget piles up to ``burst`` at most (a client that was idle gets that much
/// at once, no more), and an overdraft to at most ``maxWait`` of refill, so one very expensive
/// read delays the reads after it by at most that long.
///
/// Pure: time and the CPU spent come in as arguments (``wait(now:spent:)``).
public struct ReadCPUBudget: Sendable, Equatable {
    /// Seconds of CPU list reads may use per second: between 0.01 and 1 (the reader thread is
    /// one thread).
    public let share: Double
    /// How much unused budget may pile up.
    public let burst: Duration
    /// What each read costs besides its measured CPU: the normal-priority work of serving a
    /// list page (HTTP, the ReadIndex round, thread hops), measured at 0.5–0.7 ms on the
    /// benchmark machine.
    public let perRead: Duration
    /// The longest a read waits after the reads before it overdrew the budget.
    public let maxWait: Duration
    /// Budget left, in CPU nanoseconds (negative: overdrawn by the reads that ran).
    private var available: Double
    /// When ``available`` was last brought up to date, and the reads' CPU counter then.
    private var updatedAt: Duration?
    private var spentAt: Duration = .zero

    /// A budget of `percent` of one core (clamped to 1–100), starting full.
    public init(percentOfCore percent: Int, burst: Duration = .milliseconds(100), perRead: Duration = .microseconds(500),
                maxWait: Duration = .seconds(1)) {
        share = Double(min(max(percent, 1), 100)) / 100
        self.burst = max(.zero, burst)
        self.perRead = max(.zero, perRead)
        self.maxWait = max(.zero, maxWait)
        available = Self.nanoseconds(self.burst)
    }

    /// Brings the budget up to `now` (a monotonic instant) with `spent`, the list reads' CPU
    /// so far (a counter that only grows; a smaller reading is ignored), and answers how long
    /// the next read must wait: `nil` when it may run now, and then charges it ``perRead``.
    public mutating func wait(now: Duration, spent: Duration) -> Duration? {
        if let updatedAt {
            let elapsed = max(0, Self.nanoseconds(now - updatedAt))
            let used = max(0, Self.nanoseconds(spent - spentAt))
            // Refill and charge over the same interval before capping: a read that ran for a
            // second at its share owes nothing, and only idle time is capped at the burst.
            available = min(Self.nanoseconds(burst), available + elapsed * share - used)
            available = max(available, -Self.nanoseconds(maxWait) * share)
        }
        updatedAt = max(updatedAt ?? now, now)
        spentAt = max(spentAt, spent)
        guard available < 0 else {
            available -= Self.nanoseconds(perRead)
            return nil
        }
        // Rounded up, so a read that waits this long finds the budget at zero or above.
        return .nanoseconds(Int64((-available / share).rounded(.up)))
    }

    private static func nanoseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }
}
