import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Synchronization
import Testing

/// `GET /api/jobs/{id}/runs/{run_id}/output` with an ``AttemptOutputSource``: the full tail
/// when the source has it (`complete: true`), the replicated short tail when it has not
/// (`complete: false`, `source: "replicated"`), never an error; a proxied request never proxies.
@Suite("Attempt output from the executor node")
struct AttemptOutputSourceTests {
    /// A job with two finished attempts: 1 on n2 (short tail "tail one"), 2 on n3 ("tail two").
    static func jobWithTwoAttempts(_ service: LocalSchedulerService, _ client: some TestClientProtocol) async throws -> (String, String) {
        let created = try await client.send(.post, "/api/jobs",
                                            json: #"{"name":"a","retry":{"max_attempts":2,"initial_backoff_ms":0,"jitter":false}}"#)
        let job = try created.decoded(JobResource.self)
        let runID = try #require(job.runs.first?.runId)
        let deadline = startOfTest.adding(milliseconds: 60_000)
        try await service.propose(.assignAttempt(AssignAttempt(runID: RunID(runID), executor: "n2", attempt: 1, deadline: deadline)))
        try await service.propose(.finishAttempt(FinishAttempt(runID: RunID(runID), attempt: 1, report: AttemptReport(
            outcome: .failed, exitCode: 1, outputTail: "tail one", error: "exit 1"))))
        try await service.propose(.assignAttempt(AssignAttempt(runID: RunID(runID), executor: "n3", attempt: 2, deadline: deadline)))
        try await service.propose(.finishAttempt(FinishAttempt(runID: RunID(runID), attempt: 2, report: AttemptReport(
            outcome: .succeeded, exitCode: 0, outputTail: "tail two"))))
        return (job.id, runID)
    }

    @Test("the source's full tail is served with complete: true; without it, the replicated tail with complete: false")
    func fullOrReplicated() async throws {
        let service = makeLocalService()
        // The run id is known only after submitting: the fake answers for any run's attempt 2 on n3.
        final class ByExecutor: AttemptOutputSource {
            let asked = Mutex<[AttemptOutputRequest]>([])
            func fullOutput(_ request: AttemptOutputRequest) async -> FetchedAttemptOutput? {
                asked.withLock { $0.append(request) }
                guard request.executor == "n3", request.attempt == 2 else { return nil }
                return FetchedAttemptOutput(text: "the whole output\ntail two", source: .executor)
            }
        }
        let source = ByExecutor()
        let app = Application(router: makeQuorumRouter(service: service, outputSource: source))
        try await app.test(.router) { client in
            let (jobID, runID) = try await Self.jobWithTwoAttempts(service, client)
            let full = try await client.send(.get, "/api/jobs/\(jobID)/runs/\(runID)/output",
                                             headers: [.authorization: "Bearer abc"])
            #expect(full.status == .ok)
            let output = try full.decoded(AttemptOutputResource.self)
            #expect(output.outputTail == "the whole output\ntail two")
            #expect(output.complete && output.source == .executor)
            #expect(full.text.contains(#""complete":true"#) && full.text.contains(#""source":"executor""#))

            let fallback = try await client.send(.get, "/api/jobs/\(jobID)/runs/\(runID)/output?attempt=1")
            #expect(fallback.status == .ok)
            let replicated = try fallback.decoded(AttemptOutputResource.self)
            #expect(replicated.outputTail == "tail one")
            #expect(!replicated.complete && replicated.source == .replicated)

            // A request another node proxied must not be proxied again.
            let proxied = try await client.send(.get, "/api/jobs/\(jobID)/runs/\(runID)/output",
                                                headers: [HTTPFields.Element.Name(AttemptOutputRequest.proxiedHeader)!: "1"])
            #expect(proxied.status == .ok)
            let asked = source.asked.withLock { $0 }
            #expect(asked.count == 3)
            #expect(asked.first?.authorization == "Bearer abc", "the caller's token is forwarded")
            #expect(asked.first?.mayProxy == true)
            #expect(asked.last?.mayProxy == false)
            #expect(asked.first?.jobID == jobID && asked.first?.runID == runID && asked.first?.executor == "n3")
        }
    }

    @Test("without a source (or for a running attempt) the endpoint answers the replicated tail")
    func noSource() async throws {
        let service = makeLocalService()
        try await withAPI(service) { client in
            let (jobID, runID) = try await Self.jobWithTwoAttempts(service, client)
            let response = try await client.send(.get, "/api/jobs/\(jobID)/runs/\(runID)/output")
            let output = try response.decoded(AttemptOutputResource.self)
            #expect(output.outputTail == "tail two")
            #expect(!output.complete && output.source == .replicated)
        }
    }
}
