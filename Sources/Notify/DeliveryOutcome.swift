/// How one try to deliver a notification ended, as the retry logic needs it.
public enum DeliveryOutcome: Sendable, Hashable, CustomStringConvertible {
    /// The receiver took it (webhook 2xx; SMTP server accepted the message after DATA).
    case delivered
    /// Worth trying again later: the receiver or the network may recover (5xx, 408, 429,
    /// timeouts, refused or dropped connections, SMTP 4xx). `retryAfter` is the receiver's
    /// advice, already capped by the sender.
    case retryable(reason: String, retryAfter: Duration?)
    /// Trying again will not help until someone changes something (webhook 4xx, SMTP 5xx, an
    /// address the egress policy denies, a recipient outside `allowed_domains`).
    case permanent(reason: String)

    /// `delivered`, or the reason with its kind.
    public var description: String {
        switch self {
        case .delivered: "delivered"
        case .retryable(let reason, let retryAfter):
            "retryable: \(reason)" + (retryAfter.map { " (retry after \(RetrySchedule.milliseconds($0) / 1000) s)" } ?? "")
        case .permanent(let reason): "permanent failure: \(reason)"
        }
    }

    /// Whether the notification was delivered.
    public var isDelivered: Bool {
        if case .delivered = self { return true }
        return false
    }
}
