/// One line of the ledger that shell tasks append to: the task's tag, and for the cancelled jobs
/// also the time the execution started, on the boot-time clock (`/proc/uptime`, seconds):
/// `TAG` or `TAG 12345.67`.
///
/// Tags never contain a space (idempotency keys and `key/task`), so the first field is the tag.
public struct LedgerLine: Hashable, Sendable {
    /// The tag of the job or DAG task that ran.
    public var tag: String
    /// When that execution started, boot-time seconds (`nil`: the line carries no time).
    public var startedAt: Double?

    /// Parses `line`; a second field that is not a number is ignored (the tag stands).
    public init(_ line: String) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        tag = fields.first.map(String.init) ?? ""
        startedAt = fields.count > 1 ? Double(fields[1]) : nil
    }
}
