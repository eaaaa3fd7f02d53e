import EgressPolicy
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Testing

/// `[executor] http_deny` / `http_allow` at submission: a denied literal host is a 422 on the
/// task's `url`; names pass (the executor judges what they resolve to).
@Suite("http tasks to denied addresses at submission")
struct HTTPAddressPolicyRouteTests {
    private static func httpTask(_ url: String) -> String { #"{"kind":"http","url":"\#(url)"}"# }

    @Test("a denied literal host is 422 naming the field and the rule, in a job, a batch job and a DAG task")
    func deniedLiteral() async throws {
        try await withAPI(makeLocalService()) { client in
            let metadata = Self.httpTask("http://169.254.169.254/latest/meta-data/")
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"x","task":\#(metadata)}"#)
            #expect(job.status == .unprocessableContent)
            let error = try job.decoded(ErrorEnvelope.self).error
            #expect(error.field == "task.url")
            #expect(error.message.contains("http tasks may not connect to 169.254.169.254: denied by link-local (cloud metadata) "
                                           + "169.254.0.0/16 (built-in); list the address in [executor] http_allow to permit it"))
            let batch = try await client.send(.post, "/api/jobs/batch",
                                              json: #"{"jobs":[{"name":"a"},{"name":"b","task":\#(Self.httpTask("http://[::1]:8080/"))}]}"#)
            #expect(batch.status == .unprocessableContent)
            #expect(try batch.decoded(ErrorEnvelope.self).error.field == "jobs[1].task.url")
            let dag = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a"},{"id":"b"},"#
                                            + #"{"id":"c","task":\#(Self.httpTask("http://0x7f.1:8080/"))}]}"#)
            #expect(dag.status == .unprocessableContent)
            let dagError = try dag.decoded(ErrorEnvelope.self).error
            #expect(dagError.field == "tasks[2].task.url")
            #expect(dagError.message.contains("denied by loopback 127.0.0.0/8 (built-in)"))
            #expect(try await client.send(.get, "/api/jobs").decoded(ListPage<JobResource>.self).items.isEmpty)
        }
    }

    @Test("names, public literals and allowed literals are accepted", arguments: [
        "http://localhost:8080/", "https://example.com/hook", "http://93.184.216.34/", "http://[2606:4700::1111]/", "http://127.0.0.1:9/",
    ])
    func accepted(url: String) async throws {
        var limits = APILimits()
        limits.httpAddressPolicy = AddressPolicy(allow: [IPNetwork(address: .v4(0x7F00_0001), prefixLength: 32)].compactMap { $0 })
        try await withAPI(makeLocalService(), limits: limits) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"x","task":\#(Self.httpTask(url))}"#)
            #expect(job.status == .created, "\(job.text)")
        }
    }
}
