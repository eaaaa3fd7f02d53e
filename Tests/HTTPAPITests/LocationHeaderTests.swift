import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Testing

/// A 201 says where the created resource is (RFC 9110 §10.2.2); for a scheduled DAG that is a
/// cron job, not a DAG run.
@Suite("Location of created resources")
struct LocationHeaderTests {
    @Test("POST /api/jobs and POST /api/dags answer 201 with Location; a scheduled DAG points at its cron job")
    func location() async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"a"}"#)
            #expect(job.status == .created)
            let jobID = try job.decoded(JobResource.self).id
            #expect(job.headers[.location] == "/api/jobs/\(jobID)")
            let follow = try await client.send(.get, try #require(job.headers[.location]))
            #expect(follow.status == .ok)

            let run = try await client.send(.post, "/api/dags", json: #"{"name":"d","tasks":[{"id":"a"}]}"#)
            #expect(run.status == .created)
            #expect(run.headers[.location] == "/api/dags/\(try run.decoded(DAGRunResource.self).id)")

            let scheduled = try await client.send(.post, "/api/dags", json: #"{"name":"d","schedule":"0 * * * *","tasks":[{"id":"a"}]}"#)
            #expect(scheduled.status == .created)
            let cronID = try scheduled.decoded(JobResource.self).id
            #expect(scheduled.headers[.location] == "/api/jobs/\(cronID)")
            let cron = try await client.send(.get, try #require(scheduled.headers[.location]))
            #expect(cron.status == .ok)
        }
    }
}
