import Hummingbird

/// `GET /metrics`: the node's ``QuorumMetrics/exposition()`` in Prometheus text format 0.0.4.
public struct MetricsRoute: Sendable {
    /// The route's path.
    public static let path = "/metrics"

    /// The metrics served.
    public let metrics: QuorumMetrics

    /// A route serving `metrics`.
    public init(metrics: QuorumMetrics) {
        self.metrics = metrics
    }

    /// Adds `GET /metrics` to `router`. Add ``RequestMetricsMiddleware`` before it to count
    /// scrapes too.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        let metrics = self.metrics
        router.get(RouterPath(Self.path)) { _, _ in Self.response(metrics) }
    }

    /// The scrape response: 200, `text/plain; version=0.0.4; charset=utf-8`, the exposition.
    public static func response(_ metrics: QuorumMetrics) -> Response {
        Response(status: .ok, headers: [.contentType: QuorumMetrics.contentType],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }
}
