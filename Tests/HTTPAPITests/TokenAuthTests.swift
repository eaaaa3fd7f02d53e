import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Synchronization
import Testing

/// Bearer tokens with roles: `read` < `submit` < `admin`, the contract's route table.
@Suite("API tokens")
struct TokenAuthTests {
    static let tokens = ["reader": "qt_read", "submitter": "qt_submit", "operator": "qt_admin"]
    static func file() -> TokenFile {
        TokenFile(entries: [
            .init(name: "reader", role: .read, digest: TokenFile.digest(of: "qt_read")),
            .init(name: "submitter", role: .submit, digest: TokenFile.digest(of: "qt_submit")),
            .init(name: "operator", role: .admin, digest: TokenFile.digest(of: "qt_admin")),
        ])
    }

    func withAuthAPI(_ authorizer: TokenAuthorizer, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: makeQuorumRouter(service: makeLocalService(), authorizer: authorizer))
        try await app.test(.router, body)
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    @Test("every route needs the role the contract's table gives it; the open ones need none")
    func routeTable() {
        for route in QuorumRoutes<LocalSchedulerService>.all {
            let role = QuorumRoutes<LocalSchedulerService>.requiredRole(of: route)
            switch (route.method, route.path) {
            case ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/"), ("GET", "/dashboard/{file}"): #expect(role == nil, "\(route)")
            case ("GET", _): #expect(role == .read, "\(route)")
            case ("DELETE", "/api/dlq/{run_id}"): #expect(role == .admin, "\(route)")
            case ("POST", "/api/notifications/test"): #expect(role == .admin, "the contract: test notification is admin")
            default: #expect(role == .submit, "\(route)")
            }
        }
    }

    @Test("no token or an unknown one is 401 with WWW-Authenticate; a low role is 403; each role can do its part")
    func roles() async throws {
        try await withAuthAPI(TokenAuthorizer(Self.file())) { client in
            let missing = try await client.send(.get, "/api/jobs")
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            #expect(try missing.decoded(ErrorEnvelope.self).error.code == "unauthorized")
            #expect(try await client.send(.get, "/api/jobs", headers: Self.bearer("qt_guess")).status == .unauthorized)
            #expect(try await client.send(.get, "/api/jobs", headers: [.authorization: "Basic cXQ6cmVhZA=="]).status == .unauthorized)
            #expect(try await client.send(.get, "/healthz").status == .ok)

            #expect(try await client.send(.get, "/api/jobs", headers: Self.bearer("qt_read")).status == .ok)
            let readerPost = try await client.send(.post, "/api/jobs", json: #"{"name":"x"}"#, headers: Self.bearer("qt_read"))
            #expect(readerPost.status == .forbidden)
            #expect(try readerPost.decoded(ErrorEnvelope.self).error.message.contains("needs submit"))

            let created = try await client.send(.post, "/api/jobs", json: #"{"name":"x"}"#, headers: Self.bearer("qt_submit"))
            #expect(created.status == .created)
            #expect(try await client.send(.delete, "/api/dlq/r1", headers: Self.bearer("qt_submit")).status == .forbidden)
            // admin passes the check; the run is simply not in the DLQ.
            #expect(try await client.send(.delete, "/api/dlq/r1", headers: Self.bearer("qt_admin")).status == .notFound)
            #expect(try await client.send(.get, "/api/jobs", headers: Self.bearer("qt_read"))
                .decoded(ListPage<JobResource>.self).items.map(\.name) == ["x"])
        }
    }

    @Test("a revoked token is refused by the next request: replace() swaps the entries")
    func revoke() async throws {
        let authorizer = TokenAuthorizer(Self.file())
        try await withAuthAPI(authorizer) { client in
            let before = try await client.send(.get, "/api/jobs", headers: Self.bearer("qt_read"))
            #expect(before.status == .ok)
            authorizer.replace(TokenFile(entries: Self.file().entries.filter { $0.name != "reader" }))
            #expect(try await client.send(.get, "/api/jobs", headers: Self.bearer("qt_read")).status == .unauthorized)
            #expect(try await client.send(.get, "/api/jobs", headers: Self.bearer("qt_admin")).status == .ok)
        }
    }
}

@Suite("Tokens file")
struct TokenFileTests {
    @Test("round trip: text → entries → text; comments and blank lines are ignored")
    func roundTrip() throws {
        let token = TokenFile.newToken()
        #expect(token.hasPrefix("qt_") && token.count == 67)
        #expect(TokenFile.newToken() != token)
        let file = TokenFile(entries: [.init(name: "ci.deploy-1", role: .submit, digest: TokenFile.digest(of: token))])
        let parsed = try TokenFile(parsing: "\n# hello\n" + file.text + "   \n")
        #expect(parsed == file)
        #expect(try TokenFile(parsing: parsed.text) == file)
    }

