import AsyncHTTPClient
import EgressPolicy
import Executor
import SchedulerCore
import NIOPosix
import Testing

@Suite("http tasks")
struct HTTPTaskTests {
    /// Loopback is denied by default; these tests talk to a server on 127.0.0.1.
    static let loopbackAllowed = AddressPolicy(allow: [IPNetwork(address: .v4(0x7F00_0001), prefixLength: 32)].compactMap { $0 })

    /// Runs `body` with a local server and an executor under `policy`.
    private func withServer(
        policy: AddressPolicy = loopbackAllowed,
        clock: any Clock<Duration> = ContinuousClock(),
        _ body: (TestHTTPServer, AttemptRunner) async throws -> Void
    ) async throws {
        let server = try await TestHTTPServer.start()
        // AsyncHTTPClient retries a refused connection until its connect timeout (10 s by
        // default); 1 s keeps the refused-connection test short.
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(1)
        let executor = AttemptRunner(configuration: ExecutorConfiguration(httpPolicy: policy),
                                     httpClients: HTTPClientSettings(configuration: configuration), clock: clock,
                                     logger: silentLogger)
        do {
            try await body(server, executor)
        } catch {
            try await server.stop()
            throw error
        }
        try await server.stop()
    }

    private func request(_ task: HTTPTask, timeout: Duration = .seconds(20)) -> ExecutionRequest {
        ExecutionRequest(runID: "run-1", attempt: 1, task: .http(task), timeout: timeout)
    }

    @Test("a 2xx answer succeeds, with its status and body")
    func success() async throws {
        try await withServer { server, executor in
            let result = await executor.run(request(HTTPTask(method: "GET", url: server.url("/ok"))))
            #expect(result.report.outcome == .succeeded)
            #expect(result.report.httpStatus == 200)
            #expect(result.report.outputTail == "ok")
            #expect(result.report.error == nil)
        }
    }

    @Test("another status fails with the status and the body")
    func serverError() async throws {
        try await withServer { server, executor in
            let result = await executor.run(request(HTTPTask(method: "GET", url: server.url("/fail"))))
            #expect(result.report.outcome == .failed)
            #expect(result.report.httpStatus == 500)
            #expect(result.report.outputTail == "boom")
            #expect(result.report.error == "HTTP 500 Internal Server Error from GET \(server.url("/fail"))")
        }
    }

    @Test("method, headers and body are sent")
    func sendsMethodHeadersAndBody() async throws {
        try await withServer { server, executor in
            let task = HTTPTask(method: "post", url: server.url("/echo"),
                                headers: [KeyValue("X-Test", "42")],
                                body: Array("payload".utf8))
            let result = await executor.run(request(task))
            #expect(result.report.outcome == .succeeded)
            #expect(result.report.outputTail == "POST 42 payload")
        }
    }

    @Test("a large body keeps exactly its last 64 KiB")
    func largeBodyTail() async throws {
        try await withServer { server, executor in
            let result = await executor.run(request(HTTPTask(method: "GET", url: server.url("/big"))))
            #expect(result.report.outcome == .succeeded)
            #expect(Array(result.report.outputTail.utf8) == Array(TestHTTPServer.bigBody.suffix(64 * 1024)))
        }
    }

    @Test("a server that does not answer in time times the attempt out")
    func timeout() async throws {
        try await withServer { server, executor in
            let result = await executor.run(request(HTTPTask(method: "GET", url: server.url("/slow")), timeout: .milliseconds(300)))
            #expect(result.report.outcome == .timedOut)
            #expect(result.report.httpStatus == nil)
            #expect(result.report.error == "no complete response from GET \(server.url("/slow")) within timeout 0.3s")
        }
    }

    /// The attempt's timer runs on the cooperative pool; AsyncHTTPClient's backstop, a second
    /// later, on an event loop. A starved pool once let the backstop fire first, and the attempt
    /// was reported `failed` instead of `timed_out`. A clock that never moves stands in for a
    /// timer that is late.
    @Test("when the attempt's own timer is late, the client's backstop deadline still times the attempt out")
    func backstopIsATimeout() async throws {
        try await withServer(clock: ManualClock()) { server, executor in
            let result = await executor.run(request(HTTPTask(method: "GET", url: server.url("/slow")), timeout: .milliseconds(300)))
            #expect(result.report.outcome == .timedOut)
            #expect(result.report.error == "no complete response from GET \(server.url("/slow")) within timeout 0.3s")
        }
    }

    @Test("a body that stalls times out, keeping the status and what arrived")
    func stalledBody() async throws {
        try await withServer { server, executor in
            // 2 s, not less: the status and "partial" must arrive before the timeout even on a
            // loaded 2-core machine (it flaked at 500 ms there); the stall itself is endless.
            let result = await executor.run(request(HTTPTask(method: "GET", url: server.url("/stall")), timeout: .seconds(2)))
            #expect(result.report.outcome == .timedOut)
            #expect(result.report.httpStatus == 200)
            #expect(result.report.outputTail == "partial")
        }
    }

    @Test("cancelling the caller cancels the request")
    func cancellation() async throws {
        try await withServer { server, executor in
            let request = request(HTTPTask(method: "GET", url: server.url("/slow")), timeout: .seconds(60))
            let attempt = Task { await executor.run(request) }
            try await waitUntil("the request to reach the server") { server.slowRequests.value == 1 }
            attempt.cancel()
            let result = try await value(of: attempt, within: .seconds(10))
            #expect(result.report.outcome == .cancelled)
            #expect(result.report.error == "cancelled")
        }
    }

    @Test("a refused connection fails with a message naming the URL")
    func connectionRefused() async throws {
        let refusing = try RefusingPort()
        try await withServer { _, executor in
            let url = "http://127.0.0.1:\(refusing.port)/"
            let result = await executor.run(request(HTTPTask(method: "GET", url: url)))
            #expect(result.report.outcome == .failed)
            #expect(result.report.httpStatus == nil)
            #expect(result.report.error == "connection refused to \(url)")
        }
        withExtendedLifetime(refusing) {}
    }

    @Test("invalid requests fail before anything is sent", arguments: [
        (HTTPTask(method: "GET", url: "ftp://example.com/file"),
         "http task url \"ftp://example.com/file\" is invalid: give an absolute http:// or https:// URL with a host"),
        (HTTPTask(method: "GET", url: "not a url"),
         "http task url \"not a url\" is invalid: give an absolute http:// or https:// URL with a host"),
        (HTTPTask(method: "GE T", url: "http://127.0.0.1/"),
         "http task method \"GE T\" is invalid: use a method such as GET or POST"),
        (HTTPTask(method: "GET", url: "http://127.0.0.1/", headers: [KeyValue("X-A", "a\r\nInjected: 1")]),
         "http task header X-A has a value containing CR, LF or NUL"),
    ])
    func invalidRequest(task: HTTPTask, message: String) async throws {
        try await withServer { _, executor in
            let result = await executor.run(request(task))
            #expect(result.report.outcome == .failed)
            #expect(result.report.error == message)
        }
    }
}
