import Prometheus
import Synchronization

/// `quorum_node_draining{node}` and `quorum_jobs_unplaceable` (issue #16): which members an
/// operator drains, and how many queued runs no open member can take (docs/metrics.md).
final class PlacementMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    /// One series per current member; a removed member's series is unregistered, so the family
    /// does not grow with every node id the cluster ever had.
    private let draining = Mutex<[String: Gauge]>([:])
    let unplaceable: Gauge

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        unplaceable = registry.makeGauge(descriptor: QuorumMetrics.descriptor(MetricNames.jobsUnplaceable))
    }

    func setDraining(_ byNode: [String: Bool]) {
        draining.withLock { gauges in
            for (node, gauge) in gauges where byNode[node] == nil {
                registry.unregisterGauge(gauge)
                gauges[node] = nil
            }
            for (node, isDraining) in byNode {
                let gauge = gauges[node] ?? registry.makeGauge(descriptor: QuorumMetrics.descriptor(MetricNames.nodeDraining),
                                                               labels: [("node", node)])
                gauges[node] = gauge
                gauge.set(to: isDraining ? 1 : 0)
            }
        }
    }
}

extension QuorumMetrics {
    /// Sets `quorum_node_draining{node}`: 1 for each member the replicated member directory
    /// marks draining, 0 for the others; members not in `byNode` (removed) lose their series.
    public func setDraining(byNode: [String: Bool]) {
        placementMetrics.setDraining(byNode)
    }

    /// Sets `quorum_jobs_unplaceable`: queued runs no open member can take (the leader's count;
    /// other nodes set 0).
    public func setUnplaceable(_ count: Int) {
        placementMetrics.unplaceable.set(to: Double(count))
    }
}
