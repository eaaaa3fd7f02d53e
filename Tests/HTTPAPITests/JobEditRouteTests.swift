import HTTPAPI
import Hummingbird
import HummingbirdTesting
import SchedulerCore
import SchedulerPlanning
import Synchronization
import Testing

/// `PATCH /api/jobs/{id}`: validation like a submission, `If-Match`/`ETag`, secrets, cron-only fields.
@Suite("Job edit route")
struct JobEditRouteTests {
    let cron = #"{"name":"hourly","schedule":"0 * * * *","priority":1,"retention_seconds":3600,"history_limit":7}"#
    let ifMatch = HTTPFields.Element.Name("If-Match")!

    func create(_ client: some TestClientProtocol, _ body: String) async throws -> JobResource {
        let created = try await client.send(.post, "/api/jobs", json: body)
        #expect(created.status == .created, "\(created.text)")
        return try created.decoded(JobResource.self)
    }

    @Test("a schedule and zone edit moves next_run_at, bumps version and ETag; GET shows the same ETag")
    func editSchedule() async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await create(client, cron)
            #expect(job.version == 1)
            let got = try await client.send(.get, "/api/jobs/\(job.id)")
            #expect(got.headers[.eTag] == #""1""#)
            #expect(got.text.contains(#""version":1"#))
            let patched = try await client.send(.patch, "/api/jobs/\(job.id)",
                                                json: #"{"schedule":"30 12 * * *","timezone":"Asia/Tokyo","priority":5,"labels":{"team":"a"}}"#)
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched.headers[.eTag] == #""2""#)
            let edited = try patched.decoded(JobResource.self)
            #expect(edited.version == 2)
            #expect(edited.schedule == "30 12 * * *" && edited.timezone == "Asia/Tokyo")
            // 12:30 in Tokyo is 03:30 UTC; the test clock is 2026-12-01T09:00Z, so the next is the 2nd.
            #expect(edited.nextRunAt?.description == "2026-12-02T03:30:00.000Z")
            #expect(edited.priority == 5 && edited.labels == ["team": "a"])
            #expect(edited.name == "hourly", "fields left out keep their values")
            #expect(edited.retentionSeconds == 3600 && edited.historyLimit == 7, "retention and history limit are kept")
            #expect(try await client.send(.get, "/api/jobs/\(job.id)").headers[.eTag] == #""2""#)
        }
    }

    @Test("If-Match with the current version edits; with another it is 412 precondition_failed and changes nothing")
    func ifMatchPrecondition() async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await create(client, cron)
            let ok = try await client.send(.patch, "/api/jobs/\(job.id)", json: #"{"priority":2}"#, headers: [ifMatch: #""1""#])
            #expect(ok.status == .ok)
            let stale = try await client.send(.patch, "/api/jobs/\(job.id)", json: #"{"priority":3}"#, headers: [ifMatch: #""1""#])
            #expect(stale.status == .preconditionFailed)
            #expect(stale.apiError?.code == "precondition_failed")
            #expect(stale.apiError?.field == "If-Match")
            #expect(stale.apiError?.message.contains("version 2") == true)
            let bare = try await client.send(.patch, "/api/jobs/\(job.id)", json: #"{"priority":4}"#, headers: [ifMatch: "2"])
            #expect(bare.status == .ok, "a bare number works too")
            #expect(try bare.decoded(JobResource.self).priority == 4)
            for garbage in ["soon", "0", "+4", "04", #""4"#, "W/4", "1234567890123456789"] {
                let response = try await client.send(.patch, "/api/jobs/\(job.id)", json: #"{"priority":4}"#, headers: [ifMatch: garbage])
                #expect(response.status == .badRequest, "If-Match: \(garbage)")
                #expect(response.apiError?.field == "If-Match")
            }
            let weak = try await client.send(.patch, "/api/jobs/\(job.id)", json: #"{"priority":5}"#, headers: [ifMatch: #"W/"3""#])
            #expect(weak.status == .ok, "\(weak.text)")
            #expect(try await client.send(.patch, "/api/jobs/\(job.id)", json: #"{"priority":6}"#, headers: [ifMatch: "*"]).status == .ok)
        }
    }

    @Test("a secret sent back as *** keeps the stored value; a new value replaces it; *** for an unknown key is 422")
    func secretsKept() async throws {
        let service = makeLocalService()
        try await withAPI(service) { client in
            let job = try await create(client, #"{"name":"b","delay_seconds":3600,"task":{"kind":"shell","command":["/bin/true"],"env":{"PW":"hunter2","X":"1"}}}"#)
            // What a client read back (values are ***), with one value changed.
            let patch = #"{"task":{"kind":"shell","command":["/bin/echo","hi"],"env":{"PW":"***","X":"2"}}}"#
            let patched = try await client.send(.patch, "/api/jobs/\(job.id)", json: patch)
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(!patched.text.contains("hunter2"))
            let stored = try await service.replica.read(.stale) { state in state.job(JobID(job.id))?.spec.task }
            #expect(stored == .shell(ShellTask(argv: ["/bin/echo", "hi"], environment: [KeyValue("PW", "hunter2"), KeyValue("X", "2")])))
            let unknown = try await client.send(.patch, "/api/jobs/\(job.id)",
                                                json: #"{"task":{"kind":"shell","command":["/bin/true"],"env":{"NEW":"***"}}}"#)
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.apiError?.field == "task.env")
        }
    }

    @Test("validation as on submission: unknown fields 400, bad values 422 naming the field, cron fields on a once job 422")
    func validation() async throws {
        try await withAPI(makeLocalService()) { client in
            let cronJob = try await create(client, cron)
            let once = try await create(client, #"{"name":"o","delay_seconds":3600}"#)
            let cases: [(String, String, HTTPResponse.Status, String?)] = [
                (cronJob.id, #"{"name":"renamed"}"#, .badRequest, nil),
                (cronJob.id, #"{"schedule":"99 * * * *"}"#, .unprocessableContent, "schedule"),
                (cronJob.id, #"{"timezone":"Mars/Olympus"}"#, .unprocessableContent, "timezone"),
                (cronJob.id, #"{"priority":1.5}"#, .unprocessableContent, "priority"),
                (cronJob.id, #"{"retry":{"max_attempts":0}}"#, .unprocessableContent, "retry.max_attempts"),
                (cronJob.id, #"{"timeout_seconds":-1}"#, .unprocessableContent, "timeout_seconds"),
                (cronJob.id, #"{"concurrency":"sometimes"}"#, .unprocessableContent, "concurrency"),
                (cronJob.id, #"{"task":{"kind":"http","url":"ftp://x"}}"#, .unprocessableContent, "task.url"),
                (once.id, #"{"schedule":"0 * * * *"}"#, .unprocessableContent, "schedule"),
                (once.id, #"{"misfire":"skip"}"#, .unprocessableContent, "misfire"),
                (once.id, #"{"timezone":"UTC"}"#, .unprocessableContent, "timezone"),
                (once.id, #"{"task":{"kind":"shell","command":["/bin/true"],"env":{"LD_PRELOAD":"/tmp/x.so"}}}"#, .unprocessableContent, "task.env"),
                (once.id, #"{"labels":{"a:b":"c"}}"#, .unprocessableContent, "labels"),
            ]
            for (id, body, status, field) in cases {
                let response = try await client.send(.patch, "/api/jobs/\(id)", json: body)
                #expect(response.status == status, "\(body): \(response.text)")
                if let field { #expect(response.apiError?.field == field, "\(body): \(response.text)") }
            }
            #expect(try await client.send(.get, "/api/jobs/\(cronJob.id)").decoded(JobResource.self).version == 1,
                    "no refused edit changed the job")
            #expect(try await client.send(.patch, "/api/jobs/nope", json: #"{"priority":1}"#).status == .notFound)
        }
    }

    @Test("a cancelled cron job is 409; a finished once job is 409")
    func finishedJobs() async throws {
        try await withAPI(makeLocalService()) { client in
            let job = try await create(client, cron)
            #expect(try await client.send(.delete, "/api/jobs/\(job.id)").status == .ok)
            let response = try await client.send(.patch, "/api/jobs/\(job.id)", json: #"{"priority":1}"#)
            #expect(response.status == .conflict, "\(response.text)")
        }
    }

    @Test("trigger twice with one Idempotency-Key: one run, the same run id both times; another job with the key is 409")
    func idempotentTrigger() async throws {
        let key = idempotencyKeyHeader
        let runHeader = try #require(HTTPFields.Element.Name("Quorum-Run-Id"))
        let service = makeLocalService()
        try await withAPI(service) { client in
            let job = try await create(client, cron)
            let other = try await create(client, #"{"name":"other","schedule":"0 * * * *"}"#)
            let first = try await client.send(.post, "/api/jobs/\(job.id)/trigger", headers: [key: "t-1"])
            #expect(first.status == .ok, "\(first.text)")
            let second = try await client.send(.post, "/api/jobs/\(job.id)/trigger", headers: [key: "t-1"])
            #expect(second.status == .ok, "\(second.text)")
            let runID = try #require(first.headers[runHeader])
            #expect(second.headers[runHeader] == runID)
            let runs = try await service.replica.read(.stale) { state in state.runCount }
            #expect(runs == 1, "one run")
            #expect(try second.decoded(JobResource.self).lastRun?.runId == runID)
            let clash = try await client.send(.post, "/api/jobs/\(other.id)/trigger", headers: [key: "t-1"])
            #expect(clash.status == .conflict)
            let unkeyed = try await client.send(.post, "/api/jobs/\(job.id)/trigger")
            #expect(unkeyed.status == .ok)
            #expect(unkeyed.headers[runHeader] != runID)
        }
    }
}

/// A replica where another client's edit lands between this node's read and its proposal, once:
/// what a concurrent `PATCH` through another node looks like to this one.
final class RacingEditReplica: SchedulerReplica {
    let inner: LocalReplica
    /// Labels the competing edit sets (and nothing else).
    let competingLabels: [KeyValue]
    private let raced = Mutex(false)

    init(clock: @escaping @Sendable () -> Timestamp, competingLabels: [KeyValue]) {
        inner = LocalReplica(clock: clock)
        self.competingLabels = competingLabels
    }

    func now() -> Timestamp { inner.now() }
    func propose(_ command: Command) async throws(APIError) -> [SchedulerEvent] { await inner.propose(command) }

    func propose(_ unstamped: UnstampedCommand) async throws(APIError) -> [SchedulerEvent] {
        if case .editJob(let edit) = unstamped.template, !raced.withLock({ let was = $0; $0 = true; return was }) {
            let job = try await inner.read(.stale) { state throws(APIError) in
                guard let job = state.job(edit.jobID) else { throw APIError.notFound("gone") }
                return job
            }
            let old = job.spec
            let other = JobSpec(name: old.name, schedule: old.schedule, runAt: old.runAt, priority: old.priority, task: old.task,
                                dag: old.dag, retry: old.retry, timeoutMs: old.timeoutMs, concurrency: old.concurrency,
                                misfire: old.misfire, startingDeadlineMs: old.startingDeadlineMs, labels: competingLabels,
                                retentionMs: old.retentionMs, historyLimit: old.historyLimit)
            _ = await inner.propose(.editJob(EditJob(jobID: edit.jobID, spec: other, expectedVersion: job.version)))
        }
        return try await inner.propose(unstamped)
    }

    func read<T: Sendable>(_ consistency: ReadConsistency,
                           _ body: @Sendable (SchedulerState) throws(APIError) -> T) async throws(APIError) -> T {
        try await inner.read(consistency, body)
    }

    func cluster() async throws(APIError) -> ClusterResource { await inner.cluster() }
    func checkReady() async throws(APIError) {}
}

@Suite("Concurrent edits")
struct ConcurrentEditTests {
    func service() -> ReplicatedSchedulerService<RacingEditReplica> {
        ReplicatedSchedulerService(replica: RacingEditReplica(clock: { startOfTest }, competingLabels: [KeyValue("team", "b")]),
                                   ids: SequentialIDGenerator())
    }

    @Test("without If-Match an edit that lost a race is merged again onto the newer version: both edits' fields survive")
    func mergedAgain() async throws {
        let service = service()
        let job = try await service.submitJob(JobSubmission(name: "x", schedule: "0 * * * *"), idempotency: nil).value
        let edited = try await service.editJob(job.id, patch: JobPatch(priority: .integer(7)), ifMatch: nil)
        #expect(edited.priority == 7)
        #expect(edited.labels == ["team": "b"], "the competing edit's labels were not reverted")
        #expect(edited.version == 3)
    }

    @Test("with If-Match an edit that lost a race is 412 and changes nothing")
    func preconditionFailsOnRace() async throws {
        let service = service()
        let job = try await service.submitJob(JobSubmission(name: "x", schedule: "0 * * * *"), idempotency: nil).value
        await #expect(throws: APIError.self) { try await service.editJob(job.id, patch: JobPatch(priority: .integer(7)), ifMatch: 1) }
        let after = try await service.job(job.id, consistency: .linearizable)
        #expect(after.priority == 0 && after.version == 2 && after.labels == ["team": "b"])
        do {
            _ = try await service.editJob(job.id, patch: JobPatch(priority: .integer(7)), ifMatch: 1)
        } catch {
            #expect(error.code == .preconditionFailed)
        }
    }
}
