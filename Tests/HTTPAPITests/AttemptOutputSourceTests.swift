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
    /// Replicated tails as an executor cuts them: the last 4 KiB of a longer output (a tail
    /// shorter than that is the whole output, and the endpoint fetches nothing for it).
    static let cutOne = String(repeating: "1", count: AttemptOutputResource.replicatedLimit - 8) + "tail one"
    static let cutTwo = String(repeating: "2", count: AttemptOutputResource.replicatedLimit - 8) + "tail two"

    /// A job with two finished attempts: 1 on n2 (cut tail ending "tail one"), 2 on n3 ("tail two").
    static func jobWithTwoAttempts(_ service: LocalSchedulerService, _ client: some TestClientProtocol) async throws -> (String, String) {
        let created = try await client.send(.post, "/api/jobs",
                                            json: #"{"name":"a","retry":{"max_attempts":2,"initial_backoff_ms":0,"jitter":false}}"#)
        let job = try created.decoded(JobResource.self)
        let runID = try #require(job.runs.first?.runId)
        let deadline = startOfTest.adding(milliseconds: 60_000)
        try await service.propose(.assignAttempt(AssignAttempt(runID: RunID(runID), executor: "n2", attempt: 1, deadline: deadline)))
        try await service.propose(.finishAttempt(FinishAttempt(runID: RunID(runID), attempt: 1, report: AttemptReport(
            outcome: .failed, exitCode: 1, outputTail: cutOne, error: "exit 1"))))
        try await service.propose(.assignAttempt(AssignAttempt(runID: RunID(runID), executor: "n3", attempt: 2, deadline: deadline)))
        try await service.propose(.finishAttempt(FinishAttempt(runID: RunID(runID), attempt: 2, report: AttemptReport(
            outcome: .succeeded, exitCode: 0, outputTail: cutTwo))))
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
            #expect(replicated.outputTail == Self.cutOne)
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
            #expect(output.outputTail == Self.cutTwo)
            #expect(!output.complete && output.source == .replicated)
        }
    }

    @Test("a replicated tail shorter than the cut is the whole output: complete, and nothing is fetched")
    func shortOutputIsWhole() async throws {
        let service = makeLocalService()
        final class Counting: AttemptOutputSource {
            let asked = Mutex(0)
            func fullOutput(_ request: AttemptOutputRequest) async -> FetchedAttemptOutput? {
                asked.withLock { $0 += 1 }
                return nil
            }
        }
        let source = Counting()
        let app = Application(router: makeQuorumRouter(service: service, outputSource: source))
        try await app.test(.router) { client in
            let created = try await client.send(.post, "/api/jobs", json: #"{"name":"a"}"#)
            let job = try created.decoded(JobResource.self)
            let runID = try #require(job.runs.first?.runId)
            try await service.propose(.assignAttempt(AssignAttempt(runID: RunID(runID), executor: "n2", attempt: 1,
                                                                   deadline: startOfTest.adding(milliseconds: 60_000))))
            try await service.propose(.finishAttempt(FinishAttempt(runID: RunID(runID), attempt: 1, report: AttemptReport(
                outcome: .succeeded, exitCode: 0, outputTail: "hi\n"))))
            let output = try await client.send(.get, "/api/jobs/\(job.id)/runs/\(runID)/output").decoded(AttemptOutputResource.self)
            #expect(output.outputTail == "hi\n")
            #expect(output.complete && output.source == .replicated)
            #expect(source.asked.withLock { $0 } == 0)
        }
    }
}
