import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import Synchronization
import Testing

/// A node that has lost its leader: stale reads answer from its (local) state, everything else
/// is 503. Records the consistency of every read.
final class NoLeaderService: SchedulerService {
    let local: LocalSchedulerService
    let reads = Mutex<[ReadConsistency]>([])
    init(local: LocalSchedulerService) { self.local = local }

    func read(_ consistency: ReadConsistency) throws(APIError) {
        reads.withLock { $0.append(consistency) }
        if consistency == .linearizable { throw .unavailable(retryAfter: 2) }
    }

    func submitJob(_ submission: JobSubmission, idempotency: IdempotencyKey?) async throws(APIError) -> Created<JobResource> {
        throw .unavailable(retryAfter: 2)
    }
    func submitBatch(_ submissions: [JobSubmission], idempotency: IdempotencyKey?) async throws(APIError) -> Created<[String]> {
        throw .unavailable(retryAfter: 2)
    }
    func job(_ id: String, consistency: ReadConsistency) async throws(APIError) -> JobResource {
        try read(consistency)
        return try await local.job(id, consistency: consistency)
    }
    func jobStatus(_ id: String, consistency: ReadConsistency) async throws(APIError) -> JobStatusResource {
        try read(consistency)
        return try await local.jobStatus(id, consistency: consistency)
    }
    func listJobs(_ query: JobListQuery, consistency: ReadConsistency) async throws(APIError) -> ListPage<JobResource> {
        try read(consistency)
        return try await local.listJobs(query, consistency: consistency)
    }
    func runs(ofJob id: String, consistency: ReadConsistency) async throws(APIError) -> [AttemptResource] {
        try read(consistency)
        return try await local.runs(ofJob: id, consistency: consistency)
    }
    func cancelJob(_ id: String) async throws(APIError) -> JobResource { throw .unavailable(retryAfter: 2) }
    func pauseJob(_ id: String) async throws(APIError) -> JobResource { throw .unavailable(retryAfter: 2) }
    func resumeJob(_ id: String) async throws(APIError) -> JobResource { throw .unavailable(retryAfter: 2) }
    func triggerJob(_ id: String, idempotency: IdempotencyKey?) async throws(APIError) -> Triggered { throw .unavailable(retryAfter: 2) }
    func editJob(_ id: String, patch: JobPatch, ifMatch: Int?) async throws(APIError) -> JobResource { throw .unavailable(retryAfter: 2) }
    func submitDAG(_ submission: DAGSubmission, idempotency: IdempotencyKey?) async throws(APIError) -> Created<DAGSubmissionResult> {
        throw .unavailable(retryAfter: 2)
    }
    func listDAGRuns(_ query: DAGListQuery, consistency: ReadConsistency) async throws(APIError) -> ListPage<DAGRunResource> {
        try read(consistency)
        return try await local.listDAGRuns(query, consistency: consistency)
    }
    func dagRun(_ id: String, consistency: ReadConsistency) async throws(APIError) -> DAGRunResource {
        try read(consistency)
        return try await local.dagRun(id, consistency: consistency)
    }
    func cancelDAGRun(_ id: String) async throws(APIError) -> DAGRunResource { throw .unavailable(retryAfter: 2) }
    func listDeadLetters(_ query: PageQuery, consistency: ReadConsistency) async throws(APIError) -> ListPage<DeadLetterResource> {
        try read(consistency)
        return try await local.listDeadLetters(query, consistency: consistency)
    }
    func requeueDeadLetter(_ runID: String, idempotency: IdempotencyKey?) async throws(APIError) -> DeadLetterResource {
        throw .unavailable(retryAfter: 2)
    }
    func purgeDeadLetter(_ runID: String) async throws(APIError) { throw .unavailable(retryAfter: 2) }
    func cluster() async throws(APIError) -> ClusterResource {
        ClusterResource(leader: nil, term: 7, commitIndex: 42, nodes: [
            ClusterNodeResource(id: "n1", role: "candidate", api: "127.0.0.1:8080", raft: "127.0.0.1:7001",
                                reachable: true, matchIndex: 42, slots: 4, busy: 0),
        ])
    }
    func checkReady() async throws(APIError) { throw .unavailable(retryAfter: 2, "no leader") }
}

@Suite("No leader: 503 with Retry-After, ?stale=true still reads")
struct UnavailableTests {
    @Test("writes and linearizable reads are 503 with Retry-After")
    func unavailable() async throws {
        let local = makeLocalService()
        _ = try await local.submitJob(JobSubmission(name: "x"), idempotency: nil)
        let service = NoLeaderService(local: local)
        try await withAPI(service) { client in
            let requests: [(HTTPRequest.Method, String, String?)] = [
                (.post, "/api/jobs", #"{"name":"example-job","type":"cron","schedule":"0 * * * *","priority":1}"#),
                (.post, "/api/jobs/batch", #"{"jobs":[{"name":"a"}]}"#),
                (.post, "/api/dags", #"{"name":"d","tasks":[{"id":"a"}]}"#),
                (.get, "/api/jobs", nil), (.get, "/api/jobs/j1", nil), (.get, "/api/job-status/j1", nil),
                (.get, "/api/jobs/j1/runs", nil), (.delete, "/api/jobs/j1", nil), (.post, "/api/jobs/j1/pause", nil),
                (.post, "/api/jobs/j1/resume", nil), (.post, "/api/jobs/j1/trigger", nil), (.get, "/api/dags", nil),
                (.get, "/api/dags/d1", nil), (.delete, "/api/dags/d1", nil), (.get, "/api/dlq", nil),
                (.post, "/api/dlq/r1/requeue", nil), (.delete, "/api/dlq/r1", nil), (.get, "/readyz", nil),
            ]
            for (method, uri, body) in requests {
                let response = try await client.send(method, uri, json: body)
                #expect(response.status == .serviceUnavailable, "\(method) \(uri)")
                #expect(response.headers[.retryAfter] == "2", "\(method) \(uri)")
                #expect(response.apiError?.code == "unavailable", "\(method) \(uri)")
            }
        }
    }

    @Test("?stale=true passes stale consistency and answers without a leader")
    func stale() async throws {
        let local = makeLocalService()
        let job = try await local.submitJob(JobSubmission(name: "x"), idempotency: nil).value
        let service = NoLeaderService(local: local)
        try await withAPI(service) { client in
            for uri in ["/api/jobs?stale=true", "/api/jobs/\(job.id)?stale=true", "/api/job-status/\(job.id)?stale=true",
                        "/api/jobs/\(job.id)/runs?stale=true", "/api/dags?stale=true", "/api/dlq?stale=true"] {
                let response = try await client.send(.get, uri)
                #expect(response.status == .ok, "\(uri)")
            }
            #expect(try await client.send(.get, "/api/jobs?stale=false").status == .serviceUnavailable)
        }
        let reads = service.reads.withLock { $0 }
        #expect(reads == Array(repeating: .stale, count: 6) + [.linearizable])
    }

    @Test("the cluster view and healthz work without a leader")
    func clusterWithoutLeader() async throws {
        try await withAPI(NoLeaderService(local: makeLocalService())) { client in
            let response = try await client.send(.get, "/api/cluster")
            #expect(response.status == .ok)
            #expect(response.text.contains(#""leader":null"#))
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }
}
