import AsyncHTTPClient
import Foundation
import HTTPAPI
import QuorumClient
import QuorumTestServer
import Testing

/// Runs `body` with a client of the given servers, shutting its HTTP client down afterwards.
func withClient<Result: Sendable>(_ servers: [String], _ body: (QuorumAPIClient) async throws -> Result) async throws -> Result {
    try await QuorumAPIClient.withClient(servers: try ServerList(parsing: servers.joined(separator: ",")),
                                         requestTimeout: .seconds(30), body)
}

@Suite("QuorumAPIClient against a real server")
struct ClientEndpointTests {
    @Test("submit a typed job; read it back as job, status, list and runs")
    func jobs() async throws {
        let service = TestAPIServer.makeService()
        try await TestAPIServer.withServer(service) { url in
            try await withClient([url]) { api in
                let submission = JobSubmission(name: "report", schedule: "0 * * * *", priority: .integer(2),
                                               task: .shell(command: ["/bin/echo", "hi"], env: nil, workdir: nil),
                                               labels: ["team": "data"])
                let created = try await api.submitJob(submission)
                #expect(created.status == 201)
                #expect(created.server == url)
                #expect(created.value.type == "cron")
                let stored = try await service.job(created.value.id, consistency: .linearizable)
                #expect(stored.name == "report")
                #expect(stored.priority == 2)
                #expect(stored.labels == ["team": "data"])

                let job = try await api.job(created.value.id)
                #expect(job.value == stored)
                #expect(try JSONDecoder().decode(JobResource.self, from: Data(job.json)) == stored)
                #expect(try await api.jobStatus(created.value.id, stale: true).value.status == "Pending")

                _ = try await api.submitJob(JobSubmission(name: "other"))
                let labelled = try await api.jobs(labels: ["team:data"])
                #expect(labelled.value.items.map(\.id) == [created.value.id])
                let page = try await api.jobs(limit: 1)
                #expect(page.value.items.count == 1)
                #expect(page.value.nextCursor != nil)
                #expect(try await api.runs(ofJob: created.value.id).value.items.isEmpty)
            }
        }
    }

    @Test("an idempotency key makes a repeat return the first job with 200")
    func idempotency() async throws {
        let service = TestAPIServer.makeService()
        try await TestAPIServer.withServer(service) { url in
            try await withClient([url]) { api in
                let first = try await api.submitJob(JobSubmission(name: "once"), idempotencyKey: "k1")
                let second = try await api.submitJob(JobSubmission(name: "once"), idempotencyKey: "k1")
                #expect(first.status == 201)
                #expect(second.status == 200)
                #expect(first.value.id == second.value.id)
                #expect(try await service.listJobs(JobListQuery(), consistency: .linearizable).items.count == 1)
            }
        }
    }

    @Test("a 422 names the field and is invalid input; a 404 is not")
    func errors() async throws {
        try await TestAPIServer.withServer(TestAPIServer.makeService()) { url in
            try await withClient([url]) { api in
                let invalid = await #expect(throws: QuorumClientError.self) {
                    _ = try await api.submitJob(JobSubmission(name: "bad", schedule: "61 * * * *"))
                }
                #expect(invalid?.status == 422)
                #expect(invalid?.isInvalidInput == true)
                #expect(invalid?.description.hasPrefix("schedule: ") == true, "\(String(describing: invalid))")
                let missing = await #expect(throws: QuorumClientError.self) { _ = try await api.job("nope") }
                #expect(missing?.status == 404)
                #expect(missing?.isInvalidInput == false)
                let batch = await #expect(throws: QuorumClientError.self) {
                    _ = try await api.submitBatch(json: Array(#"{"jobs":[{"name":"a"},{"name":""}]}"#.utf8))
                }
                #expect(batch?.description.hasPrefix("jobs[1].name: ") == true, "\(String(describing: batch))")
            }
        }
    }

    @Test("batch, job actions, DAG runs, the DLQ and the cluster")
    func everythingElse() async throws {
        let service = TestAPIServer.makeService()
        try await TestAPIServer.withServer(service) { url in
            try await withClient([url]) { api in
                let batch = try await api.submitBatch(json: Array(#"{"jobs":[{"name":"a","retry":{"max_attempts":1}},{"name":"b"}]}"#.utf8))
                #expect(batch.value.ids.count == 2)
                let cron = try await api.submitJob(JobSubmission(name: "c", schedule: "@daily"))
                #expect(try await api.jobAction(.pause, cron.value.id).value.state == "paused")
                #expect(try await api.jobAction(.resume, cron.value.id).value.state == "scheduled")
                #expect(try await api.cancelJob(cron.value.id).value.state == "cancelled")

                let dag = try await service.submitDAG(
                    DAGSubmission(name: "etl", tasks: [DAGTaskBody(id: "extract"), DAGTaskBody(id: "load", dependsOn: ["extract"])]),
                    idempotency: nil)
                guard case .run(let run) = dag.value else { Issue.record("expected a DAG run"); return }
                #expect(try await api.dagRuns().value.items.map(\.id) == [run.id])
                #expect(try await api.dagRun(run.id).value.tasks.map(\.id) == ["extract", "load"])
                #expect(try await api.cancelDAGRun(run.id).value.state == "cancelled")

                let runID = try await TestAPIServer.killFirstRun(ofJob: batch.value.ids[0], in: service)
                #expect(try await api.deadLetters().value.items.map(\.runId) == [runID])
                #expect(try await api.requeueDeadLetter(runID).value.runId == runID)
                #expect(try await api.deadLetters(stale: true).value.items.isEmpty)

                let cluster = try await api.cluster()
                #expect(cluster.value.nodes.map(\.id) == ["n1"])
            }
        }
    }

    @Test("purge answers 204 with no body and removes the run")
    func purge() async throws {
        let service = TestAPIServer.makeService()
        try await TestAPIServer.withServer(service) { url in
            try await withClient([url]) { api in
                let job = try await api.submitJob(JobSubmission(name: "a", retry: RetryBody(maxAttempts: 1)))
                let runID = try await TestAPIServer.killFirstRun(ofJob: job.value.id, in: service)
                let purged = try await api.purgeDeadLetter(runID)
                #expect(purged.status == 204)
                #expect(purged.body.isEmpty)
                #expect(try await api.deadLetters().value.items.isEmpty)
            }
        }
    }
}
