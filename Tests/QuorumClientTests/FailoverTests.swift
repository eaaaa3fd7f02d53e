import HTTPAPI
import QuorumClient
import QuorumTestServer
import Testing

@Suite("FailoverTransport")
struct FailoverTests {
    @Test("a refused server and a 503 server are passed over; the third answers, once")
    func reachesThird() async throws {
        let service = TestAPIServer.makeService()
        let closed = try TestAPIServer.closedPortURL()
        try await TestAPIServer.withServer(router: TestAPIServer.makeUnavailableRouter()) { unavailable in
            try await TestAPIServer.withServer(service) { healthy in
                try await withClient([closed, unavailable, healthy]) { api in
                    let created = try await api.submitJob(JobSubmission(name: "via-third"))
                    #expect(created.server == healthy)
                    let jobs = try await service.listJobs(JobListQuery(), consistency: .linearizable).items
                    #expect(jobs.map(\.name) == ["via-third"])
                    #expect(try await api.cluster().server == healthy)
                }
            }
        }
    }

    @Test("when no server can answer, every one is named with its reason")
    func noneAvailable() async throws {
        let closed = try TestAPIServer.closedPortURL()
        try await TestAPIServer.withServer(router: TestAPIServer.makeUnavailableRouter()) { unavailable in
            try await withClient([closed, unavailable]) { api in
                let error = await #expect(throws: QuorumClientError.self) { _ = try await api.jobs() }
                guard case .noServerAvailable(let attempts) = error else {
                    Issue.record("expected noServerAvailable, got \(String(describing: error))")
                    return
                }
                #expect(attempts.map(\.server) == [closed, unavailable])
                #expect(attempts[0].reason == "connection refused")
                #expect(attempts[1].reason.hasPrefix("503 unavailable: no leader"))
                #expect(error?.isInvalidInput == false)
                #expect(error?.description.contains(closed) == true)
            }
        }
    }

    @Test("a 503 outcome_unknown ends a write without an idempotency key; with a key, the next server takes it")
    func outcomeUnknownIsNotRepeated() async throws {
        let box = LocalSchedulerServiceBox()
        try await TestAPIServer.withServer(router: TestAPIServer.makeOutcomeUnknownRouter()) { unknown in
            try await TestAPIServer.withServer(box.service) { healthy in
                try await withClient([unknown, healthy]) { api in
                    let error = await #expect(throws: QuorumClientError.self) { _ = try await api.submitJob(JobSubmission(name: "once")) }
                    guard case .outcomeUnknown(let server, _, let reason) = error else {
                        Issue.record("expected outcomeUnknown, got \(String(describing: error))")
                        return
                    }
                    #expect(server == unknown)
                    #expect(reason.hasPrefix("503 outcome_unknown"))
                    #expect(try await box.service.listJobs(JobListQuery(), consistency: .linearizable).items.isEmpty)

                    let keyed = try await api.submitJob(JobSubmission(name: "keyed"), idempotencyKey: "k1")
                    #expect(keyed.server == healthy)
                    #expect(try await box.service.listJobs(JobListQuery(), consistency: .linearizable).items.map(\.name) == ["keyed"])
                }
            }
        }
    }

    @Test("a 4xx is the answer: no failover to the next server")
    func clientErrorIsFinal() async throws {
        let second = TestAPIServer.makeService()
        try await TestAPIServer.withServer(TestAPIServer.makeService()) { first in
            try await TestAPIServer.withServer(second) { secondURL in
                try await withClient([first, secondURL]) { api in
                    let error = await #expect(throws: QuorumClientError.self) { _ = try await api.job("missing") }
                    #expect(error?.status == 404)
                    #expect(error?.description.contains(first) == true)
                }
            }
        }
    }
}

@Suite("FailoverTransport when a server takes a request and does not answer")
struct StalledServerTests {
    /// Runs `body` with a client of [a stalled server, a healthy one], whose requests time out
    /// after 1 s; the stalled server is released before it stops.
    func withStalledThenHealthy(
        _ service: LocalSchedulerServiceBox, _ body: @Sendable (QuorumAPIClient, String, String) async throws -> Void
    ) async throws {
        let gate = RequestGate()
        try await TestAPIServer.withServer(router: TestAPIServer.makeStalledRouter(gate: gate)) { stalled in
            defer { gate.open() }
            try await TestAPIServer.withServer(service.service) { healthy in
                try await QuorumAPIClient.withClient(
                    servers: try ServerList(parsing: "\(stalled),\(healthy)"), requestTimeout: .seconds(1)
                ) { api in try await body(api, stalled, healthy) }
            }
        }
    }

    @Test("a write without an idempotency key is not repeated: its outcome is unknown")
    func writeNotRepeated() async throws {
        let box = LocalSchedulerServiceBox()
        try await withStalledThenHealthy(box) { api, stalled, _ in
            let error = await #expect(throws: QuorumClientError.self) { _ = try await api.submitJob(JobSubmission(name: "once")) }
            guard case .outcomeUnknown(let server, let request, _) = error else {
                Issue.record("expected outcomeUnknown, got \(String(describing: error))")
                return
            }
            #expect(server == stalled)
            #expect(request == "POST /api/jobs")
            #expect(error?.description.contains("--idempotency-key") == true)
            let stored = try await box.service.listJobs(JobListQuery(), consistency: .linearizable)
            #expect(stored.items.isEmpty)
        }
    }

    @Test("a read, or a write with an idempotency key, moves on to the next server")
    func safeRequestsMoveOn() async throws {
        let box = LocalSchedulerServiceBox()
        try await withStalledThenHealthy(box) { api, _, healthy in
            let created = try await api.submitJob(JobSubmission(name: "keyed"), idempotencyKey: "k")
            #expect(created.server == healthy)
            #expect(try await api.jobs().value.items.map(\.name) == ["keyed"])
        }
    }
}

/// The in-memory service, shareable with the `@Sendable` test bodies.
struct LocalSchedulerServiceBox: Sendable {
    let service = TestAPIServer.makeService()
}

@Suite("FailoverTransport waiting for a leader")
struct UnavailableWaitTests {
    @Test("with a wait, rounds repeat until the node has a leader; without, the first 503 round fails")
    func waitsForLeader() async throws {
        let service = TestAPIServer.makeService()
        let counter = RequestCounter()
        let router = TestAPIServer.makeRecoveringRouter(service, unavailableRequests: 2, count: counter)
        try await TestAPIServer.withServer(router: router) { url in
            let servers = try ServerList(parsing: url)
            try await QuorumAPIClient.withClient(servers: servers) { api in
                let error = await #expect(throws: QuorumClientError.self) { _ = try await api.jobs() }
                #expect(error?.description.contains("503 unavailable") == true)
            }
            #expect(counter.count == 1)
            try await QuorumAPIClient.withClient(servers: servers, unavailableWait: .seconds(20)) { api in
                let created = try await api.submitJob(JobSubmission(name: "after-election"))
                #expect(created.status == 201)
            }
            #expect(counter.count == 3)
            #expect(try await service.listJobs(JobListQuery(), consistency: .linearizable).items.count == 1)
        }
    }
}
