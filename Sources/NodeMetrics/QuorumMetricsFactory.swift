import CoreMetrics
import Prometheus

/// A swift-metrics factory over a ``QuorumMetrics`` registry, for `MetricsSystem.bootstrap` in
/// the node's `main`, so that what libraries record through swift-metrics shows on the same
/// `/metrics` page.
///
/// The `Timer` labelled `quorum_wal_fsync_seconds` (RaftStorage's WAL writer) is routed to the
/// node's own histogram of that name, with its buckets and help text. Any other swift-metrics
/// label that collides with a Quorum metric name gets the suffix `_external`, because the
/// registry stops the process when one name is registered twice with another type, help text or
/// buckets.
public struct QuorumMetricsFactory: MetricsFactory {
    private let metrics: QuorumMetrics
    private let base: PrometheusMetricsFactory

    /// A factory over `metrics`' registry.
    public init(metrics: QuorumMetrics) {
        self.metrics = metrics
        var base = PrometheusMetricsFactory(registry: metrics.registry)
        let reserved = Set(MetricNames.all.map(\.name))
        base.nameAndLabelSanitizer = { name, labels in
            (reserved.contains(name) ? name + "_external" : name, labels)
        }
        self.base = base
    }

    /// A counter in the registry.
    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        base.makeCounter(label: label, dimensions: dimensions)
    }

    /// A floating-point counter in the registry.
    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        base.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    /// A gauge in the registry.
    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        base.makeMeter(label: label, dimensions: dimensions)
    }

    /// A gauge or value histogram in the registry.
    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    /// The node's WAL fsync histogram for `quorum_wal_fsync_seconds`, else a duration histogram.
    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        if label == MetricNames.walFsync && dimensions.isEmpty { return metrics.walFsync }
        return base.makeTimer(label: label, dimensions: dimensions)
    }

    /// Removes a counter.
    public func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }

    /// Removes a floating-point counter.
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        base.destroyFloatingPointCounter(handler)
    }

    /// Removes a meter.
    public func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }

    /// Removes a recorder.
    public func destroyRecorder(_ handler: any RecorderHandler) { base.destroyRecorder(handler) }

    /// Removes a timer; the node's own histograms stay (they belong to ``QuorumMetrics``).
    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram, histogram === metrics.walFsync { return }
        base.destroyTimer(handler)
    }
}

extension QuorumMetrics {
    /// A swift-metrics factory over this instance's registry (see ``QuorumMetricsFactory``).
    public var metricsFactory: QuorumMetricsFactory { QuorumMetricsFactory(metrics: self) }
}
