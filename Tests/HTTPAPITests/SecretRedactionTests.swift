import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Testing

/// `env` and `headers` values are write-only: stored and passed to the task, never answered.
@Suite("Secrets stay secret")
struct SecretRedactionTests {
    static let secret = "s3cr3t-value-that-must-not-leak"

    @Test("no GET of a job, a job list, a DAG run or a submit answer contains an env or header value; the keys stay visible")
    func redacted() async throws {
        try await withAPI(makeLocalService()) { client in
            let shell = #"{"name":"db-backup","task":{"kind":"shell","command":["/usr/bin/true"],"env":{"PGPASSWORD":"\#(Self.secret)"}}}"#
            let http = #"{"name":"hook","task":{"kind":"http","url":"http://hooks.example.com:9/x","headers":{"Authorization":"Bearer \#(Self.secret)"}}}"#
            let dag = #"{"name":"etl","tasks":[{"id":"a","task":{"kind":"shell","command":["/usr/bin/true"],"env":{"TOKEN":"\#(Self.secret)"}}}]}"#
            var answers: [String] = []
            for body in [shell, http] {
                let created = try await client.send(.post, "/api/jobs", json: body)
                #expect(created.status == .created)
                answers.append(created.text)
                let id = try created.decoded(JobResource.self).id
                answers.append(try await client.send(.get, "/api/jobs/\(id)").text)
            }
            let submitted = try await client.send(.post, "/api/dags", json: dag)
            #expect(submitted.status == .created, "\(submitted.text)")
            answers.append(submitted.text)
            answers.append(try await client.send(.get, "/api/jobs").text)
            answers.append(try await client.send(.get, "/api/dags").text)
            for answer in answers {
                #expect(!answer.contains(Self.secret), "a secret leaked: \(answer)")
            }
            let jobs = try await client.send(.get, "/api/jobs").decoded(ListPage<JobResource>.self).items
            let tasks = Dictionary(uniqueKeysWithValues: jobs.map { ($0.name, $0.task) })
            #expect(tasks["db-backup"] == .shell(command: ["/usr/bin/true"], env: ["PGPASSWORD": "***"], workdir: nil))
            #expect(tasks["hook"] == .http(method: "GET", url: "http://hooks.example.com:9/x", headers: ["Authorization": "***"], body: nil))
        }
    }
}

@Suite("Startup variables in task env")
struct StartupVariableTests {
    @Test("an env that sets LD_*, BASH_ENV, ENV or another startup variable is 422 naming the field and the variable",
          arguments: ["LD_PRELOAD", "DYLD_INSERT_LIBRARIES", "BASH_ENV", "ENV", "PYTHONSTARTUP"])
    func refused(name: String) async throws {
        try await withAPI(makeLocalService()) { client in
            let job = #"{"name":"x","task":{"kind":"shell","command":["/bin/true"],"env":{"OK":"1","\#(name)":"/tmp/evil"}}}"#
            let response = try await client.send(.post, "/api/jobs", json: job)
            #expect(response.status == .unprocessableContent)
            let error = try response.decoded(ErrorEnvelope.self).error
            #expect(error.field == "task.env")
            #expect(error.message.contains("environment variable \(name) is not allowed"))
            let batch = #"{"jobs":[{"name":"a"},\#(job)]}"#
            #expect(try await client.send(.post, "/api/jobs/batch", json: batch).decoded(ErrorEnvelope.self).error.field == "jobs[1].task.env")
        }
    }
}

@Suite("Shell tasks on a cluster that does not allow them")
struct ShellRefusedTests {
    @Test("with allow_shell off a shell job, batch job or DAG task is 422 naming the kind field; other kinds pass")
    func refusedAtSubmission() async throws {
        var limits = APILimits()
        limits.shellTasksAllowed = false
        try await withAPI(makeLocalService(), limits: limits) { client in
            let shell = #"{"kind":"shell","command":["/bin/true"]}"#
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"x","task":\#(shell)}"#)
            #expect(job.status == .unprocessableContent)
            #expect(try job.decoded(ErrorEnvelope.self).error.field == "task.kind")
            let batch = try await client.send(.post, "/api/jobs/batch", json: #"{"jobs":[{"name":"a"},{"name":"b","task":\#(shell)}]}"#)
            #expect(try batch.decoded(ErrorEnvelope.self).error.field == "jobs[1].task.kind")
            let dag = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a"},{"id":"b","task":\#(shell)}]}"#)
            #expect(dag.status == .unprocessableContent)
            #expect(try dag.decoded(ErrorEnvelope.self).error.field == "tasks[1].task.kind")
            #expect(try await client.send(.post, "/api/jobs", json: #"{"name":"y","task":{"kind":"sleep","seconds":1}}"#).status == .created)
            #expect(try await client.send(.get, "/api/jobs").decoded(ListPage<JobResource>.self).items.map(\.name) == ["y"])
        }
    }
}
