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
