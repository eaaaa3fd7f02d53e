import Prometheus
import SchedulerCore

/// `quorum_notifications_total{channel,outcome}` (the tries this node made as leader, by how each
/// ended) and `quorum_notifications_pending` (the replicated table's pending count, the same on
/// every node). Every channel × outcome series is exported from 0.
final class NotificationMetrics: Sendable {
    /// The `channel` labels.
    static let channels = ["webhook", "email"]
    /// The `outcome` labels: `delivered`, `retry` (a try failed, another is scheduled), `failed`
    /// (given up: permanent, or the retry budget spent).
    static let outcomes = ["delivered", "retry", "failed"]

    private let tries: [String: Counter]
    let pending: Gauge

    init(registry: PrometheusCollectorRegistry) {
        var tries: [String: Counter] = [:]
        for channel in Self.channels {
            for outcome in Self.outcomes {
                tries[channel + "/" + outcome] = registry.makeCounter(
                    descriptor: QuorumMetrics.descriptor(MetricNames.notifications), labels: [("channel", channel), ("outcome", outcome)])
            }
        }
        self.tries = tries
        pending = registry.makeGauge(descriptor: QuorumMetrics.descriptor(MetricNames.notificationsPending))
    }

    func tried(channel: String, outcome: String) { tries[channel + "/" + outcome]?.increment() }
}

extension QuorumMetrics {
    /// Counts one try of a notification on `channel` by the outcome the leader records.
    public func notificationTried(_ outcome: NotificationOutcome, channel: String) {
        let label = switch outcome {
        case .delivered: "delivered"
        case .retry: "retry"
        case .failed: "failed"
        }
        notificationMetrics.tried(channel: channel, outcome: label)
    }
}
