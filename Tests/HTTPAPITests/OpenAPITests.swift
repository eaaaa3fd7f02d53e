import Foundation
import HTTPAPI
import Testing

/// Reads `paths:` of docs/openapi.yaml with a line-based reader: a path is a two-space-indented
/// key starting with `/`, a method a four-space-indented `get:`/`post:`/… under it.
func openAPIRoutes() throws -> Set<APIRoute> {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
    var routes: Set<APIRoute> = []
    var inPaths = false
    var currentPath: String?
    let methods: Set<String> = ["get", "post", "put", "patch", "delete", "head", "options"]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line == "paths:" {
            inPaths = true
            continue
        }
        guard inPaths else { continue }
        if let first = line.first, first != " ", first != "#" { break }
        if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
            currentPath = String(line.dropFirst(2).dropLast())
        } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path = currentPath {
            let key = line.trimmingCharacters(in: .whitespaces)
            if key.hasSuffix(":"), methods.contains(String(key.dropLast())) {
                routes.insert(APIRoute(String(key.dropLast()).uppercased(), path))
            }
        }
    }
    return routes
}

@Suite("OpenAPI document")
struct OpenAPITests {
    typealias Routes = QuorumRoutes<LocalSchedulerService>

    @Test("every route the router serves is in docs/openapi.yaml with its method")
    func routerInDocument() throws {
        let documented = try openAPIRoutes()
        #expect(documented.count > 20)
        let missing = Set(Routes.all).subtracting(documented)
        #expect(missing.isEmpty, "not in docs/openapi.yaml: \(missing.sorted())")
    }

    @Test("every documented route is served, except the ones listed as not yet implemented")
    func documentInRouter() throws {
        let served = Set(Routes.all).union(Routes.servedByNode).union(Routes.notYetImplemented)
        let extra = try openAPIRoutes().subtracting(served)
        #expect(extra.isEmpty, "documented but not served: \(extra.sorted())")
        #expect(Set(Routes.notYetImplemented).isDisjoint(with: Routes.all))
        #expect(Set(Routes.servedByNode).isDisjoint(with: Routes.all))
        #expect(try openAPIRoutes().isSuperset(of: Routes.servedByNode))
    }

    @Test("every route in the table answers through the router (no 404 from routing)")
    func everyRouteIsRegistered() async throws {
        try await withAPI(makeLocalService()) { client in
            for route in Routes.all {
                let uri = route.path.replacingOccurrences(of: "{id}", with: "x").replacingOccurrences(of: "{run_id}", with: "x")
                let response = try await client.send(.init(rawValue: route.method) ?? .get, uri, json: route.method == "POST" ? "{}" : nil)
                // An unknown id is a 404 from the service, with a message that is not the router's.
                #expect(response.apiError?.message.contains("no such endpoint") != true, "\(route)")
            }
        }
    }
}
