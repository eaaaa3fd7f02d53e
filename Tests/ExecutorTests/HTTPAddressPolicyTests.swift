import EgressPolicy
import Executor
import SchedulerCore
import Testing

/// The executor's side of `[executor] http_deny` / `http_allow`: a denied target gets no request,
/// names are judged after resolution, redirects are re-judged. Every server is on loopback
/// (127.0.0.1, or 127.0.0.2 as the "internal" address), so no packet leaves the machine.
@Suite("http tasks: address policy")
struct HTTPAddressPolicyTests {
    private static func network(_ text: String) -> IPNetwork {
        guard case .success(let network) = IPNetwork.parse(text) else { preconditionFailure("bad CIDR in a test: \(text)") }
        return network
    }

    private static func executor(_ policy: AddressPolicy) -> AttemptRunner {
        AttemptRunner(configuration: ExecutorConfiguration(httpPolicy: policy), logger: silentLogger)
    }

    private static func request(_ url: String, method: String = "GET") -> ExecutionRequest {
        ExecutionRequest(runID: "run-1", attempt: 1, task: .http(HTTPTask(method: method, url: url)), timeout: .seconds(20))
    }

    /// Starts servers on `hosts`, runs `body`, stops them.
    private func withServers(_ hosts: [String], _ body: ([TestHTTPServer]) async throws -> Void) async throws {
        var servers: [TestHTTPServer] = []
        do {
            for host in hosts { servers.append(try await TestHTTPServer.start(host: host)) }
            try await body(servers)
        } catch {
            for server in servers { try? await server.stop() }
            throw error
        }
        for server in servers { try await server.stop() }
    }

