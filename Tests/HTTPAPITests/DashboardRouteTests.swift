import Foundation
@testable import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /` and `GET /dashboard/{file}`: the embedded files, with the headers that keep the page
/// from running anything but its own script (docs/dashboard.md).
@Suite("Dashboard route")
struct DashboardRouteTests {
    static let staticDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/HTTPAPI/Dashboard/static")

    @Test("the compiled-in files are the files in Sources/HTTPAPI/Dashboard/static (run scripts/dashboard/embed.py)")
    func embeddedMatchesFiles() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.staticDirectory.path).sorted()
        #expect(names == DashboardAssets.names)
        for file in DashboardAssets.files {
            let onDisk = try String(contentsOf: Self.staticDirectory.appendingPathComponent(file.name), encoding: .utf8)
            #expect(onDisk == file.text, "\(file.name) differs from DashboardFiles.swift: run python3 scripts/dashboard/embed.py")
        }
    }

    @Test("the DAG page's task table has a 'Waiting for' column filled from each task's reason")
    func dagTaskReasonColumn() throws {
        let page = try #require(DashboardAssets.files.first { $0.name == "index.html" }).text
        let script = try #require(DashboardAssets.files.first { $0.name == "dashboard.js" }).text
        #expect(page.contains("<th>Task</th><th>State</th><th>Waiting for</th><th>Depends on</th>"))
        // The cell after the state, in the same order as the header.
        #expect(script.contains("""
                cell(tr, t.state, "state " + stateClass(t.state));
                      // Why a queued task waits for a node ("no node with gpu=true"); absent otherwise.
                      cell(tr, t.reason || "", "reason");
                """))
    }

    @Test("/ is the page; its script and style have their content types; every answer carries CSP, nosniff, no-cache and an ETag")
    func servesFiles() async throws {
        try await withAPI(makeLocalService()) { client in
            for (uri, type) in [("/", "text/html; charset=utf-8"), ("/dashboard/dashboard.js", "text/javascript; charset=utf-8"),
                                ("/dashboard/dashboard.css", "text/css; charset=utf-8"), ("/dashboard/index.html", "text/html; charset=utf-8")] {
                let response = try await client.send(.get, uri)
                #expect(response.status == .ok, "\(uri)")
                #expect(response.headers[.contentType] == type, "\(uri)")
                #expect(response.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'self'") == true, "\(uri)")
                #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                #expect(response.headers[.cacheControl] == "no-cache", "\(uri)")
                #expect(response.headers[.eTag]?.hasPrefix("\"") == true, "\(uri)")
                #expect(!response.text.isEmpty, "\(uri)")
            }
            let page = try await client.send(.get, "/")
            #expect(page.text.contains("<script src=\"/dashboard/dashboard.js\""))
        }
    }

    @Test("the page has no inline script, no inline style or handler, inserts no HTML and names no other origin")
    func pageHasNothingInline() throws {
        let handler = try NSRegularExpression(pattern: #"<[^>]*\son[a-z]+\s*="#, options: [.caseInsensitive])
        let url = try NSRegularExpression(pattern: #"https?://[^\s"'`)]*"#, options: [.caseInsensitive])
        for file in DashboardAssets.files {
            let text = file.text
            let range = NSRange(text.startIndex..., in: text)
            // The only absolute URL is the SVG namespace (a name, never fetched).
            let urls = Set(url.matches(in: text, range: range).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
            #expect(urls.isSubset(of: ["http://www.w3.org/2000/svg"]), "\(file.name) names another origin: \(urls)")
            #expect(!text.contains("innerHTML") && !text.contains("outerHTML") && !text.contains("insertAdjacentHTML")
                    && !text.contains("document.write"), "\(file.name) inserts HTML")
            #expect(!text.contains("eval("), "\(file.name)")
            #expect(!text.contains("localStorage.setItem"), "\(file.name): the token goes to sessionStorage only")
            guard file.name.hasSuffix(".html") else { continue }
            #expect(!text.contains("style="), "inline style attribute in \(file.name)")
            #expect(!text.contains("<style"), "inline style element in \(file.name)")
            #expect(handler.firstMatch(in: text, range: range) == nil, "inline event handler in \(file.name)")
            // Every <script> has a src.
            for part in text.components(separatedBy: "<script").dropFirst() {
                #expect(part.hasPrefix(" src=\"/dashboard/"), "inline script in \(file.name)")
            }
        }
    }

    @Test("the page's own requests pass the browser guard with a token: same Origin as Host, Authorization header")
    func ownRequestsPassTheGuard() async throws {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: BrowserGuard(allowedOrigins: [], loopbackHostsOnly: false))
        router.add(middleware: BrowserGuard<BasicRequestContext>.corsMiddleware())
        router.add(middleware: APIErrorMiddleware())
        QuorumRoutes(service: makeLocalService()).register(on: router, authorizer: TokenAuthorizer(TokenAuthTests.file()))
        try await Application(router: router).test(.router) { client in
            let host: HTTPFields = [HTTPFields.Element.Name("Host")!: "quorum.internal:8080"]
            #expect(try await client.send(.get, "/", headers: host).status == .ok)
            var own = host
            own[.origin] = "http://quorum.internal:8080"
            own[.authorization] = "Bearer qt_submit"
            let created = try await client.send(.post, "/api/jobs", json: #"{"name":"from the page","delay_seconds":3600}"#, headers: own)
            #expect(created.status == .created)
            let id = try created.decoded(JobResource.self).id
            #expect(try await client.send(.post, "/api/jobs/\(id)/trigger", headers: own).status == .ok)
            #expect(try await client.send(.get, "/api/cron/next?expr=@daily", headers: own).status == .ok)
            var noToken = own
            noToken[.authorization] = nil
            #expect(try await client.send(.get, "/api/jobs", headers: noToken).status == .unauthorized)
        }
    }

    @Test("If-None-Match with the ETag is a 304")
    func notModified() async throws {
        try await withAPI(makeLocalService()) { client in
            let first = try await client.send(.get, "/dashboard/dashboard.js")
            let etag = try #require(first.headers[.eTag])
            let again = try await client.send(.get, "/dashboard/dashboard.js", headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
            let other = try await client.send(.get, "/dashboard/dashboard.js", headers: [.ifNoneMatch: "\"nope\""])
            #expect(other.status == .ok)
        }
    }

    @Test("an unknown file is a 404 naming the files there are; a path with more segments is not routed")
    func unknownFile() async throws {
        try await withAPI(makeLocalService()) { client in
            for uri in ["/dashboard/nope.js", "/dashboard/..%2FPackage.swift", "/dashboard/%2e%2e"] {
                let response = try await client.send(.get, uri)
                #expect(response.status == .notFound, "\(uri)")
                #expect(response.apiError?.code == "not_found", "\(uri)")
            }
            let named = try await client.send(.get, "/dashboard/nope.js")
            #expect(named.apiError?.message.contains("/dashboard/dashboard.js") == true)
            let deeper = try await client.send(.get, "/dashboard/a/b.js")
            #expect(deeper.status == .notFound)
        }
    }

    @Test("with tokens the page and its files are open; the API still asks for a token")
    func openWithTokens() async throws {
        let app = Application(router: makeQuorumRouter(service: makeLocalService(), authorizer: TokenAuthorizer(TokenAuthTests.file())))
        try await app.test(.router) { client in
            #expect(try await client.send(.get, "/").status == .ok)
            #expect(try await client.send(.get, "/dashboard/dashboard.js").status == .ok)
            #expect(try await client.send(.get, "/api/jobs").status == .unauthorized)
            #expect(try await client.send(.get, "/api/cron/next?expr=@daily").status == .unauthorized)
            let read = try await client.send(.get, "/api/cron/next?expr=@daily", headers: TokenAuthTests.bearer("qt_read"))
            #expect(read.status == .ok)
        }
    }
}
