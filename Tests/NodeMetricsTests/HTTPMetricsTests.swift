import HTTPAPI
import Hummingbird
import HummingbirdTesting
import NodeMetrics
import SchedulerCore
import Testing

@Suite("GET /metrics and quorum_http_requests_total{route,status}")
struct HTTPMetricsTests {
    /// A router as the node builds it: request metrics outermost, then errors, then the routes.
    static func router(_ metrics: QuorumMetrics) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.get("/things/{id}") { _, _ in "thing" }
        router.get("/things/{id}/conflict") { _, _ -> String in throw HTTPError(.conflict) }
        router.get("/things/{id}/broken") { _, _ -> String in throw BrokenHandler() }
        MetricsRoute(metrics: metrics).register(on: router)
        return router
    }

    struct BrokenHandler: Error {}

    @Test("/metrics answers the exposition as text format 0.0.4")
    func scrape() async throws {
        let metrics = QuorumMetrics()
        metrics.jobsSubmitted(2)
        try await Application(router: Self.router(metrics)).test(.router) { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let scrape = Exposition(String(buffer: response.body))
            #expect(scrape.value("quorum_jobs_submitted_total") == 2)
            #expect(scrape.types["quorum_wal_fsync_seconds"] == "histogram")
        }
    }

    @Test("requests are labelled by route pattern, never the raw path; errors by their status")
    func routeLabels() async throws {
        let metrics = QuorumMetrics()
        try await Application(router: Self.router(metrics)).test(.router) { client in
            for id in ["1", "2", "a-very-long-id"] {
                #expect(try await client.execute(uri: "/things/\(id)", method: .get).status == .ok)
            }
            _ = try await client.execute(uri: "/things/7/conflict", method: .get)
            _ = try await client.execute(uri: "/things/7/broken", method: .get)
            _ = try await client.execute(uri: "/nowhere/123", method: .get)
            _ = try await client.execute(uri: "/things/1", method: .delete)
            _ = try await client.execute(uri: "/metrics", method: .get)
        }
        let scrape = Exposition(metrics.exposition())
        let series = scrape.samples.filter { $0.key.hasPrefix("quorum_http_requests_total") }
        #expect(series == [
            #"quorum_http_requests_total{route="/things/{id}",status="200"}"#: 3,
            #"quorum_http_requests_total{route="/things/{id}/conflict",status="409"}"#: 1,
            #"quorum_http_requests_total{route="/things/{id}/broken",status="500"}"#: 1,
            #"quorum_http_requests_total{route="unmatched",status="404"}"#: 2,
            #"quorum_http_requests_total{route="/metrics",status="200"}"#: 1,
        ])
    }

    @Test("over the real API router: patterns like /api/jobs/{id} and the API's error statuses")
    func quorumRoutes() async throws {
        let metrics = QuorumMetrics()
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: APIErrorMiddleware())
        let service = LocalSchedulerService(clock: { Timestamp(1_700_000_000_000) })
        QuorumRoutes(service: service).register(on: router)
        MetricsRoute(metrics: metrics).register(on: router)
        try await Application(router: router).test(.router) { client in
            let created = try await client.execute(
                uri: "/api/jobs", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"name":"a"}"#))
            #expect(created.status == .created)
            _ = try await client.execute(uri: "/api/jobs/no-such-job", method: .get)
            _ = try await client.execute(uri: "/api/jobs", method: .post, headers: [.contentType: "application/json"],
                                         body: ByteBuffer(string: "{"))
            _ = try await client.execute(uri: "/api/dlq/r-1/requeue", method: .post)
            _ = try await client.execute(uri: "/api/nothing", method: .get)
        }
        let scrape = Exposition(metrics.exposition())
        #expect(scrape.value("quorum_http_requests_total", #"route="/api/jobs",status="201""#) == 1)
        #expect(scrape.value("quorum_http_requests_total", #"route="/api/jobs/{id}",status="404""#) == 1)
        #expect(scrape.value("quorum_http_requests_total", #"route="/api/jobs",status="400""#) == 1)
        #expect(scrape.value("quorum_http_requests_total", #"route="/api/dlq/{run_id}/requeue",status="404""#) == 1)
        #expect(scrape.value("quorum_http_requests_total", #"route="unmatched",status="404""#) == 1)
        #expect(!scrape.samples.keys.contains { $0.contains("no-such-job") || $0.contains("r-1") })
    }
}