    @Test("the default policy refuses a loopback literal; the server never gets the request")
    func defaultDeniesLoopback() async throws {
        try await withServers(["127.0.0.1"]) { servers in
            let result = await Self.executor(AddressPolicy()).run(Self.request(servers[0].url("/ok")))
            #expect(result.report.outcome == .failed)
            #expect(result.report.httpStatus == nil)
            #expect(result.report.error == "http tasks may not connect to 127.0.0.1: denied by loopback 127.0.0.0/8 (built-in); "
                    + "list the address in [executor] http_allow to permit it")
            #expect(servers[0].requests.value == 0)
        }
    }

    @Test("an http_deny entry is named when it is the most specific rule")
    func listedDenyRefuses() async throws {
        try await withServers(["127.0.0.1"]) { servers in
            let policy = AddressPolicy(extraDeny: [Self.network("127.0.0.1/32")])
            let result = await Self.executor(policy).run(Self.request(servers[0].url("/ok")))
            #expect(result.report.outcome == .failed)
            #expect(result.report.error?.contains("denied by http_deny entry 127.0.0.1/32;") == true)
            #expect(servers[0].requests.value == 0)
        }
    }

    @Test("a name is judged by what it resolves to: localhost is loopback")
    func resolvedNameDenied() async throws {
        try await withServers(["127.0.0.1"]) { servers in
            let url = "http://localhost:\(servers[0].port)/ok"
            let result = await Self.executor(AddressPolicy()).run(Self.request(url))
            #expect(result.report.outcome == .failed)
            #expect(result.report.error?.hasPrefix("http tasks may not connect to localhost (") == true)
            #expect(result.report.error?.contains("loopback") == true)
            #expect(servers[0].requests.value == 0)
        }
    }

    @Test("inet_aton's numeric forms are judged as the address they resolve to")
    func numericHostDenied() async throws {
        try await withServers(["127.0.0.1"]) { servers in
            let url = "http://2130706433:\(servers[0].port)/ok"
            let result = await Self.executor(AddressPolicy()).run(Self.request(url))
            #expect(result.report.outcome == .failed)
            #expect(result.report.error?.contains("denied by loopback 127.0.0.0/8") == true)
            #expect(servers[0].requests.value == 0)
        }
    }

    @Test("an allowed name connects to the judged address (pinned) and keeps its Host")
    func allowedNameConnects() async throws {
        try await withServers(["127.0.0.1"]) { servers in
            let policy = AddressPolicy(allow: [Self.network("127.0.0.0/8"), Self.network("::1/128")])
            let result = await Self.executor(policy).run(Self.request("http://localhost:\(servers[0].port)/ok"))
            #expect(result.report.outcome == .succeeded)
            #expect(result.report.outputTail == "ok")
        }
    }

    @Test("a redirect to an allowed address is followed", arguments: [301, 302, 303, 307, 308])
    func redirectFollowed(code: Int) async throws {
        try await withServers(["127.0.0.1"]) { servers in
            let policy = AddressPolicy(allow: [Self.network("127.0.0.1")])
            let url = servers[0].url("/redirect/\(code)?to=/echo")
            let result = await Self.executor(policy).run(Self.request(url, method: "POST"))
            #expect(result.report.outcome == .succeeded)
            // 307 and 308 repeat the method; the others turn POST into GET.
            #expect(result.report.outputTail.hasPrefix(code >= 307 ? "POST" : "GET"))
            #expect(servers[0].requests.value == 2)
        }
    }

    @Test("a redirect from an allowed server to a denied address is refused before it is sent")
    func redirectToDeniedRefused() async throws {
        try await withServers(["127.0.0.1", "127.0.0.2"]) { servers in
            let policy = AddressPolicy(allow: [Self.network("127.0.0.1/32")])
            let denied = servers[1].url("/ok")
            let start = servers[0].url("/redirect/302?to=\(denied)")
            let result = await Self.executor(policy).run(Self.request(start))
            #expect(result.report.outcome == .failed)
            #expect(result.report.error == "http tasks may not connect to 127.0.0.2: denied by loopback 127.0.0.0/8 (built-in); "
                    + "list the address in [executor] http_allow to permit it (reached by redirect from \(start))")
            #expect(servers[0].requests.value == 1)
            #expect(servers[1].requests.value == 0)
        }
    }

    @Test("credentials follow a redirect within the origin only")
    func credentialsStayWithTheOrigin() async throws {
        try await withServers(["127.0.0.1", "127.0.0.1"]) { servers in
            let executor = Self.executor(AddressPolicy(allow: [Self.network("127.0.0.1")]))
            func run(_ url: String) async -> ExecutionResult {
                let task = HTTPTask(method: "GET", url: url, headers: [KeyValue("Authorization", "Bearer s3cret")])
                return await executor.run(ExecutionRequest(runID: "run-1", attempt: 1, task: .http(task), timeout: .seconds(20)))
            }
            let sameOrigin = await run(servers[0].url("/redirect/302?to=/auth"))
            #expect(sameOrigin.report.outputTail == "authorization=Bearer s3cret")
            let otherOrigin = await run(servers[0].url("/redirect/302?to=\(servers[1].url("/auth"))"))
            #expect(otherOrigin.report.outcome == .succeeded)
            #expect(otherOrigin.report.outputTail == "authorization=")
        }
    }

    @Test("a redirect to anything but http(s) is not followed")
    func redirectToOtherScheme() async throws {
        try await withServers(["127.0.0.1"]) { servers in
            let start = servers[0].url("/redirect/302?to=file:///etc/passwd")
            let result = await Self.executor(AddressPolicy(allow: [Self.network("127.0.0.1")])).run(Self.request(start))
            #expect(result.report.outcome == .failed)
            #expect(result.report.error == "\(start) redirected (302) to \"file:///etc/passwd\", which is not an http:// or https:// URL "
                    + "with a host; not followed")
        }
    }

    @Test("redirects are bounded")
    func redirectLoopBounded() async throws {
        try await withServers(["127.0.0.1"]) { servers in
            let policy = AddressPolicy(allow: [Self.network("127.0.0.1")])
            let loop = servers[0].url("/redirect/302?to=/redirect/302?to=/redirect/302?to=/redirect/302?to=/redirect/302?to=/redirect/302?to=/ok")
            let result = await Self.executor(policy).run(Self.request(loop))
            #expect(result.report.outcome == .failed)
            #expect(result.report.error?.hasPrefix("more than 5 redirects") == true)
            #expect(servers[0].requests.value == 6)
        }
    }
}
