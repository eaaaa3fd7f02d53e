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
            let http = #"{"name":"hook","task":{"kind":"http","url":"http://127.0.0.1:9/x","headers":{"Authorization":"Bearer \#(Self.secret)"}}}"#
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
            #expect(tasks["hook"] == .http(method: "GET", url: "http://127.0.0.1:9/x", headers: ["Authorization": "***"], body: nil))
        }
    }
}
