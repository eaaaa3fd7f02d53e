/// How fresh a read must be.
public enum ReadConsistency: String, Hashable, Sendable {
    /// Confirmed through the leader (Raft ReadIndex): sees every acknowledged write. Default.
    case linearizable
    /// This node's own state, possibly behind; works without a leader (`?stale=true`).
    case stale
}

/// An `Idempotency-Key` with a digest of the request body it came with.
public struct IdempotencyKey: Hashable, Sendable {
    /// The client's key.
    public var key: String
    /// A digest of the request body; the same key with another digest is a conflict.
    public var bodyDigest: UInt64
    /// A key.
    public init(key: String, bodyDigest: UInt64) {
        self.key = key
        self.bodyDigest = bodyDigest
    }
}

/// The result of a creating request: the resource, and whether this request created it (201)
/// or an earlier one with the same `Idempotency-Key` did (200).
public struct Created<Value: Sendable>: Sendable {
    /// The resource.
    public var value: Value
    /// `true` when created now.
    public var isNew: Bool
    /// A result.
    public init(_ value: Value, isNew: Bool) {
        self.value = value
        self.isNew = isNew
    }
}

/// What `POST /api/jobs/{id}/trigger` did: the job, and the run the trigger started (a once
/// job's own run), which a repeat with the same `Idempotency-Key` names again.
public struct Triggered: Sendable {
    /// The job after the trigger.
    public var job: JobResource
    /// The run started (or queued early); `nil` only if it could not be read back.
    public var runID: String?
    /// A trigger result.
    public init(job: JobResource, runID: String?) {
        self.job = job
        self.runID = runID
    }
}

/// What `POST /api/dags` created.
public enum DAGSubmissionResult: Hashable, Sendable {
    /// A DAG run (no schedule).
    case run(DAGRunResource)
    /// A cron job that starts DAG runs.
    case cronJob(JobResource)
}

/// `GET /api/jobs` filters and paging.
public struct JobListQuery: Hashable, Sendable {
    /// Only this fine state.
    public var state: String?
    /// Only jobs with all these labels.
    public var labels: [LabelFilter]
    /// Page size.
    public var limit: Int
    /// `next_cursor` of the previous page.
    public var cursor: String?
    /// A query.
    public init(state: String? = nil, labels: [LabelFilter] = [], limit: Int = 100, cursor: String? = nil) {
        self.state = state
        self.labels = labels
        self.limit = limit
        self.cursor = cursor
    }
}

