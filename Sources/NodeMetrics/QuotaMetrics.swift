import Prometheus

/// `quorum_quota_refusals_total{quota}` and the gauges the quotas are checked against,
/// `quorum_pending_jobs` and `quorum_state_bytes` (issue #19). Every quota's series is exported
/// from 0, so a refusal shows as a rate.
final class QuotaMetrics: Sendable {
    /// The `quota` labels: the `[quotas]` keys.
    static let quotas = ["max_pending_jobs", "max_state_bytes", "submissions_per_second_per_token"]

    private let refusals: [String: Counter]
    let pendingJobs: Gauge
    let stateBytes: Gauge

    init(registry: PrometheusCollectorRegistry) {
        var refusals: [String: Counter] = [:]
        for quota in Self.quotas {
            refusals[quota] = registry.makeCounter(descriptor: QuorumMetrics.descriptor(MetricNames.quotaRefusals),
                                                   labels: [("quota", quota)])
        }
        self.refusals = refusals
        pendingJobs = registry.makeGauge(descriptor: QuorumMetrics.descriptor(MetricNames.pendingJobs))
        stateBytes = registry.makeGauge(descriptor: QuorumMetrics.descriptor(MetricNames.stateBytes))
    }

    func refused(_ quota: String) { refusals[quota]?.increment() }
}

extension QuorumMetrics {
    /// Counts one request refused by `quota` (a `[quotas]` key) in `quorum_quota_refusals_total`.
    /// An unknown key is ignored (the label set is closed).
    public func quotaRefused(_ quota: String) {
        quotaMetrics.refused(quota)
    }

    /// Sets `quorum_pending_jobs` (runs pending, queued or running) and `quorum_state_bytes`
    /// (this node's state-size estimate), the values the quotas are checked against.
    public func setQuotaGauges(pendingJobs: Int, stateBytes: Int) {
        quotaMetrics.pendingJobs.set(to: Double(pendingJobs))
        quotaMetrics.stateBytes.set(to: Double(stateBytes))
    }
}

extension QuorumMetrics {
    /// Counts one member whose state digest disagreed with this leader's
    /// (`quorum_replica_digest_mismatch_total`).
    public func replicaDigestMismatched() {
        replicaDigestMismatches.increment()
    }

    /// Counts one replica-check checkpoint this node applied, by `outcome` (one of
    /// ``MetricNames/replicaCheckpointOutcomes``; another is ignored).
    public func replicaCheckpointPassed(_ outcome: String) {
        replicaCheckpoints[outcome]?.increment()
    }
}
