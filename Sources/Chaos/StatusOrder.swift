/// The order a once job's status reads must follow: a position in the job's life that only grows.
///
/// A run's fine state moves pending/queued (attempt 0) → running (attempt 1) → on failure back
/// to pending/queued *with the same attempt number* (waiting for the retry) → running (attempt 2)
/// → … → a terminal state (`succeeded`, `dead`, `cancelled`), which never changes again. So the
/// position is `(attempt, 0)` while running, `(attempt, 1)` while waiting, and "after everything"
/// once terminal. Pending and queued share a rank: the checker does not assume which of the two
/// a waiting run shows first.
public enum StatusOrder {
    /// The terminal fine states of a once job.
    public static let terminal: Set<String> = ["succeeded", "dead", "cancelled"]

    /// The position of `state` at `attempt`; `nil` for a state outside the model (`missing`).
    public static func position(state: String, attempt: Int) -> (Int, Int)? {
        if terminal.contains(state) { return (Int.max, 0) }
        switch state {
        case "running": return (attempt, 0)
        case "pending", "queued": return (attempt, 1)
        default: return nil
        }
    }

    /// Whether a read of `later` may follow one of `earlier` (the later invoked after the earlier completed).
    public static func mayFollow(_ later: (state: String, attempt: Int), _ earlier: (state: String, attempt: Int)) -> Bool {
        if terminal.contains(earlier.state) { return later.state == earlier.state }
        guard let from = position(state: earlier.state, attempt: earlier.attempt),
              let to = position(state: later.state, attempt: later.attempt) else { return true }
        return to >= from
    }
}
