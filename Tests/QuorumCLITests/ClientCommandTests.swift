import Foundation
import HTTPAPI
import QuorumTestServer
import SchedulerCore
import Testing

/// The client commands run as a user runs them, against a real server on a free port.
@Suite("quorum client commands", .serialized)
struct ClientCommandTests {
    @Test("submit from flags creates the job; status shows it; --json is the server's JSON")
    func submitFlags() async throws {
        let service = TestAPIServer.makeService()
        try await TestAPIServer.withServer(service) { url in
            let result = try await QuorumBinary.runAsync([
                "submit", "--server", url, "--name", "nightly", "--schedule", "0 2 * * *", "--tz", "Europe/Berlin",
                "--priority", "3", "--max-attempts", "5", "--timeout", "60", "--label", "team=data",
                "--retention", "3600", "--history-limit", "5", "--constraint", "gpu=true", "--max-per-node", "2",
                "--idempotency-key", "k-1", "--", "/usr/bin/env", "echo", "hi",
            ])
            #expect(result.exitCode == 0, "\(result.standardError)")
            let jobs = try await service.listJobs(JobListQuery(), consistency: .linearizable).items
            let job = try #require(jobs.first)
            #expect(jobs.count == 1)
            #expect(job.name == "nightly")
            #expect(job.schedule == "0 2 * * *")
            #expect(job.timezone == "Europe/Berlin")
            #expect(job.priority == 3)
            #expect(job.retry.maxAttempts == 5)
            #expect(job.timeoutSeconds == 60)
            #expect(job.labels == ["team": "data"])
            #expect(job.retentionSeconds == 3_600 && job.historyLimit == 5)
            #expect(job.constraints == ["gpu": "true"] && job.maxPerNode == 2)
            #expect(job.task == .shell(command: ["/usr/bin/env", "echo", "hi"], env: nil, workdir: nil))
            #expect(result.standardOutput.hasPrefix("submitted job \(job.id)\n"))
            #expect(result.standardOutput.contains("task         shell /usr/bin/env echo hi"))

            let status = try await QuorumBinary.runAsync(["status", job.id, "--server", url])
            #expect(status.exitCode == 0, "\(status.standardError)")
            #expect(status.standardOutput.contains("state        scheduled (Pending)"))
            #expect(status.standardOutput.contains("schedule     0 2 * * * (Europe/Berlin)"))

            let json = try await QuorumBinary.runAsync(["status", job.id, "--server", url, "--json", "--stale"])
            #expect(json.exitCode == 0)
            let decoded = try JSONDecoder().decode(JobResource.self, from: Data(json.standardOutput.utf8))
            #expect(decoded == job)
        }
    }

    @Test("submit always sends an Idempotency-Key: after an outcome_unknown 503 it moves on safely; the key repeats it")
    func submitSendsIdempotencyKey() async throws {
        let service = TestAPIServer.makeService()
        try await TestAPIServer.withServer(router: TestAPIServer.makeOutcomeUnknownRouter()) { unknown in
            try await TestAPIServer.withServer(service) { healthy in
                let first = try await QuorumBinary.runAsync(["submit", "--server", "\(unknown),\(healthy)", "--name", "once", "--verbose"])
                #expect(first.exitCode == 0, "\(first.standardError)")
                let keyLine = try #require(first.standardError.split(separator: "\n").first { $0.hasPrefix("Idempotency-Key: ") })
                let key = String(keyLine.dropFirst("Idempotency-Key: ".count))
                #expect(!key.isEmpty)
                let jobs = try await service.listJobs(JobListQuery(), consistency: .linearizable).items
                #expect(jobs.map(\.name) == ["once"])

                let again = try await QuorumBinary.runAsync(["submit", "--server", healthy, "--name", "once", "--idempotency-key", key])
                #expect(again.exitCode == 0, "\(again.standardError)")
                #expect(again.standardOutput.hasPrefix("job \(try #require(jobs.first).id) already existed (same idempotency key)"))
                #expect(try await service.listJobs(JobListQuery(), consistency: .linearizable).items.count == 1)
            }
        }
    }

