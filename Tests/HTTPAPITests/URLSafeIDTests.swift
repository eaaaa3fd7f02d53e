import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Testing

/// Issue #12: DAG task runs in the DLQ are requeued and purged over HTTP, old `/` ids too.
@Suite("URL-safe ids")
struct URLSafeIDTests {
    /// Makes the first attempt of `runID` fail for good (the task has `max_attempts` 1).
    static func kill(_ runID: RunID, _ service: LocalSchedulerService, attempt: Int = 1) async throws {
        try await service.propose(.assignAttempt(AssignAttempt(runID: runID, executor: "n2", attempt: attempt,
                                                               deadline: startOfTest.adding(milliseconds: 60_000))))
        try await service.propose(.finishAttempt(FinishAttempt(runID: runID, attempt: attempt,
                                                               report: AttemptReport(outcome: .failed, exitCode: 1, error: "exit 1"))))
    }

    static let twoTasks = #"{"name":"d","tasks":[{"id":"a","retry":{"max_attempts":1}},{"id":"b","depends_on":["a"]}]}"#

    @Test("a new DAG's task run ids are <dag>.<task> and need no escaping; requeue and purge work")
    func newIDs() async throws {
        let service = makeLocalService()
        try await withAPI(service) { client in
            let run = try await client.send(.post, "/api/dags", json: Self.twoTasks).decoded(DAGRunResource.self)
            let taskRun = try #require(run.tasks.first?.runId)
            #expect(taskRun == run.id + ".a")
            let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
            #expect(taskRun.allSatisfy { unreserved.contains($0) }, "\(taskRun)")
            try await Self.kill(RunID(taskRun), service)
            let requeued = try await client.send(.post, "/api/dlq/\(taskRun)/requeue")
            #expect(requeued.status == .ok, "\(requeued.text)")
            #expect(try requeued.decoded(DeadLetterResource.self).dagId == run.id)
            try await Self.kill(RunID(taskRun), service, attempt: 2)
            #expect(try await client.send(.delete, "/api/dlq/\(taskRun)").status == .noContent)
        }
    }

    @Test("an old task run id with '/' is found as %2F (or %2f): requeue 200, purge 204")
    func legacyIDsDecoded() async throws {
        let service = makeLocalService()
        let spec = try DAGSpec.validated(name: "d", tasks: [
            DAGTaskSpec(id: "a", retry: RetryPolicy(maxAttempts: 1)), DAGTaskSpec(id: "b", dependsOn: ["a"]),
        ])
        try await service.propose(.submitDAG(SubmitDAG(dagRunID: "dn2-mxaoqw02-5", spec: spec, taskRunIDStyle: .slash)))
        try await Self.kill("dn2-mxaoqw02-5/a", service)
        try await withAPI(service) { client in
            let requeued = try await client.send(.post, "/api/dlq/dn2-mxaoqw02-5%2Fa/requeue")
            #expect(requeued.status == .ok, "\(requeued.text)")
            #expect(try requeued.decoded(DeadLetterResource.self).runId == "dn2-mxaoqw02-5/a")
            #expect(try await client.send(.get, "/api/dags/dn2-mxaoqw02-5").decoded(DAGRunResource.self).state == "running")
            try await Self.kill("dn2-mxaoqw02-5/a", service, attempt: 2)
            #expect(try await client.send(.delete, "/api/dlq/dn2-mxaoqw02-5%2fa").status == .noContent)
            #expect(try await client.send(.delete, "/api/dlq/dn2-mxaoqw02-5%2Fa").status == .notFound)
        }
    }

    @Test("a malformed escape is 400 naming the path parameter", arguments: ["%ZZ", "x%2", "x%", "%C3%28"])
    func malformedEscape(_ id: String) async throws {
        try await withAPI(makeLocalService()) { client in
            let response = try await client.send(.post, "/api/dlq/\(id)/requeue")
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(response.apiError?.code == "bad_request")
            #expect(response.apiError?.field == "run_id")
            let job = try await client.send(.get, "/api/jobs/\(id)")
            #expect(job.status == .badRequest)
            #expect(job.apiError?.field == "id")
        }
    }

    @Test("a job id escaped needlessly (%6A1 for j1) still finds the job")
    func needlessEscape() async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"x"}"#).decoded(JobResource.self)
            let first = try #require(job.id.first)
            let escaped = "%" + String(first.asciiValue ?? 0, radix: 16) + job.id.dropFirst()
            #expect(try await client.send(.get, "/api/jobs/\(escaped)").decoded(JobResource.self).id == job.id)
        }
    }

    @Test("task ids outside the unreserved set are 422 on tasks[i].id")
    func taskIDRules() async throws {
        try await withAPI(makeLocalService()) { client in
            for bad in ["a b", "a/b", "a?b", "ä", String(repeating: "x", count: 129)] {
                let body = #"{"name":"d","tasks":[{"id":"ok"},{"id":"\#(bad)"}]}"#
                let response = try await client.send(.post, "/api/dags", json: body)
                #expect(response.status == .unprocessableContent, "\(bad)")
                #expect(response.apiError?.field == "tasks[1].id", "\(bad)")
            }
            let good = #"{"name":"d","tasks":[{"id":"Extract_v2.1~x-y"},{"id":"\#(String(repeating: "x", count: 128))"}]}"#
            #expect(try await client.send(.post, "/api/dags", json: good).status == .created)
        }
    }
}
