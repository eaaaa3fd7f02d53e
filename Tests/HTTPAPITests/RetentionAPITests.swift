import Foundation
@testable import HTTPAPI
import SchedulerCore
import SchedulerPlanning
import Testing

/// `retention_seconds` on job and DAG submissions, the cluster default the leader stamps when a
/// submit leaves it out, and what GET shows (issue #12).
@Suite("Retention in the API")
struct RetentionAPITests {
    @Test("retention_seconds is kept and shown on jobs and DAG runs; omitted, the leader's default is stamped")
    func shownAndDefaulted() async throws {
        let service = LocalSchedulerService(clock: ManualClock(startOfTest).reader,
                                            defaults: SubmissionDefaults(retentionMs: 3_600_000))
        try await withAPI(service) { client in
            let given = try await client.send(.post, "/api/jobs", json: #"{"name":"a","retention_seconds":120}"#)
            #expect(given.status == .created)
            #expect(try given.decoded(JobResource.self).retentionSeconds == 120)
            let defaulted = try await client.send(.post, "/api/jobs", json: #"{"name":"b"}"#)
            let job = try defaulted.decoded(JobResource.self)
            #expect(job.retentionSeconds == 3_600)
            let fetched = try await client.send(.get, "/api/jobs/\(job.id)")
            #expect(fetched.text.contains(#""retention_seconds":3600"#))
            let cron = try await client.send(.post, "/api/jobs", json: #"{"name":"c","schedule":"* * * * *","retention_seconds":86400}"#)
            #expect(try cron.decoded(JobResource.self).retentionSeconds == 86_400)
            let dag = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a"}],"retention_seconds":600}"#)
            #expect(dag.status == .created)
            #expect(try dag.decoded(DAGRunResource.self).retentionSeconds == 600)
            let dagDefaulted = try await client.send(.post, "/api/dags", json: #"{"name":"e","tasks":[{"id":"a"}]}"#)
            #expect(try dagDefaulted.decoded(DAGRunResource.self).retentionSeconds == 3_600)
        }
    }

    @Test("out of 60 s…10 years, fractional or not a number: 422 naming retention_seconds (jobs[i]. in a batch)",
          arguments: ["59", "0", "-5", "315360001", "120.5", "1e30"])
    func validates(_ value: String) async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"a","retention_seconds":"# + value + "}")
            #expect(job.status == .unprocessableContent)
            #expect(job.apiError?.field == "retention_seconds")
            #expect(job.apiError?.message.contains("60 (one minute)") == true)
            let batch = try await client.send(.post, "/api/jobs/batch",
                                              json: #"{"jobs":[{"name":"ok"},{"name":"a","retention_seconds":"# + value + "}]}")
            #expect(batch.status == .unprocessableContent)
            #expect(batch.apiError?.field == "jobs[1].retention_seconds")
            let dag = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a"}],"retention_seconds":"# + value + "}")
            #expect(dag.status == .unprocessableContent)
            #expect(dag.apiError?.field == "retention_seconds")
        }
    }

    @Test("history_limit is kept and shown; omitted, the leader's default; out of 1…1000 a 422; not on a one-off DAG")
    func historyLimit() async throws {
        let service = LocalSchedulerService(clock: ManualClock(startOfTest).reader,
                                            defaults: SubmissionDefaults(historyLimit: 7))
        try await withAPI(service) { client in
            let given = try await client.send(.post, "/api/jobs", json: #"{"name":"a","schedule":"* * * * *","history_limit":3}"#)
            #expect(try given.decoded(JobResource.self).historyLimit == 3)
            let defaulted = try await client.send(.post, "/api/jobs", json: #"{"name":"b"}"#)
            #expect(try defaulted.decoded(JobResource.self).historyLimit == 7)
            let dagJob = try await client.send(.post, "/api/dags", json: #"{"name":"d","schedule":"* * * * *","tasks":[{"id":"a"}],"history_limit":2}"#)
            #expect(dagJob.status == .created)
            #expect(dagJob.text.contains(#""history_limit":2"#))
            for bad in ["0", "1001", "2.5"] {
                let response = try await client.send(.post, "/api/jobs", json: #"{"name":"a","history_limit":"# + bad + "}")
                #expect(response.status == .unprocessableContent)
                #expect(response.apiError?.field == "history_limit")
            }
            let oneOff = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a"}],"history_limit":2}"#)
            #expect(oneOff.status == .unprocessableContent)
            #expect(oneOff.apiError?.field == "history_limit")
        }
    }

    @Test("the bounds themselves are accepted")
    func bounds() throws {
        for value in ["60", "315360000"] {
            let submission = try StrictJSON.decode(JobSubmission.self, from: Array(#"{"name":"a","retention_seconds":\#(value)}"#.utf8))
            let planned = try SubmissionPlanner.planJob(submission, now: startOfTest)
            #expect(planned.spec.retentionMs == Int64(value).map { $0 * 1000 })
        }
        let omitted = try SubmissionPlanner.planJob(JobSubmission(name: "a"), now: startOfTest)
        #expect(omitted.spec.retentionMs == JobSpec.clusterDefaultRetentionMs)
    }
}

@Suite("GET /api/jobs/{id}/runs/{run_id}/output")
struct RunOutputRouteTests {
    @Test("the attempt's tail from the replicated state; the latest attempt by default, ?attempt= picks one; 404 and 422 name what is wrong")
    func output() async throws {
        let service = makeLocalService()
        try await withAPI(service) { client in
            let created = try await client.send(.post, "/api/jobs",
                                                json: #"{"name":"a","retry":{"max_attempts":2,"initial_backoff_ms":0,"jitter":false}}"#)
            let job = try created.decoded(JobResource.self)
            let runID = try #require(job.runs.first?.runId)
            let deadline = startOfTest.adding(milliseconds: 60_000)
            try await service.propose(.assignAttempt(AssignAttempt(runID: RunID(runID), executor: "n2", attempt: 1, deadline: deadline)))
            try await service.propose(.finishAttempt(FinishAttempt(runID: RunID(runID), attempt: 1, report: AttemptReport(
                outcome: .failed, exitCode: 1, outputTail: "first try\n", error: "exit 1"))))
            try await service.propose(.assignAttempt(AssignAttempt(runID: RunID(runID), executor: "n3", attempt: 2, deadline: deadline)))
            try await service.propose(.finishAttempt(FinishAttempt(runID: RunID(runID), attempt: 2, report: AttemptReport(
                outcome: .succeeded, exitCode: 0, outputTail: "second try\n"))))

            let latest = try await client.send(.get, "/api/jobs/\(job.id)/runs/\(runID)/output")
            #expect(latest.status == .ok)
            let output = try latest.decoded(AttemptOutputResource.self)
            #expect(output.attempt == 2 && output.executor == "n3" && output.outcome == "succeeded")
            #expect(output.outputTail == "second try\n")
            let first = try await client.send(.get, "/api/jobs/\(job.id)/runs/\(runID)/output?attempt=1")
            #expect(try first.decoded(AttemptOutputResource.self).outputTail == "first try\n")

            let noSuchRun = try await client.send(.get, "/api/jobs/\(job.id)/runs/nope/output")
            #expect(noSuchRun.status == .notFound)
            #expect(noSuchRun.apiError?.message.contains("run nope") == true)
            let noSuchAttempt = try await client.send(.get, "/api/jobs/\(job.id)/runs/\(runID)/output?attempt=3")
            #expect(noSuchAttempt.status == .notFound)
            let noSuchJob = try await client.send(.get, "/api/jobs/nope/runs/\(runID)/output")
            #expect(noSuchJob.status == .notFound)
            let bad = try await client.send(.get, "/api/jobs/\(job.id)/runs/\(runID)/output?attempt=0")
            #expect(bad.status == .unprocessableContent)
            #expect(bad.apiError?.field == "attempt")
        }
    }
}