    @Test("submit --file sends the API's JSON verbatim; --batch-file from stdin")
    func submitFile() async throws {
        let service = TestAPIServer.makeService()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("job-\(UUID().uuidString).json")
        try Data(#"{"name":"example-job","type":"cron","schedule":"0 * * * *","priority":1}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try await TestAPIServer.withServer(service) { url in
            let result = try await QuorumBinary.runAsync(["submit", "--server", url, "--file", file.path, "--json"])
            #expect(result.exitCode == 0, "\(result.standardError)")
            let created = try JSONDecoder().decode(JobResource.self, from: Data(result.standardOutput.utf8))
            #expect(created.name == "example-job")
            #expect(try await service.job(created.id, consistency: .linearizable).priority == 1)

            let batch = try await QuorumBinary.runAsync(
                ["submit", "--server", url, "--batch-file", "-"], input: #"{"jobs":[{"name":"a"},{"name":"b"}]}"#)
            #expect(batch.exitCode == 0, "\(batch.standardError)")
            #expect(batch.standardOutput.hasPrefix("submitted 2 jobs\n"))
            #expect(try await service.listJobs(JobListQuery(), consistency: .linearizable).items.count == 3)

            let mixed = try await QuorumBinary.runAsync(["submit", "--server", url, "--file", file.path, "--name", "x"])
            #expect(mixed.exitCode == 2)
            #expect(mixed.standardError.contains("--name"))
        }
    }

    @Test("jobs, dags, dlq and cluster print their table columns")
    func tables() async throws {
        let service = TestAPIServer.makeService()
        try await TestAPIServer.withServer(service) { url in
            let failing = try await service.submitJob(JobSubmission(name: "failing", retry: RetryBody(maxAttempts: 1)), idempotency: nil)
            let runID = try await TestAPIServer.killFirstRun(ofJob: failing.value.id, in: service)
            _ = try await service.submitJob(JobSubmission(name: "labelled", labels: ["team": "data"]), idempotency: nil)
            let dag = try await service.submitDAG(
                DAGSubmission(name: "etl", tasks: [DAGTaskBody(id: "extract"), DAGTaskBody(id: "load", dependsOn: ["extract"])]),
                idempotency: nil)
            guard case .run(let run) = dag.value else { Issue.record("expected a DAG run"); return }

            let jobs = try await QuorumBinary.runAsync(["jobs", "--server", url, "--label", "team=data"])
            #expect(jobs.exitCode == 0, "\(jobs.standardError)")
            let lines = jobs.standardOutput.split(separator: "\n")
            #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true)
                == ["ID", "NAME", "TYPE", "STATE", "STATUS", "PRIORITY", "ATTEMPT", "NEXT", "UPDATED"])
            #expect(lines.count == 2)
            #expect(lines.last?.contains("labelled") == true)

            let firstPage = try await QuorumBinary.runAsync(["jobs", "--limit", "1"], environment: ["QUORUM_SERVER": url])
            #expect(firstPage.exitCode == 0, "\(firstPage.standardError)")
            #expect(firstPage.standardOutput.split(separator: "\n").count == 2)
            #expect(firstPage.standardError.hasPrefix("more: quorum jobs --cursor "), "\(firstPage.standardError)")

            let dead = try await QuorumBinary.runAsync(["jobs", "--server", url, "--state", "dead", "--limit", "5"])
            #expect(dead.standardOutput.contains("failing"))
            #expect(!dead.standardOutput.contains("labelled"))

            let dags = try await QuorumBinary.runAsync(["dags", "--server", url])
            #expect(dags.exitCode == 0, "\(dags.standardError)")
            #expect(dags.standardOutput.hasPrefix("ID"))
            #expect(dags.standardOutput.contains("0/2 succeeded"))
            let one = try await QuorumBinary.runAsync(["dags", run.id, "--server", url])
            #expect(one.exitCode == 0, "\(one.standardError)")
            #expect(one.standardOutput.contains("TASK     STATE"))
            #expect(one.standardOutput.contains("load     "))

            let dlq = try await QuorumBinary.runAsync(["dlq", "--server", url])
            #expect(dlq.exitCode == 0, "\(dlq.standardError)")
            #expect(dlq.standardOutput.hasPrefix("RUN"))
            #expect(dlq.standardOutput.contains(runID))
            #expect(dlq.standardOutput.contains("exit 3"))
            let dlqJSON = try await QuorumBinary.runAsync(["dlq", "--json", "--server", url])
            let page = try JSONDecoder().decode(ListPage<DeadLetterResource>.self, from: Data(dlqJSON.standardOutput.utf8))
            #expect(page.items.map(\.runId) == [runID])
            let requeue = try await QuorumBinary.runAsync(["dlq", "requeue", runID, "--server", url])
            #expect(requeue.exitCode == 0, "\(requeue.standardError)")
            #expect(requeue.standardOutput == "requeued run \(runID) of job \(failing.value.id)\n")
            #expect(try await service.listDeadLetters(PageQuery(), consistency: .linearizable).items.isEmpty)

            let cluster = try await QuorumBinary.runAsync(["cluster", "--server", url])
            #expect(cluster.exitCode == 0, "\(cluster.standardError)")
            #expect(cluster.standardOutput.hasPrefix("leader "))
            #expect(cluster.standardOutput.contains("NODE  ROLE"))
        }
    }

