import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Synchronization
import Testing

/// `[quotas] submissions_per_second_per_token`: creating requests only, 429 `quota_exceeded`
/// with `Retry-After`, counted apart from `[api] rate_limit_per_token`.
@Suite("Submission quota per token")
struct SubmissionQuotaTests {
    @Test("the creating routes are the five POSTs that add work; nothing else")
    func creatingRoutes() {
        let creating = QuorumRoutes<LocalSchedulerService>.all.filter(QuorumRoutes<LocalSchedulerService>.isCreating)
            .map(\.description).sorted()
        #expect(creating == ["POST /api/dags", "POST /api/dlq/{run_id}/requeue", "POST /api/jobs", "POST /api/jobs/batch",
                             "POST /api/jobs/{id}/trigger"])
    }

    @Test("at the limit a submit is taken, one past it is 429 quota_exceeded naming the key; reads and edits still pass")
    func refusesPastLimit() async throws {
        let refusals = Mutex(0)
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        QuorumRoutes(service: makeLocalService()).register(
            on: router, authorizer: TokenAuthorizer(TokenAuthTests.file()), rateLimiter: TokenRateLimiter(rate: 1_000),
            submissionLimiter: .submissions(rate: 2) { refusals.withLock { $0 += 1 } }, clockMs: { 0 })
        try await Application(router: router).test(.router) { client in
            let submit = TokenAuthTests.bearer("qt_submit")
            let first = try await client.send(.post, "/api/jobs", json: #"{"name":"a"}"#, headers: submit)
            #expect(first.status == .created)
            let id = try first.decoded(JobResource.self).id
            #expect(try await client.send(.post, "/api/jobs", json: #"{"name":"b"}"#, headers: submit).status == .created)
            let over = try await client.send(.post, "/api/jobs/\(id)/trigger", headers: submit)
            #expect(over.status.code == 429)
            #expect(over.headers[.retryAfter] == "1")
            let body = String(buffer: over.body)
            #expect(body.contains("quota_exceeded") && body.contains("[quotas] submissions_per_second_per_token (2 requests"), "\(body)")
            // Not a creating route: the submission bucket does not apply (a once job cannot be
            // paused: 409, not 429).
            #expect(try await client.send(.post, "/api/jobs/\(id)/pause", headers: submit).status.code != 429)
            #expect(try await client.send(.get, "/api/jobs/\(id)", headers: TokenAuthTests.bearer("qt_read")).status == .ok)
        }
        #expect(refusals.withLock { $0 } == 1)
    }
}
