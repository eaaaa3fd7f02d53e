import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Testing

/// A path of the contract asked with a method it does not have is a 405 naming the methods it
/// has (RFC 9110 §15.5.6), not a 404: schemathesis' undeclared-method check found the 404s.
@Suite("405 with Allow for a method a path does not have")
struct MethodNotAllowedTests {
    @Test("a known path with another method is 405 with Allow; a literal path wins over a template; unknown paths stay 404")
    func methodNotAllowed() async throws {
        try await withAPI(makeLocalService()) { client in
            for (method, uri, allow) in [(HTTPRequest.Method.trace, "/metrics", "GET"), (.put, "/api/jobs/j-1", "DELETE, GET, PATCH"),
                                         (.get, "/api/jobs/batch", "POST"), (.delete, "/api/dlq", "GET"),
                                         (.options, "/api/jobs", "GET, POST"), (.post, "/healthz", "GET")] {
                let response = try await client.send(method, uri)
                #expect(response.status == .methodNotAllowed, "\(method) \(uri): \(response.status)")
                #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                #expect(response.apiError?.code == "method_not_allowed", "\(method) \(uri)")
            }
            let unknown = try await client.send(.get, "/api/nothing-here")
            #expect(unknown.status == .notFound)
            #expect(unknown.apiError?.message.contains("no such endpoint") == true)
            // The dashboard's page takes GET only.
            let dashboard = try await client.send(.post, "/")
            #expect(dashboard.status == .methodNotAllowed)
        }
    }

    @Test("the most literal templates decide which methods a path has")
    func methodsMatching() {
        let routes = [APIRoute("POST", "/api/jobs/batch"), APIRoute("GET", "/api/jobs/{id}"), APIRoute("DELETE", "/api/jobs/{id}"),
                      APIRoute("GET", "/api/jobs/{id}/runs")]
        #expect(APIRoute.methods(in: routes, matching: "/api/jobs/batch") == ["POST"])
        #expect(APIRoute.methods(in: routes, matching: "/api/jobs/j1") == ["DELETE", "GET"])
        #expect(APIRoute.methods(in: routes, matching: "/api/jobs/j1/runs") == ["GET"])
        #expect(APIRoute.methods(in: routes, matching: "/api/jobs//runs").isEmpty, "an empty segment is no id")
        #expect(APIRoute.methods(in: routes, matching: "/api/jobs/j1/runs/x").isEmpty)
    }
}
