import Prometheus
import Synchronization

/// `quorum_raft_dropped_messages_total{reason}` and `quorum_transport_dropped_frames_total{reason}`:
/// one counter per reason, the known reasons exported from 0 so a drop shows as a rate, not as a
/// series appearing out of nothing. Reasons come from closed enums in RaftCore and Transport, so
/// the number of series stays bounded.
final class DropCounters: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let name: String
    private let counters: Mutex<[String: Counter]>

    init(registry: PrometheusCollectorRegistry, name: String, reasons: [String]) {
        self.registry = registry
        self.name = name
        var counters: [String: Counter] = [:]
        for reason in reasons {
            counters[reason] = registry.makeCounter(descriptor: QuorumMetrics.descriptor(name), labels: [("reason", reason)])
        }
        self.counters = Mutex(counters)
    }

    func add(_ count: Int, reason: String) {
        guard count > 0 else { return }
        let counter = counters.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = registry.makeCounter(descriptor: QuorumMetrics.descriptor(name), labels: [("reason", reason)])
            counters[reason] = counter
            return counter
        }
        counter.increment(by: Int64(count))
    }
}

extension QuorumMetrics {
    /// Counts one peer Raft message dropped by validation in
    /// `quorum_raft_dropped_messages_total{reason}` (`reason` is a `Raft.DropReason` raw value).
    public func raftMessageDropped(reason: String) {
        raftDrops.add(1, reason: reason)
    }

    /// Adds `count` frames the peer transport could not send or deliver to
    /// `quorum_transport_dropped_frames_total{reason}` (`reason` is a `Transport.FrameDropReason`
    /// raw value).
    public func transportFramesDropped(_ count: Int, reason: String) {
        transportDrops.add(count, reason: reason)
    }
}
