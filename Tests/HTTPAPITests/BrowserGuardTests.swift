import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Testing

/// Web pages cannot use the API through a browser: foreign `Origin`s and (without tokens)
/// non-loopback `Host` names are refused.
/// Header fields by name (`Host` has no static name in HTTPTypes: it is the request's authority).
func fields(_ pairs: KeyValuePairs<String, String>) -> HTTPFields {
    var fields = HTTPFields()
    for (name, value) in pairs {
        if let name = HTTPFields.Element.Name(name) { fields.append(HTTPFields.Element(name: name, value: value)) }
    }
    return fields
}

@Suite("Browser guard")
struct BrowserGuardTests {
    func withGuardedAPI(origins: [String] = [], loopbackHostsOnly: Bool,
                        _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: BrowserGuard(allowedOrigins: origins, loopbackHostsOnly: loopbackHostsOnly))
        router.add(middleware: BrowserGuard<BasicRequestContext>.corsMiddleware())
        router.add(middleware: APIErrorMiddleware())
        QuorumRoutes(service: makeLocalService()).register(on: router)
        try await Application(router: router).test(.router, body)
    }

    @Test("a foreign Origin is 403 — a POST, a body-less trigger and a preflight alike; same-origin and no Origin pass")
    func foreignOrigin() async throws {
        try await withGuardedAPI(loopbackHostsOnly: false) { client in
            let evil = fields(["Origin": "https://evil.example", "Host": "127.0.0.1:8080"])
            let post = try await client.send(.post, "/api/jobs", json: #"{"name":"x"}"#, headers: evil)
            #expect(post.status == .forbidden)
            #expect(try post.decoded(ErrorEnvelope.self).error.field == "Origin")
            #expect(try await client.send(.post, "/api/jobs/j1/trigger", headers: evil).status == .forbidden)
            var preflight = evil
            preflight[.accessControlRequestMethod] = "POST"
            #expect(try await client.send(.options, "/api/jobs", headers: preflight).status == .forbidden)
            #expect(try await client.send(.get, "/api/jobs", headers: fields(["Origin": "null", "Host": "127.0.0.1:8080"])).status == .forbidden)

            let own = fields(["Origin": "http://127.0.0.1:8080", "Host": "127.0.0.1:8080"])
            #expect(try await client.send(.post, "/api/jobs", json: #"{"name":"x"}"#, headers: own).status == .created)
            #expect(try await client.send(.get, "/api/jobs", headers: fields(["Host": "127.0.0.1:8080"])).status == .ok)
        }
    }

    @Test("a listed origin gets CORS headers, its preflight included")
    func listedOrigin() async throws {
        try await withGuardedAPI(origins: ["https://ops.example.com"], loopbackHostsOnly: false) { client in
            let ops = fields(["Origin": "https://ops.example.com", "Host": "quorum.internal:8080"])
            let list = try await client.send(.get, "/api/jobs", headers: ops)
            #expect(list.status == .ok)
            #expect(list.headers[.accessControlAllowOrigin] == "https://ops.example.com")
            var preflight = ops
            preflight[.accessControlRequestMethod] = "POST"
            let answer = try await client.send(.options, "/api/jobs", headers: preflight)
            #expect(answer.status == .noContent || answer.status == .ok)
            #expect(answer.headers[.accessControlAllowOrigin] == "https://ops.example.com")
            #expect(answer.headers[.accessControlAllowHeaders]?.lowercased().contains("idempotency-key") == true)
            #expect(try await client.send(.get, "/api/jobs", headers: fields(["Origin": "https://ops.example.com.evil", "Host": "q:8080"]))
                .status == .forbidden)
        }
    }

    @Test("without tokens on loopback only loopback Host names are served (DNS rebinding)",
          arguments: [("localhost:8080", true), ("127.0.0.1:8080", true), ("[::1]:8080", true), ("app.localhost", true),
                      ("127.1.2.3", true), ("evil.example:8080", false), ("10.0.0.5:8080", false), ("127.0.0.1.evil.example", false),
                      ("[::2]:8080", false)])
    func loopbackHosts(host: String, served: Bool) async throws {
        try await withGuardedAPI(loopbackHostsOnly: true) { client in
            // A rebinding page's Origin matches its Host: only the Host rule stops it.
            let response = try await client.send(.post, "/api/jobs/j1/trigger", headers: fields(["Host": host, "Origin": "http://\(host)"]))
            if served {
                #expect(response.status == .notFound, "\(host): \(response.text)")  // passed the guard; j1 does not exist
            } else {
                #expect(response.status == .forbidden, "\(host)")
                #expect(try response.decoded(ErrorEnvelope.self).error.field == "Host")
            }
        }
    }
}
