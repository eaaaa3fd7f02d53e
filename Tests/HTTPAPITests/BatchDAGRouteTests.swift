import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Testing

@Suite("Batch, DAG and DLQ routes")
struct BatchDAGRouteTests {
    @Test("a batch creates every job, ids in order; a retry with the key returns the same ids")
    func batch() async throws {
        try await withAPI(makeLocalService()) { client in
            let body = #"{"jobs":[{"name":"a"},{"name":"b","schedule":"*/5 * * * *"},{"name":"c","priority":3}]}"#
            let headers: HTTPFields = [idempotencyKeyHeader: "batch-1"]
            let response = try await client.send(.post, "/api/jobs/batch", json: body, headers: headers)
            #expect(response.status == .created)
            let ids = try response.decoded(BatchResult.self).ids
            #expect(ids.count == 3)
            for (id, name) in zip(ids, ["a", "b", "c"]) {
                #expect(try await client.send(.get, "/api/jobs/\(id)").decoded(JobResource.self).name == name)
            }
            let retry = try await client.send(.post, "/api/jobs/batch", json: body, headers: headers)
            #expect(retry.status == .ok)
            #expect(try retry.decoded(BatchResult.self).ids == ids)
            let clash = try await client.send(.post, "/api/jobs/batch", json: #"{"jobs":[{"name":"z"}]}"#, headers: headers)
            #expect(clash.status == .conflict)
            #expect(try await client.send(.get, "/api/jobs").decoded(ListPage<JobResource>.self).items.count == 3)
        }
    }

    @Test("one bad job fails the whole batch with jobs[i].field and creates nothing")
    func batchAllOrNone() async throws {
        try await withAPI(makeLocalService()) { client in
            let cases: [(String, HTTPResponse.Status, String)] = [
                (#"{"jobs":[{"name":"a"},{"name":"b"},{"name":"c","schedule":"nope"}]}"#, .unprocessableContent, "jobs[2].schedule"),
                (#"{"jobs":[{"name":"a"},{"name":"b","retry":{"max_attempts":0}}]}"#, .unprocessableContent, "jobs[1].retry.max_attempts"),
                (#"{"jobs":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d","task":{"kind":"shell","command":5}}]}"#, .badRequest, "jobs[3].task.command"),
                (#"{"jobs":[]}"#, .unprocessableContent, "jobs"),
                (#"{}"#, .unprocessableContent, "jobs"),
            ]
            for (body, status, field) in cases {
                let response = try await client.send(.post, "/api/jobs/batch", json: body)
                #expect(response.status == status, "\(body)")
                #expect(response.apiError?.field == field, "\(body)")
            }
            #expect(try await client.send(.get, "/api/jobs").decoded(ListPage<JobResource>.self).items.isEmpty)
        }
    }

    @Test("more jobs than the batch limit is a 422 on jobs")
    func batchLimit() async throws {
        try await withAPI(makeLocalService(), limits: APILimits(maxBatchJobs: 2)) { client in
            let response = try await client.send(.post, "/api/jobs/batch", json: #"{"jobs":[{"name":"a"},{"name":"b"},{"name":"c"}]}"#)
            #expect(response.status == .unprocessableContent)
            #expect(response.apiError?.field == "jobs")
        }
    }

    let diamond = #"""
    {"name":"etl","tasks":[{"id":"extract"},{"id":"left","depends_on":["extract"]},
     {"id":"right","depends_on":["extract"],"task":{"kind":"sleep","seconds":1}},
     {"id":"load","depends_on":["left","right"],"retry":{"max_attempts":5}}]}
    """#

    @Test("a DAG run: submit, get, list, cancel")
    func dagRun() async throws {
        try await withAPI(makeLocalService()) { client in
            let created = try await client.send(.post, "/api/dags", json: diamond)
            #expect(created.status == .created)
            let run = try created.decoded(DAGRunResource.self)
            #expect(run.name == "etl")
            #expect(run.state == "running")
            #expect(run.tasks.map(\.id) == ["extract", "left", "right", "load"])
            #expect(run.tasks.map(\.state) == ["queued", "pending", "pending", "pending"])
            #expect(run.tasks[3].dependsOn == ["left", "right"])

            let fetched = try await client.send(.get, "/api/dags/\(run.id)")
            #expect(try fetched.decoded(DAGRunResource.self).id == run.id)
            let list = try await client.send(.get, "/api/dags?state=running").decoded(ListPage<DAGRunResource>.self)
            #expect(list.items.map(\.id) == [run.id])
            #expect(try await client.send(.get, "/api/dags?state=failed").decoded(ListPage<DAGRunResource>.self).items.isEmpty)
            #expect(try await client.send(.get, "/api/dags?state=bogus").status == .unprocessableContent)

            let cancelled = try await client.send(.delete, "/api/dags/\(run.id)")
            #expect(cancelled.status == .ok)
            #expect(try cancelled.decoded(DAGRunResource.self).state == "cancelled")
        }
    }

    @Test("a scheduled DAG creates a cron job")
    func scheduledDAG() async throws {
        try await withAPI(makeLocalService()) { client in
            let body = #"{"name":"nightly","schedule":"30 2 * * *","timezone":"Europe/Berlin","tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}"#
            let created = try await client.send(.post, "/api/dags", json: body)
            #expect(created.status == .created)
            let job = try created.decoded(JobResource.self)
            #expect(job.type == "cron")
            #expect(job.dag == "nightly")
            #expect(job.nextRunAt?.description == "2026-12-02T01:30:00.000Z")
        }
    }

    @Test("DAG errors: unknown dependency 422 on tasks[i].depends_on, cycle 409 naming it")
    func dagErrors() async throws {
        try await withAPI(makeLocalService()) { client in
            let unknown = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a"},{"id":"b"},{"id":"c","depends_on":["zz"]}]}"#)
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.apiError?.field == "tasks[2].depends_on")
            let cycle = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a","depends_on":["b"]},{"id":"b","depends_on":["a"]}]}"#)
            #expect(cycle.status == .conflict)
            #expect(cycle.apiError?.code == "conflict")
            #expect(cycle.apiError?.message.contains("a -> b -> a") == true)
            let empty = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[]}"#)
            #expect(empty.apiError?.field == "tasks")
            let noID = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"task":{"kind":"noop"}}]}"#)
            #expect(noID.apiError?.field == "tasks[0].id")
            let badTask = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a","task":{"kind":"http","url":"mailto:x"}}]}"#)
            #expect(badTask.apiError?.field == "tasks[0].task.url")
            let misplaced = try await client.send(.post, "/api/dags", json: #"{"name":"d","misfire":"skip","tasks":[{"id":"a"}]}"#)
            #expect(misplaced.apiError?.field == "misfire")
            #expect(try await client.send(.get, "/api/dags").decoded(ListPage<DAGRunResource>.self).items.isEmpty)
        }
    }

    @Test("DAG idempotency: the same key returns the first DAG run with 200")
    func dagIdempotency() async throws {
        try await withAPI(makeLocalService()) { client in
            let headers: HTTPFields = [idempotencyKeyHeader: "dag-1"]
            let first = try await client.send(.post, "/api/dags", json: diamond, headers: headers)
            let second = try await client.send(.post, "/api/dags", json: diamond, headers: headers)
            #expect(first.status == .created)
            #expect(second.status == .ok)
            #expect(try first.decoded(DAGRunResource.self).id == second.decoded(DAGRunResource.self).id)
        }
    }

    @Test("DLQ: a dead run is listed, requeued (200) or purged (204)")
    func deadLetters() async throws {
        let service = makeLocalService()
        try await withAPI(service) { client in
            var runIDs: [RunID] = []
            for name in ["one", "two"] {
                let job = try await client.send(.post, "/api/jobs", json: #"{"name":"\#(name)","retry":{"max_attempts":1}}"#)
                    .decoded(JobResource.self)
                let runID = RunID(try #require(job.runs.first?.runId))
                try await service.propose(.assignAttempt(AssignAttempt(runID: runID, executor: "n2", attempt: 1,
                                                                       deadline: startOfTest.adding(milliseconds: 60_000))))
                try await service.propose(.finishAttempt(FinishAttempt(runID: runID, attempt: 1,
                                                                       report: AttemptReport(outcome: .failed, exitCode: 3, error: "exit 3"))))
                runIDs.append(runID)
                let runs = try await client.send(.get, "/api/jobs/\(job.id)/runs").decoded(AttemptList.self).items
                #expect(runs.first?.outcome == "failed")
                #expect(runs.first?.exitCode == 3)
                #expect(runs.first?.executor == "n2")
            }
            let page = try await client.send(.get, "/api/dlq?limit=1").decoded(ListPage<DeadLetterResource>.self)
            #expect(page.items.count == 1)
            #expect(page.items.first?.error == "exit 3")
            #expect(page.items.first?.attempts == 1)
            let rest = try await client.send(.get, "/api/dlq?limit=1&cursor=\(try #require(page.nextCursor))")
                .decoded(ListPage<DeadLetterResource>.self)
            #expect(Set((page.items + rest.items).map(\.runId)) == Set(runIDs.map(\.rawValue)))

            let requeued = try await client.send(.post, "/api/dlq/\(runIDs[0].rawValue)/requeue")
            #expect(requeued.status == .ok)
            #expect(try requeued.decoded(DeadLetterResource.self).runId == runIDs[0].rawValue)
            let purged = try await client.send(.delete, "/api/dlq/\(runIDs[1].rawValue)")
            #expect(purged.status == .noContent)
            #expect(try await client.send(.get, "/api/dlq").decoded(ListPage<DeadLetterResource>.self).items.isEmpty)
            #expect(try await client.send(.delete, "/api/dlq/\(runIDs[1].rawValue)").status == .notFound)
        }
    }

    @Test("cluster, healthz and readyz answer on the local service")
    func clusterAndHealth() async throws {
        try await withAPI(makeLocalService()) { client in
            let cluster = try await client.send(.get, "/api/cluster")
            #expect(cluster.status == .ok)
            let body = try cluster.decoded(ClusterResource.self)
            #expect(body.leader == "local")
            #expect(body.nodes.first?.role == "leader")
            #expect(try await client.send(.get, "/healthz").status == .ok)
            #expect(try await client.send(.get, "/readyz").status == .ok)
        }
    }
}