    @Test("failover: refused, then 503, then the third server answers")
    func failover() async throws {
        let service = TestAPIServer.makeService()
        let closed = try TestAPIServer.closedPortURL()
        try await TestAPIServer.withServer(router: TestAPIServer.makeUnavailableRouter()) { unavailable in
            try await TestAPIServer.withServer(service) { healthy in
                let result = try await QuorumBinary.runAsync(
                    ["submit", "--server", "\(closed),\(unavailable),\(healthy)", "--name", "far", "--seconds", "0.5"])
                #expect(result.exitCode == 0, "\(result.standardError)")
                let jobs = try await service.listJobs(JobListQuery(), consistency: .linearizable).items
                #expect(jobs.map(\.name) == ["far"])
                #expect(jobs.first?.task == .sleep(seconds: .fractional(0.5)))
            }
        }
    }

    @Test("no node reachable: exit 1 naming every server tried")
    func allRefused() async throws {
        let first = try TestAPIServer.closedPortURL()
        let second = try TestAPIServer.closedPortURL()
        let result = try await QuorumBinary.runAsync(["jobs", "--server", "\(first),\(second)"])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("\(first) (connection refused)"), "\(result.standardError)")
        #expect(result.standardError.contains("\(second) (connection refused)"))
        #expect(result.standardOutput.isEmpty)
    }

    @Test("a 422 exits 2 naming the field; a 404 exits 1; a bad flag exits 2")
    func invalidInput() async throws {
        try await TestAPIServer.withServer(TestAPIServer.makeService()) { url in
            let invalid = try await QuorumBinary.runAsync(["submit", "--server", url, "--name", "x", "--cron", "61 * * * *"])
            #expect(invalid.exitCode == 2)
            #expect(invalid.standardError.hasPrefix("schedule: "), "\(invalid.standardError)")
            let missing = try await QuorumBinary.runAsync(["status", "nope", "--server", url])
            #expect(missing.exitCode == 1)
            #expect(missing.standardError.contains("not_found"))
            let stray = try await QuorumBinary.runAsync(["submit", "--server", url, "--name", "x", "--url", "http://h", "--seconds", "1"])
            #expect(stray.exitCode == 2)
            #expect(stray.standardError.contains("--seconds: only for sleep tasks"), "\(stray.standardError)")
            let noName = try await QuorumBinary.runAsync(["submit", "--server", url])
            #expect(noName.exitCode == 2)
            #expect(noName.standardError.contains("--name"))
        }
        let badServer = try await QuorumBinary.runAsync(["jobs", "--server", "ftp://x"])
        #expect(badServer.exitCode == 2)
        #expect(badServer.standardError.hasPrefix("--server: 'ftp://x'"))
    }
}

@Suite("quorum dags submit and quorum runs", .serialized)
struct DAGSubmitAndRunsTests {
    @Test("dags submit --file starts a DAG run, or with a schedule a cron job; runs lists attempts")
    func dagSubmit() async throws {
        let service = TestAPIServer.makeService()
        try await TestAPIServer.withServer(service) { url in
            let run = try await QuorumBinary.runAsync(
                ["dags", "submit", "--server", url, "--file", "-"],
                input: #"{"name":"etl","tasks":[{"id":"extract"},{"id":"load","depends_on":["extract"]}]}"#)
            #expect(run.exitCode == 0, "\(run.standardError)")
            #expect(run.standardOutput.hasPrefix("submitted DAG run "))
            #expect(run.standardOutput.contains("load     pending  extract"))
            #expect(try await service.listDAGRuns(DAGListQuery(), consistency: .linearizable).items.map(\.name) == ["etl"])

            let cron = try await QuorumBinary.runAsync(
                ["dags", "submit", "--server", url, "--file", "-"],
                input: #"{"name":"nightly","schedule":"30 2 * * *","tasks":[{"id":"a"}]}"#)
            #expect(cron.exitCode == 0, "\(cron.standardError)")
            #expect(cron.standardOutput.hasPrefix("submitted cron job "))
            #expect(cron.standardOutput.contains("of DAG nightly"))

            let cycle = try await QuorumBinary.runAsync(
                ["dags", "submit", "--server", url, "--file", "-"],
                input: #"{"name":"d","tasks":[{"id":"a","depends_on":["b"]},{"id":"b","depends_on":["a"]}]}"#)
            #expect(cycle.exitCode == 1)
            #expect(cycle.standardError.contains("a -> b -> a"), "\(cycle.standardError)")

            let failing = try await service.submitJob(JobSubmission(name: "f", retry: RetryBody(maxAttempts: 1)), idempotency: nil)
            let runID = try await TestAPIServer.killFirstRun(ofJob: failing.value.id, in: service)
            let runs = try await QuorumBinary.runAsync(["runs", failing.value.id, "--server", url])
            #expect(runs.exitCode == 0, "\(runs.standardError)")
            #expect(runs.standardOutput.hasPrefix("RUN"))
            let row = runs.standardOutput.split(separator: "\n").dropFirst().first?.split(separator: " ").map(String.init)
            #expect(row?.prefix(5) == [runID, "1", "dead", "failed", "n2"], "\(runs.standardOutput)")
        }
    }
}