    @Test("each bad line is refused with its number and what is wrong",
          arguments: [
              ("a read", "line 1: expected NAME ROLE SHA256-HEX (3 fields), found 2"),
              ("a owner \(String(repeating: "ab", count: 32))", "line 1: role 'owner' is not read, submit or admin"),
              ("a read abc", "line 1: the third field must be the token's SHA-256 as 64 hex digits"),
              ("a read \(String(repeating: "zz", count: 32))", "line 1: the third field must be the token's SHA-256 as 64 hex digits"),
              ("# c\nb/c read \(String(repeating: "ab", count: 32))", "line 2: name 'b/c' must be 1-64 letters"),
              ("a read \(String(repeating: "ab", count: 32))\na admin \(String(repeating: "cd", count: 32))", "line 2: name 'a' appears twice"),
          ])
    func refused(text: String, message: String) {
        #expect(throws: TokenFile.ParseError.self) { try TokenFile(parsing: text) }
        do {
            _ = try TokenFile(parsing: text)
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }
}

@Suite("Rate limits and the audit log")
struct RateLimitAuditTests {
    @Test("a token over its rate gets 429 with Retry-After; its bucket refills; other tokens are unaffected")
    func rateLimit() throws {
        let limiter = TokenRateLimiter(rate: 2)
        try limiter.take(for: "a", nowMs: 1_000)
        try limiter.take(for: "a", nowMs: 1_000)
        let over = #expect(throws: APIError.self) { try limiter.take(for: "a", nowMs: 1_000) }
        #expect(over?.code == .rateLimited && over?.code.statusCode == 429)
        #expect(over?.retryAfterSeconds == 1)
        try limiter.take(for: "b", nowMs: 1_000)  // buckets are per token
        try limiter.take(for: "a", nowMs: 1_500)  // half a second refills one request at 2/s
        #expect(throws: APIError.self) { try limiter.take(for: "a", nowMs: 1_500) }
    }

    @Test("every mutating request is audited with the token's name, route, id and status — refusals too; reads are not")
    func audit() async throws {
        let records = RecordBox()
        let createdID = Mutex<String?>(nil)
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        QuorumRoutes(service: makeLocalService()).register(
            on: router, authorizer: TokenAuthorizer(TokenAuthTests.file()), rateLimiter: TokenRateLimiter(rate: 1_000),
            clockMs: { 0 }, audit: { records.append($0) })
        try await Application(router: router).test(.router) { client in
            let created = try await client.send(.post, "/api/jobs", json: #"{"name":"x"}"#, headers: TokenAuthTests.bearer("qt_submit"))
            let id = try created.decoded(JobResource.self).id
            createdID.withLock { $0 = id }
            _ = try await client.send(.get, "/api/jobs/\(id)", headers: TokenAuthTests.bearer("qt_read"))
            _ = try await client.send(.delete, "/api/dlq/r9", headers: TokenAuthTests.bearer("qt_submit"))
            _ = try await client.send(.post, "/api/jobs/\(id)/trigger")
        }
        #expect(records.all == [
            AuditRecord(caller: "submitter", route: "POST /api/jobs", id: nil, status: 201, created: "/api/jobs/\(createdID.withLock { $0 } ?? "")"),
            AuditRecord(caller: "submitter", route: "DELETE /api/dlq/{run_id}", id: "r9", status: 403),
            AuditRecord(caller: nil, route: "POST /api/jobs/{id}/trigger", id: records.all.last?.id, status: 401),
        ])
        #expect(records.all.last?.id?.isEmpty == false)
    }

    @Test("the audit line reads as the docs show it; a path id with a newline or quote is quoted and escaped, never a second line")
    func auditLine() {
        #expect(AuditRecord(caller: "ci", route: "POST /api/jobs/{id}/trigger", id: "j7", status: 201).line
            == #"api write token=ci route="POST /api/jobs/{id}/trigger" id=j7 status=201"#)
        #expect(AuditRecord(caller: nil, route: "POST /api/jobs", id: nil, status: 201, created: "/api/jobs/j-42").line
            == #"api write token=- route="POST /api/jobs" id=- status=201 created=/api/jobs/j-42"#)
        let forged = AuditRecord(caller: nil, route: "DELETE /api/jobs/{id}", id: "x\napi write token=admin \"\u{85}\u{2028}\\", status: 404).line
        #expect(forged == #"api write token=- route="DELETE /api/jobs/{id}" id="x\napi write token=admin \"\u{85}\u{2028}\\" status=404"#)
        #expect(!forged.contains("\n"))
    }
}

/// Collects audit records from the router's tasks.
final class RecordBox: Sendable {
    private let records = Mutex<[AuditRecord]>([])
    func append(_ record: AuditRecord) { records.withLock { $0.append(record) } }
    var all: [AuditRecord] { records.withLock { $0 } }
}
