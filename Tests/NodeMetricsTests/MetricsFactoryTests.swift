import CoreMetrics
import NodeMetrics
import Testing

@Suite("QuorumMetricsFactory: swift-metrics into the node's registry")
struct MetricsFactoryTests {
    @Test("RaftStorage's fsync Timer lands in the node's own quorum_wal_fsync_seconds histogram")
    func walTimerIsTheNodeHistogram() {
        let metrics = QuorumMetrics()
        let timer = CoreMetrics.Timer(label: "quorum_wal_fsync_seconds", factory: metrics.metricsFactory)
        timer.recordNanoseconds(400_000)
        metrics.observeFsync(seconds: 0.004)
        let scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_wal_fsync_seconds_count") == 2)
        #expect(scrape.value("quorum_wal_fsync_seconds_bucket", #"le="0.0005""#) == 1)
        #expect(scrape.value("quorum_wal_fsync_seconds_bucket", #"le="0.005""#) == 2)
        timer.destroy()
        #expect(Exposition(metrics.exposition()).value("quorum_wal_fsync_seconds_count") == 2, "destroy keeps the node's histogram")
    }

    @Test("other library metrics appear; a clash with a contract name is renamed, not fatal")
    func otherMetrics() {
        let metrics = QuorumMetrics()
        let factory = metrics.metricsFactory
        CoreMetrics.Counter(label: "library_events_total", factory: factory).increment(by: 2)
        CoreMetrics.Counter(label: "quorum_dlq_size", factory: factory).increment()
        let scrape = Exposition(metrics.exposition())
        #expect(scrape.value("library_events_total") == 2)
        #expect(scrape.value("quorum_dlq_size_external") == 1)
        #expect(scrape.types["quorum_dlq_size"] == "gauge")
    }
}