/// A `label=key:value` filter.
public struct LabelFilter: Hashable, Sendable {
    /// The key.
    public var key: String
    /// The value.
    public var value: String
    /// A filter.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// `GET /api/dags` filters and paging.
public struct DAGListQuery: Hashable, Sendable {
    /// Only this state (`running`, `succeeded`, `failed`, `cancelled`).
    public var state: String?
    /// Page size.
    public var limit: Int
    /// `next_cursor` of the previous page.
    public var cursor: String?
    /// A query.
    public init(state: String? = nil, limit: Int = 100, cursor: String? = nil) {
        self.state = state
        self.limit = limit
        self.cursor = cursor
    }
}

/// `GET /api/dlq` paging.
public struct PageQuery: Hashable, Sendable {
    /// Page size.
    public var limit: Int
    /// `next_cursor` of the previous page.
    public var cursor: String?
    /// A query.
    public init(limit: Int = 100, cursor: String? = nil) {
        self.limit = limit
        self.cursor = cursor
    }
}

/// Everything the HTTP routes need from a node, so routes can be tested against the in-memory
/// ``LocalSchedulerService`` and served by the Raft node unchanged.
///
/// Writes are validated (``SubmissionPlanner``), stamped (``CommandStamper``) and proposed;
/// reads take a ``ReadConsistency``. Every failure is an ``APIError``: a rejection of the state
/// machine maps through ``APIError/init(rejection:)``, no leader is
/// ``APIError/unavailable(retryAfter:_:)``.
public protocol SchedulerService: Sendable {
    /// Submits one job; with a key, a repeat returns the first job (`isNew == false`).
    func submitJob(_ submission: JobSubmission, idempotency: IdempotencyKey?) async throws(APIError) -> Created<JobResource>
    /// Submits jobs all or none; ids in order. A bad job is a 422 naming `jobs[i].field`.
    func submitBatch(_ submissions: [JobSubmission], idempotency: IdempotencyKey?) async throws(APIError) -> Created<[String]>
    /// A job with its recent runs.
    func job(_ id: String, consistency: ReadConsistency) async throws(APIError) -> JobResource
    /// A job's coarse and fine status.
    func jobStatus(_ id: String, consistency: ReadConsistency) async throws(APIError) -> JobStatusResource
    /// Jobs newest first.
    func listJobs(_ query: JobListQuery, consistency: ReadConsistency) async throws(APIError) -> ListPage<JobResource>
    /// A job's attempts, newest first.
    func runs(ofJob id: String, consistency: ReadConsistency) async throws(APIError) -> [AttemptResource]
    /// Cancels a job.
    func cancelJob(_ id: String) async throws(APIError) -> JobResource
    /// Pauses a cron job.
    func pauseJob(_ id: String) async throws(APIError) -> JobResource
    /// Resumes a paused cron job.
    func resumeJob(_ id: String) async throws(APIError) -> JobResource
    /// Runs a job now; with a key, a repeat within the window starts nothing and answers the
    /// run the first one started.
    func triggerJob(_ id: String, idempotency: IdempotencyKey?) async throws(APIError) -> Triggered
    /// Edits a job (`PATCH`): `ifMatch` is the version the client read (412 when the job is at
    /// another); without it the last writer wins.
    func editJob(_ id: String, patch: JobPatch, ifMatch: Int?) async throws(APIError) -> JobResource
    /// Submits a DAG run, or with a schedule a cron job of it.
    func submitDAG(_ submission: DAGSubmission, idempotency: IdempotencyKey?) async throws(APIError) -> Created<DAGSubmissionResult>
    /// DAG runs newest first.
    func listDAGRuns(_ query: DAGListQuery, consistency: ReadConsistency) async throws(APIError) -> ListPage<DAGRunResource>
    /// A DAG run.
    func dagRun(_ id: String, consistency: ReadConsistency) async throws(APIError) -> DAGRunResource
    /// Cancels a DAG run.
    func cancelDAGRun(_ id: String) async throws(APIError) -> DAGRunResource
    /// The dead-letter queue, most recently dead first.
    func listDeadLetters(_ query: PageQuery, consistency: ReadConsistency) async throws(APIError) -> ListPage<DeadLetterResource>
    /// Requeues a dead run with a fresh attempt budget; returns the item as it was. With a key,
    /// a repeat within the window requeues nothing and answers the item again (rebuilt from the
    /// run: the same ids, its attempts and error as they are now).
    func requeueDeadLetter(_ runID: String, idempotency: IdempotencyKey?) async throws(APIError) -> DeadLetterResource
    /// Removes a dead run from the DLQ.
    func purgeDeadLetter(_ runID: String) async throws(APIError)
    /// The cluster as this node sees it (works without a leader).
    func cluster() async throws(APIError) -> ClusterResource
    /// Throws `unavailable` unless there is a leader and this node has applied up to it.
    func checkReady() async throws(APIError)
    /// This node's own state digest at its applied index (`GET /api/cluster/digest`; no leader needed).
    func stateDigest() async throws(APIError) -> StateDigestResource
    /// The replicated notifications the query selects (`GET /api/notifications`).
    func notifications(_ query: NotificationQuery, consistency: ReadConsistency) async throws(APIError) -> ListPage<NotificationResource>
}

extension SchedulerService {
    /// Services without a replica behind them (test doubles) report no digest: 503.
    public func stateDigest() async throws(APIError) -> StateDigestResource {
        throw .unavailable(retryAfter: 1, "this service keeps no applied index to report a digest at")
    }

    /// Services without a replicated state (test doubles) hold no notifications: 503.
    public func notifications(_ query: NotificationQuery, consistency: ReadConsistency) async throws(APIError)
        -> ListPage<NotificationResource> {
        throw .unavailable(retryAfter: 1, "this service keeps no replicated notifications")
    }
}
