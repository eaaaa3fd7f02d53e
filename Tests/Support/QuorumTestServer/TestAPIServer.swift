import Foundation
import HTTPAPI
import Hummingbird
import Logging
import NIOCore
import SchedulerCore
import ServiceLifecycle
import Synchronization

/// Real HTTP servers on free loopback ports for the client and CLI tests.
public enum TestAPIServer {
    /// 2026-12-01T09:00:00Z: the fixed clock reading of ``makeService()``.
    public static let startOfTest = Timestamp(1_796_115_600_000)

    /// An in-memory node whose clock stands still at ``startOfTest``.
    public static func makeService(nodeID: String = "n1", apiAddress: String = "127.0.0.1:8080") -> LocalSchedulerService {
        LocalSchedulerService(clock: { startOfTest }, nodeID: nodeID, apiAddress: apiAddress)
    }

    /// Serves Quorum's API over `service` on 127.0.0.1 at a free port while `body` runs with the
    /// server's base URL (`http://127.0.0.1:PORT`), then stops it.
    public static func withServer<Result: Sendable>(
        _ service: LocalSchedulerService, _ body: @Sendable (String) async throws -> Result
    ) async throws -> Result {
        try await withServer(router: makeQuorumRouter(service: service), body)
    }

    /// Serves `router` on 127.0.0.1 at a free port while `body` runs with its base URL, then
    /// shuts the server down gracefully: its connections end their requests and close. A shutdown
    /// that does not end within ``shutdownTimeout`` is cancelled after all (by the service group:
    /// `maximumGracefulShutdownDuration`). The server is the API's (`http1ClosingUnserved`): a
    /// connection it drops unserved as it stops is closed, not a trap of the test process.
    public static func withServer<Result: Sendable>(
        router: Router<BasicRequestContext>, _ body: @Sendable (String) async throws -> Result
    ) async throws -> Result {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "quorum-test-server")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            server: .http1ClosingUnserved(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port { continuation.yield(port) }
                continuation.finish()
            },
            logger: logger)
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownTimeout  // then the group cancels the server
        let services = ServiceGroup(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // If the server cannot start, end the stream so the wait below ends too.
                defer { continuation.finish() }
                try await services.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                group.cancelAll()
                try await group.waitForAll()
                throw TestServerError(message: "the test server stopped before it listened")
            }
            let outcome: Swift.Result<Result, any Error>
            do {
                outcome = .success(try await body("http://127.0.0.1:\(port)"))
            } catch {
                outcome = .failure(error)
            }
            await services.triggerGracefulShutdown()
            _ = try? await group.next()  // the server ended, gracefully or cancelled by the group
            return try outcome.get()
        }
    }

    /// How long a graceful shutdown of a test server may take before it is cancelled.
    public static let shutdownTimeout = Duration.seconds(10)

    /// A router that answers every request with the API's 503 (a node without a leader).
    public static func makeUnavailableRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.on("**", method: .get) { _, _ -> Response in throw APIError.unavailable(retryAfter: 1) }
        router.on("**", method: .post) { _, _ -> Response in throw APIError.unavailable(retryAfter: 1) }
        router.on("**", method: .delete) { _, _ -> Response in throw APIError.unavailable(retryAfter: 1) }
        return router
    }

    /// A router that answers every write 503 `outcome_unknown` (proposed, commit unknown), as a
    /// node does when the leader changed under a write, and every read 503 `unavailable`.
    public static func makeOutcomeUnknownRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.on("**", method: .get) { _, _ -> Response in throw APIError.unavailable(retryAfter: 1) }
        router.on("**", method: .post) { _, _ -> Response in
            throw APIError.outcomeUnknown(retryAfter: 1, "leader n2 did not answer; the outcome is unknown")
        }
        return router
    }

    /// Makes the first attempt of once job `jobID` fail for good, so its run lands in the DLQ
    /// (submit the job with `max_attempts` 1). Returns the run id.
    @discardableResult
    public static func killFirstRun(ofJob jobID: String, in service: LocalSchedulerService) async throws -> String {
        let job = try await service.job(jobID, consistency: .linearizable)
        guard let runID = job.runs.first?.runId else {
            throw TestServerError(message: "job \(jobID) has no run to kill")
        }
        try await killAttempt(attempt: 1, ofRun: runID, in: service)
        return runID
    }

    /// Assigns attempt `attempt` of queued run `runID` to n2 and reports it failed (exit 3): the
    /// run is dead when that was its last allowed attempt.
    public static func killAttempt(attempt: Int, ofRun runID: String, in service: LocalSchedulerService) async throws {
        try await service.propose(.assignAttempt(AssignAttempt(
            runID: RunID(runID), executor: "n2", attempt: attempt, deadline: startOfTest.adding(milliseconds: 60_000))))
        try await service.propose(.finishAttempt(FinishAttempt(
            runID: RunID(runID), attempt: attempt, report: AttemptReport(outcome: .failed, exitCode: 3, error: "exit 3"))))
    }

    /// Assigns attempt `attempt` of queued run `runID` to n2 and reports it succeeded.
    public static func succeedAttempt(attempt: Int, ofRun runID: String, in service: LocalSchedulerService) async throws {
        try await service.propose(.assignAttempt(AssignAttempt(
            runID: RunID(runID), executor: "n2", attempt: attempt, deadline: startOfTest.adding(milliseconds: 60_000))))
        try await service.propose(.finishAttempt(FinishAttempt(
            runID: RunID(runID), attempt: attempt, report: AttemptReport(outcome: .succeeded, exitCode: 0))))
    }
}

