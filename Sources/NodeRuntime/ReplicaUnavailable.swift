/// Why this node cannot take a write or serve a consistent read right now. The API maps it to
/// 503 with `Retry-After`.
public struct ReplicaUnavailable: Error, Hashable, Sendable {
    /// What went wrong and what to do (retry shortly, retry with the same `Idempotency-Key`, read stale).
    public var message: String
    /// `true` when a write may or may not have been committed (proposed, then leadership was
    /// lost or the leader did not answer): only a retry with the same idempotency key is safe.
    public var outcomeUnknown: Bool

    /// An unavailability.
    public init(_ message: String, outcomeUnknown: Bool = false) {
        self.message = message
        self.outcomeUnknown = outcomeUnknown
    }
}
