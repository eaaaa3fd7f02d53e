import Prometheus

/// The read admission gate's series (issue #12; `[api] max_concurrent_reads`,
/// `max_queued_reads`): list reads running and waiting (gauges, set at each scrape from the
/// gate) and refused (a counter, from 0 at start).
final class ReadAdmissionMetrics: Sendable {
    let inFlight: Gauge
    let queued: Gauge
    let rejected: Counter
    let budgetWait: Counter

    init(registry: PrometheusCollectorRegistry) {
        inFlight = registry.makeGauge(descriptor: QuorumMetrics.descriptor(MetricNames.apiReadsInFlight))
        queued = registry.makeGauge(descriptor: QuorumMetrics.descriptor(MetricNames.apiReadsQueued))
        rejected = registry.makeCounter(descriptor: QuorumMetrics.descriptor(MetricNames.apiReadsRejected))
        budgetWait = registry.makeCounter(descriptor: QuorumMetrics.descriptor(MetricNames.apiReadsBudgetWait))
    }
}

extension QuorumMetrics {
    /// Counts one list read refused by the read admission gate (`quorum_api_reads_rejected_total`).
    public func readRejected() {
        readAdmissionMetrics.rejected.increment()
    }

    /// Adds a list read's wait for the CPU budget to `quorum_api_reads_budget_wait_seconds_total`.
    public func readWaitedForBudget(_ wait: Duration) {
        let (seconds, attoseconds) = wait.components
        readAdmissionMetrics.budgetWait.increment(by: Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// Sets `quorum_api_reads_in_flight` and `quorum_api_reads_queued` from the gate.
    public func setReadAdmission(inFlight: Int, queued: Int) {
        readAdmissionMetrics.inFlight.set(to: Double(inFlight))
        readAdmissionMetrics.queued.set(to: Double(queued))
    }
}