/// A test server that could not be set up.
public struct TestServerError: Error, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// The message.
    public var description: String { message }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TestAPIServer {
    /// `http://127.0.0.1:PORT` for a port nobody listens on: bound to get a free port from the
    /// OS, then closed, so connecting is refused.
    public static func closedPortURL() throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestServerError(message: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw TestServerError(message: "bind() failed: errno \(errno)") }
        return "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
    }
}

/// A gate that requests wait at until the test opens it: a server that accepted a request but
/// has not answered yet, without sleeping.
public final class RequestGate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// A closed gate.
    public init() {}

    /// Waits until ``open()`` (at once if already open).
    public func wait() async {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
    }

    /// Lets every waiting and future request through.
    public func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

extension TestAPIServer {
    /// A router whose every request waits at `gate`, then answers 503: a node that takes a
    /// request and does not answer in time.
    public static func makeStalledRouter(gate: RequestGate) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        for method in [HTTPRequest.Method.get, .post, .delete] {
            router.on("**", method: method) { _, _ -> Response in
                await gate.wait()
                throw APIError.unavailable(retryAfter: 1)
            }
        }
        return router
    }
}

extension TestAPIServer {
    /// Quorum's API over `service`, except that the first `unavailableRequests` requests are
    /// answered 503 (a node whose cluster is still electing a leader). `count` is told every
    /// request.
    public static func makeRecoveringRouter(
        _ service: LocalSchedulerService, unavailableRequests: Int, count: RequestCounter
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: UnavailableFirst(limit: unavailableRequests, counter: count))
        QuorumRoutes(service: service).register(on: router)
        return router
    }
}

/// Counts requests.
public final class RequestCounter: Sendable {
    private let value = Mutex(0)
    /// A counter at zero.
    public init() {}
    /// The count so far.
    public var count: Int { value.withLock { $0 } }
    /// Adds one and returns the new count.
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}

/// Answers 503 to the first `limit` requests, then lets them through.
struct UnavailableFirst<Context: RequestContext>: RouterMiddleware {
    let limit: Int
    let counter: RequestCounter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if counter.increment() <= limit { throw APIError.unavailable(retryAfter: 1) }
        return try await next(request, context)
    }
}

extension TestAPIServer {
    /// What a ``makeDoctorTargetRouter(cluster:gate:)`` node does on `GET /api/cluster`.
    public enum ClusterAnswer: Sendable {
        /// 401, as a node with tokens answers a request without one.
        case unauthorized
        /// 200 with a body that is not a cluster view.
        case garbage(String)
    }

    /// A node as `quorum doctor` meets it: `/healthz` and `/readyz` 200 and `/api/cluster` as
    /// `cluster` says. With `gate`, every answer sends its status line and headers, then waits at
    /// the gate before its body: a node that stops answering halfway.
    public static func makeDoctorTargetRouter(cluster: ClusterAnswer, gate: RequestGate? = nil) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        @Sendable func answer(_ text: String) -> Response {
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            let body = ResponseBody { writer in
                if let gate { await gate.wait() }
                try await writer.write(ByteBuffer(string: text))
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: headers, body: body)
        }
        router.get("/healthz") { _, _ in answer(#"{"status":"ok"}"#) }
        router.get("/readyz") { _, _ in answer(#"{"status":"ready"}"#) }
        router.get("/api/cluster") { _, _ -> Response in
            switch cluster {
            case .unauthorized: throw APIError(.unauthorized, "this route needs a bearer token")
            case .garbage(let text): return answer(text)
            }
        }
        return router
    }
}

extension TestAPIServer {
    /// A leader `leader` as a follower's cluster view meets it: `GET /api/cluster` counts the
    /// request in `count`, waits at `gate`, and answers the leader's own view. With
    /// `stallBody`, it sends the status line and headers first and waits at the gate before the
    /// body (a leader that stops answering halfway).
    public static func makeLeaderViewRouter(leader: String, count: RequestCounter, gate: RequestGate,
                                            stallBody: Bool = false) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.get("/api/cluster") { _, _ -> Response in
            _ = count.increment()
            if !stallBody { await gate.wait() }
            let view = ClusterResource(leader: leader, term: 2, commitIndex: 9, nodes: [
                ClusterNodeResource(id: leader, role: "leader", api: "", raft: "", reachable: true, matchIndex: 9, slots: 1, busy: 0,
                                    appliedIndex: 9, lag: 0),
            ], node: leader, appliedIndex: 9, source: .local)
            let json = try JSONEncoder().encode(view)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                if stallBody { await gate.wait() }
                try await writer.write(ByteBuffer(bytes: json))
                try await writer.finish(nil)
            })
        }
        return router
    }
}
