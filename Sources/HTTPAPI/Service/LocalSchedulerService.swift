import SchedulerCore

/// The in-memory twin of a node: one ``SchedulerState`` that this actor both leads and applies,
/// with an injected clock and id generator. Route tests run against it, and it can serve a
/// single-node development mode.
///
/// It plays the leader's part exactly as the Raft node does — validate with
/// ``SubmissionPlanner``, stamp with ``CommandStamper``, apply, map rejections — except that
/// "proposing" is applying at once. Before every request it does the work that has come due
/// (cron fires with their next fire times, due pending runs), as the leader's timers would.
/// Reads ignore ``ReadConsistency``: a single replica is always linearizable.
public actor LocalSchedulerService: SchedulerService {
    private var state: SchedulerState
    private var stamper: CommandStamper
    private let clock: @Sendable () -> Timestamp
    private let nodeID: String
    private let apiAddress: String
    private var appliedCommands: UInt64 = 0

    /// A service over `state`, reading time from `clock` (milliseconds since the epoch).
    public init(state: SchedulerState = SchedulerState(), clock: @escaping @Sendable () -> Timestamp,
                ids: any IDGenerator = SequentialIDGenerator(), nodeID: String = "local", apiAddress: String = "") {
        self.state = state
        self.clock = clock
        self.stamper = CommandStamper(ids: ids)
        self.nodeID = nodeID
        self.apiAddress = apiAddress
    }

    /// A copy of the current state (tests, diagnostics).
    public func snapshot() -> SchedulerState { state }

    /// Applies `command` now, as a committed log entry would be; a rejection throws its
    /// ``APIError``. Executors in a dev mode and tests report attempts through this.
    @discardableResult
    public func propose(_ command: Command) throws(APIError) -> [SchedulerEvent] {
        let events = state.apply(command, at: clock())
        appliedCommands += 1
        for case .rejected(let rejection) in events { throw APIError(rejection: rejection) }
        return events
    }

    /// Does what has come due by now: fires due cron jobs (computing their next fire) and
    /// queues due pending runs.
    public func runDueWork() {
        let now = clock()
        for due in state.cronFiresDue(atOrBefore: now) {
            _ = state.apply(.fireCron(stamper.fire(due, now: now)), at: now)
            appliedCommands += 1
        }
        if let next = state.nextDueInstant, next <= now {
            _ = state.apply(.tick, at: now)
            appliedCommands += 1
        }
    }

    // MARK: Jobs

    /// Validates, stamps and applies a job submit.
    public func submitJob(_ submission: JobSubmission, idempotency: IdempotencyKey?) throws(APIError) -> Created<JobResource> {
        runDueWork()
        let planned = try SubmissionPlanner.planJob(submission, now: clock())
        let command = stamper.submitJob(planned, idempotency: idempotency)
        let events = try propose(.submitJob(command))
        for case .duplicateSubmit(_, let existing) in events {
            return Created(try jobResource(existing), isNew: false)
        }
        return Created(try jobResource(command.jobID.rawValue), isNew: true)
    }

    /// Validates every job first (422 `jobs[i].field`), then applies the batch to a copy of the
    /// state and keeps it only if no submit was refused — all or none.
    public func submitBatch(_ submissions: [JobSubmission], idempotency: IdempotencyKey?) throws(APIError) -> Created<[String]> {
        runDueWork()
        let now = clock()
        var planned: [SubmissionPlanner.PlannedJob] = []
        planned.reserveCapacity(submissions.count)
        for (index, submission) in submissions.enumerated() {
            planned.append(try SubmissionPlanner.planJob(submission, now: now, fieldPrefix: "jobs[\(index)]"))
        }
        let commands = stamper.submitBatch(planned, idempotency: idempotency)
        var trial = state
        let events = trial.apply(.batch(commands.map(Command.submitJob)), at: now)
        var ids: [String] = []
        var duplicates = 0
        for event in events {
            switch event {
            case .jobSubmitted(let id): ids.append(id.rawValue)
            case .duplicateSubmit(_, let existing):
                ids.append(existing)
                duplicates += 1
            case .rejected(let rejection):
                var error = APIError(rejection: rejection)
                if error.field == nil, error.code != .conflict { error.field = "jobs[\(ids.count)]" }
                throw error
            default: continue
            }
        }
        state = trial
        appliedCommands += 1
        return Created(ids, isNew: duplicates < ids.count || ids.isEmpty)
    }

    /// A job.
    public func job(_ id: String, consistency: ReadConsistency) throws(APIError) -> JobResource {
        runDueWork()
        return try jobResource(id)
    }

    /// A job's status.
    public func jobStatus(_ id: String, consistency: ReadConsistency) throws(APIError) -> JobStatusResource {
        runDueWork()
        return ResourceMapper.status(try storedJob(id), in: state)
    }

    /// Jobs newest first.
    public func listJobs(_ query: JobListQuery, consistency: ReadConsistency) throws(APIError) -> ListPage<JobResource> {
        runDueWork()
        return try JobLister.list(query, in: state)
    }

    /// A job's attempts.
    public func runs(ofJob id: String, consistency: ReadConsistency) throws(APIError) -> [AttemptResource] {
        runDueWork()
        return ResourceMapper.attempts(ofJob: try storedJob(id), in: state)
    }

    /// Cancels a job.
    public func cancelJob(_ id: String) throws(APIError) -> JobResource {
        try control(.cancelJob(JobID(id)), id)
    }

    /// Pauses a cron job.
    public func pauseJob(_ id: String) throws(APIError) -> JobResource {
        try control(.pause(JobID(id)), id)
    }

    /// Resumes a cron job.
    public func resumeJob(_ id: String) throws(APIError) -> JobResource {
        try control(.resume(JobID(id)), id)
    }

    /// Runs a job now.
    public func triggerJob(_ id: String) throws(APIError) -> JobResource {
        runDueWork()
        _ = try storedJob(id)
        return try control(.trigger(stamper.trigger(JobID(id))), id)
    }

    private func control(_ command: Command, _ id: String) throws(APIError) -> JobResource {
        runDueWork()
        _ = try storedJob(id)
        try propose(command)
        return try jobResource(id)
    }

    // MARK: DAGs

    /// A DAG run, or a cron job of a DAG.
    public func submitDAG(_ submission: DAGSubmission, idempotency: IdempotencyKey?) throws(APIError) -> Created<DAGSubmissionResult> {
        runDueWork()
        switch try SubmissionPlanner.planDAG(submission, now: clock()) {
        case .run(let spec):
            let command = stamper.submitDAG(spec, idempotency: idempotency)
            let events = try propose(.submitDAG(command))
            for case .duplicateSubmit(_, let existing) in events {
                return Created(try existingResult(existing), isNew: false)
            }
            return Created(.run(try dagResource(command.dagRunID.rawValue)), isNew: true)
        case .cronJob(let planned):
            let command = stamper.submitJob(planned, idempotency: idempotency)
            let events = try propose(.submitJob(command))
            for case .duplicateSubmit(_, let existing) in events {
                return Created(try existingResult(existing), isNew: false)
            }
            return Created(.cronJob(try jobResource(command.jobID.rawValue)), isNew: true)
        }
    }

    private func existingResult(_ id: String) throws(APIError) -> DAGSubmissionResult {
        if state.dagRun(DAGRunID(id)) != nil { return .run(try dagResource(id)) }
        return .cronJob(try jobResource(id))
    }

    /// DAG runs newest first.
    public func listDAGRuns(_ query: DAGListQuery, consistency: ReadConsistency) throws(APIError) -> ListPage<DAGRunResource> {
        runDueWork()
        let filter: DAGState?
        switch query.state {
        case nil: filter = nil
        case "running"?: filter = .running
        case "succeeded"?: filter = .succeeded
        case "failed"?: filter = .failed
        case "cancelled"?: filter = .cancelled
        case let other?:
            throw .invalid(field: "state", "unknown DAG state '\(FieldProblem.shortened(other))'; use running, succeeded, failed or cancelled")
        }
        let page = state.listDAGRuns(state: filter, limit: query.limit, cursor: try JobLister.cursor(query.cursor))
        return ListPage(items: page.items.map { ResourceMapper.dagRun($0, in: state) }, nextCursor: page.nextCursor)
    }

    /// A DAG run.
    public func dagRun(_ id: String, consistency: ReadConsistency) throws(APIError) -> DAGRunResource {
        runDueWork()
        return try dagResource(id)
    }

    /// Cancels a DAG run.
    public func cancelDAGRun(_ id: String) throws(APIError) -> DAGRunResource {
        runDueWork()
        _ = try dagResource(id)
        try propose(.cancelDAG(DAGRunID(id)))
        return try dagResource(id)
    }

    // MARK: DLQ

    /// The DLQ.
    public func listDeadLetters(_ query: PageQuery, consistency: ReadConsistency) throws(APIError) -> ListPage<DeadLetterResource> {
        runDueWork()
        let page = state.listDLQ(limit: query.limit, cursor: try JobLister.cursor(query.cursor))
        return ListPage(items: page.items.map(ResourceMapper.deadLetter), nextCursor: page.nextCursor)
    }

    /// Requeues a dead run.
    public func requeueDeadLetter(_ runID: String) throws(APIError) -> DeadLetterResource {
        runDueWork()
        let entry = try deadLetter(runID)
        try propose(.requeue(RunID(runID)))
        return entry
    }

    /// Purges a dead run.
    public func purgeDeadLetter(_ runID: String) throws(APIError) {
        runDueWork()
        _ = try deadLetter(runID)
        try propose(.purge(RunID(runID)))
    }

    private func deadLetter(_ runID: String) throws(APIError) -> DeadLetterResource {
        guard let run = state.run(RunID(runID)), run.state == .dead, !run.purged else {
            throw .notFound("run \(runID) is not in the dead-letter queue; list it with GET /api/dlq")
        }
        return ResourceMapper.deadLetter(state.dlqEntry(run))
    }

    // MARK: Cluster

    /// One node that is its own leader.
    public func cluster() -> ClusterResource {
        ClusterResource(leader: nodeID, term: 1, commitIndex: appliedCommands, nodes: [
            ClusterNodeResource(id: nodeID, role: "leader", api: apiAddress, raft: "", reachable: true,
                                matchIndex: appliedCommands, slots: 0, busy: state.runningCount),
        ])
    }

    /// Always ready.
    public func checkReady() {}

    // MARK: Lookups

    private func storedJob(_ id: String) throws(APIError) -> Job {
        guard let job = state.job(JobID(id)) else {
            throw .notFound("job \(FieldProblem.shortened(id)) not found; list jobs with GET /api/jobs")
        }
        return job
    }

    private func jobResource(_ id: String) throws(APIError) -> JobResource {
        ResourceMapper.job(try storedJob(id), in: state)
    }

    private func dagResource(_ id: String) throws(APIError) -> DAGRunResource {
        guard let dag = state.dagRun(DAGRunID(id)) else {
            throw .notFound("DAG run \(FieldProblem.shortened(id)) not found; list DAG runs with GET /api/dags")
        }
        return ResourceMapper.dagRun(dag, in: state)
    }
}
