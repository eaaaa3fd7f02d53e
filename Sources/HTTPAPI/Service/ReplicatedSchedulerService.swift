import SchedulerCore
import SchedulerPlanning
import Synchronization

/// The HTTP API's semantics over any ``SchedulerReplica``: validate with
/// ``SubmissionPlanner``, stamp with ``CommandStamper``, propose, map rejections to
/// ``APIError``, and render resources from the state the replica reads.
///
/// Writes propose first and then read the resource from this replica, which has applied the
/// write by then (read-your-writes on every node). Unknown ids come back as the state
/// machine's `not_found` rejection, so a follower never answers 404 from a stale view.
public final class ReplicatedSchedulerService<Replica: SchedulerReplica>: SchedulerService {
    /// Where commands go and state is read from.
    public let replica: Replica
    private let stamper: Mutex<CommandStamper>

    /// A service over `replica`, stamping fresh ids from `ids`.
    public init(replica: Replica, ids: any IDGenerator) {
        self.replica = replica
        self.stamper = Mutex(CommandStamper(ids: ids))
    }

    private func stamp<T>(_ body: (inout CommandStamper) -> T) -> T {
        stamper.withLock { body(&$0) }
    }

    /// Throws the first rejection among `events` as its ``APIError``; otherwise returns them.
    static func throwingRejection(_ events: [SchedulerEvent]) throws(APIError) -> [SchedulerEvent] {
        for case .rejected(let rejection) in events { throw APIError(rejection: rejection) }
        return events
    }

    private func proposeOrThrow(_ command: Command) async throws(APIError) -> [SchedulerEvent] {
        try Self.throwingRejection(try await replica.propose(command))
    }

    private func proposeOrThrow(_ command: UnstampedCommand) async throws(APIError) -> [SchedulerEvent] {
        try Self.throwingRejection(try await replica.propose(command))
    }

    // MARK: Jobs

    /// Validates (at this node's clock, so a bad value is a 422 at once), stamps ids and proposes
    /// a job submit; its `run_at` or first fire is resolved by the leader's stamp.
    public func submitJob(_ submission: JobSubmission, idempotency: IdempotencyKey?) async throws(APIError) -> Created<JobResource> {
        let planned = try SubmissionPlanner.planJob(submission, now: replica.now())
        let command = stamp { $0.submitJob(planned, idempotency: idempotency) }
        #if QUORUM_MUTATION_ACK_BEFORE_COMMIT
        // The planted bug of the chaos mutation check: never compiled without the flag (AckBeforeCommitMutation.swift).
        if let acknowledged = try await acknowledgeBeforeCommit(.submit(command, planned.start), jobID: command.jobID.rawValue) {
            return acknowledged
        }
        #endif
        let events = try await proposeOrThrow(.submit(command, planned.start))
        for case .duplicateSubmit(_, let existing) in events {
            return Created(try await jobResource(existing), isNew: false)
        }
        return Created(try await jobResource(command.jobID.rawValue), isNew: true)
    }

    /// Validates every job first (422 `jobs[i].field`), then proposes them as one batch entry,
    /// which the state machine applies all or none (``SchedulerState/batchRefusal(_:)``).
    public func submitBatch(_ submissions: [JobSubmission], idempotency: IdempotencyKey?) async throws(APIError) -> Created<[String]> {
        let now = replica.now()
        var planned: [SubmissionPlanner.PlannedJob] = []
        planned.reserveCapacity(submissions.count)
        for (index, submission) in submissions.enumerated() {
            planned.append(try SubmissionPlanner.planJob(submission, now: now, fieldPrefix: "jobs[\(index)]"))
        }
        let commands = stamp { $0.submitBatch(planned, idempotency: idempotency) }
        let events = try await replica.propose(UnstampedCommand.batch(Array(zip(commands, planned.map(\.start)))))
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
                if error.field == nil, error.code != .conflict, let index = rejection.batchIndex {
                    error.field = "jobs[\(index)]"
                }
                throw error
            default: continue
            }
        }
        return Created(ids, isNew: duplicates < ids.count || ids.isEmpty)
    }

    /// A job.
    /// `GET /api/jobs/{id}` also carries the job's notifications (``JobResource/notifications``).
    public func job(_ id: String, consistency: ReadConsistency) async throws(APIError) -> JobResource {
        let job = try await replica.read(consistency) { state throws(APIError) in
            var resource = ResourceMapper.job(try Self.storedJob(id, in: state), in: state)
            let records = state.notifications.records(forJob: JobID(id))
            if !records.isEmpty { resource.notifications = records.map(NotificationResource.init) }
            return resource
        }
        return await withWaitReasons([job]).first ?? job
    }

    /// A job's status.
    public func jobStatus(_ id: String, consistency: ReadConsistency) async throws(APIError) -> JobStatusResource {
        try await replica.read(consistency) { state throws(APIError) in
            ResourceMapper.status(try Self.storedJob(id, in: state), in: state)
        }
    }

    /// Jobs newest first.
    public func listJobs(_ query: JobListQuery, consistency: ReadConsistency) async throws(APIError) -> ListPage<JobResource> {
        var page = try await replica.read(consistency) { state throws(APIError) in try JobLister.list(query, in: state) }
        page.items = await withWaitReasons(page.items)
        return page
    }

    /// A job's attempts.
    public func runs(ofJob id: String, consistency: ReadConsistency) async throws(APIError) -> [AttemptResource] {
        try await replica.read(consistency) { state throws(APIError) in
            ResourceMapper.attempts(ofJob: try Self.storedJob(id, in: state), in: state)
        }
    }

    /// Cancels a job.
    public func cancelJob(_ id: String) async throws(APIError) -> JobResource {
        try await control(.cancelJob(JobID(id)), id)
    }

    /// Pauses a cron job.
    public func pauseJob(_ id: String) async throws(APIError) -> JobResource {
        try await control(.pause(JobID(id)), id)
    }

    /// Resumes a cron job.
    public func resumeJob(_ id: String) async throws(APIError) -> JobResource {
        try await control(.resume(JobID(id)), id)
    }

    /// Runs a job now. With a key the trigger is proposed wrapped in it
    /// (``SchedulerCore/Command/idempotent(_:_:)``): the state machine answers a repeat with the
    /// first trigger's run and starts nothing.
    public func triggerJob(_ id: String, idempotency: IdempotencyKey?) async throws(APIError) -> Triggered {
        let trigger = stamp { $0.trigger(JobID(id)) }
        let command: Command = idempotency.map { .idempotent(Self.stamp($0), .trigger(trigger)) } ?? .trigger(trigger)
        let events = try await replica.propose(command)
        for case .rejected(let rejection) in events {
            if rejection.code == .notFound { throw Self.jobNotFound(id) }
            throw APIError(rejection: rejection)
        }
        var runID: String? = trigger.runID.rawValue
        for case .duplicateSubmit(_, let existing) in events { runID = existing }
        let job = try await jobResource(id)
        if job.type == "once" {
            runID = try await replica.read(.stale) { state in state.job(JobID(id))?.runID?.rawValue }
        }
        return Triggered(job: job, runID: runID)
    }

    /// Edits a job: reads it (linearizable), merges the patch onto that version
    /// (``EditPlanner``) and proposes the edit expecting that version. Without `ifMatch`, an
    /// edit that lost a race with another is merged again onto the newer version (up to three
    /// tries, then 409), so no field another client just set is silently reverted.
    public func editJob(_ id: String, patch: JobPatch, ifMatch: Int?) async throws(APIError) -> JobResource {
        for round in 1...Self.editTries {
            let job = try await replica.read(.linearizable) { state throws(APIError) in try Self.storedJob(id, in: state) }
            if let ifMatch, ifMatch != job.version { throw Self.versionMismatch(id, expected: ifMatch, actual: job.version) }
            let planned = try EditPlanner.plan(patch, job: job, now: replica.now())
            let command = planned.reschedules ? UnstampedCommand.editRescheduling(planned.edit) : UnstampedCommand(.editJob(planned.edit))
            let events = try await replica.propose(command)
            guard let rejection = events.lazy.compactMap({ if case .rejected(let r) = $0 { r } else { nil } }).first else {
                return try await jobResource(id)
            }
            if rejection.code == .preconditionFailed, ifMatch == nil, round < Self.editTries { continue }
            if rejection.code == .notFound { throw Self.jobNotFound(id) }
            if rejection.code == .preconditionFailed, ifMatch == nil {
                throw .conflict("job \(FieldProblem.shortened(id)) kept changing while this edit was applied; retry it")
            }
            throw APIError(rejection: rejection)
        }
        throw .conflict("job \(FieldProblem.shortened(id)) kept changing while this edit was applied; retry it")
    }

    static var editTries: Int { 3 }

    static func stamp(_ key: IdempotencyKey) -> IdempotencyStamp {
        IdempotencyStamp(key: key.key, bodyDigest: key.bodyDigest)
    }

    static func versionMismatch(_ id: String, expected: Int, actual: Int) -> APIError {
        APIError(.preconditionFailed, "job \(FieldProblem.shortened(id)) is at version \(actual), not \(expected) (If-Match); "
                 + "read it again with GET /api/jobs/\(FieldProblem.shortened(id)) and resend the edit", field: "If-Match")
    }

    private func control(_ command: Command, _ id: String) async throws(APIError) -> JobResource {
        let events = try await replica.propose(command)
        for case .rejected(let rejection) in events {
            if rejection.code == .notFound { throw Self.jobNotFound(id) }
            throw APIError(rejection: rejection)
        }
        return try await jobResource(id)
    }

    // MARK: DAGs

    /// A DAG run, or a cron job of a DAG.
    public func submitDAG(_ submission: DAGSubmission, idempotency: IdempotencyKey?) async throws(APIError) -> Created<DAGSubmissionResult> {
        switch try SubmissionPlanner.planDAG(submission, now: replica.now()) {
        case .run(let spec, let retentionMs, let notify):
            let command = stamp { $0.submitDAG(spec, retentionMs: retentionMs, notify: notify, idempotency: idempotency) }
            let events = try await proposeOrThrow(.submitDAG(command))
            for case .duplicateSubmit(_, let existing) in events {
                return Created(try await existingResult(existing), isNew: false)
            }
            return Created(.run(try await dagResource(command.dagRunID.rawValue)), isNew: true)
        case .cronJob(let planned):
            let command = stamp { $0.submitJob(planned, idempotency: idempotency) }
            let events = try await proposeOrThrow(.submit(command, planned.start))
            for case .duplicateSubmit(_, let existing) in events {
                return Created(try await existingResult(existing), isNew: false)
            }
            return Created(.cronJob(try await jobResource(command.jobID.rawValue)), isNew: true)
        }
    }

    private func existingResult(_ id: String) async throws(APIError) -> DAGSubmissionResult {
        try await replica.read(.stale) { state throws(APIError) in
            if let dag = state.dagRun(DAGRunID(id)) { return .run(ResourceMapper.dagRun(dag, in: state)) }
            return .cronJob(ResourceMapper.job(try Self.storedJob(id, in: state), in: state))
        }
    }

    /// DAG runs newest first.
    public func listDAGRuns(_ query: DAGListQuery, consistency: ReadConsistency) async throws(APIError) -> ListPage<DAGRunResource> {
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
        let cursor = try JobLister.cursor(query.cursor)
        var page = try await replica.read(consistency) { state in
            let page = state.listDAGRuns(state: filter, limit: query.limit, cursor: cursor)
            return ListPage(items: page.items.map { ResourceMapper.dagRun($0, in: state) }, nextCursor: page.nextCursor)
        }
        page.items = await withWaitReasons(page.items)
        return page
    }

    /// A DAG run, each queued task with its `reason`.
    public func dagRun(_ id: String, consistency: ReadConsistency) async throws(APIError) -> DAGRunResource {
        let dag = try await dagResource(id, consistency)
        return await withWaitReasons([dag]).first ?? dag
    }

    /// Cancels a DAG run.
    public func cancelDAGRun(_ id: String) async throws(APIError) -> DAGRunResource {
        let events = try await replica.propose(.cancelDAG(DAGRunID(id)))
        for case .rejected(let rejection) in events {
            if rejection.code == .notFound { throw Self.dagNotFound(id) }
            throw APIError(rejection: rejection)
        }
        return try await dagResource(id)
    }

    // MARK: Notifications

    /// The replicated notifications the query selects: pending ones in key order, then the
    /// settled ones (the latest 1,000) in the order they settled.
    public func notifications(_ query: NotificationQuery, consistency: ReadConsistency) async throws(APIError)
        -> ListPage<NotificationResource> {
        try await replica.read(consistency) { state in
            ListPage(items: query.select(from: state.notifications).map(NotificationResource.init), nextCursor: nil)
        }
    }

    // MARK: DLQ

    /// The DLQ.
    public func listDeadLetters(_ query: PageQuery, consistency: ReadConsistency) async throws(APIError) -> ListPage<DeadLetterResource> {
        let cursor = try JobLister.cursor(query.cursor)
        return try await replica.read(consistency) { state in
            let page = state.listDLQ(limit: query.limit, cursor: cursor)
            return ListPage(items: page.items.map { ResourceMapper.deadLetter($0, run: state.run($0.runID)) }, nextCursor: page.nextCursor)
        }
    }

    /// Requeues a dead run; returns the item as it was. With a key already taken, the read of
    /// the item is skipped (the run is no longer dead after the first requeue) and the state
    /// machine decides: a repeat answers the item rebuilt from the run, another body 409.
    public func requeueDeadLetter(_ runID: String, idempotency: IdempotencyKey?) async throws(APIError) -> DeadLetterResource {
        let key = idempotency.map(Self.stamp)
        let entry = try await replica.read(.linearizable) { state throws(APIError) -> DeadLetterResource? in
            if let key, state.hasIdempotencyKey(key.key) { return nil }
            return try Self.deadLetter(runID, in: state)
        }
        let command: Command = key.map { .idempotent($0, .requeue(RunID(runID))) } ?? .requeue(RunID(runID))
        let events = try await replica.propose(command)
        for case .rejected(let rejection) in events {
            if rejection.code == .notFound { throw Self.notInDLQ(runID) }
            throw APIError(rejection: rejection)
        }
        if let entry, !events.contains(where: { if case .duplicateSubmit = $0 { true } else { false } }) { return entry }
        return try await replica.read(.stale) { state throws(APIError) in
            guard let run = state.run(RunID(runID)) else { throw Self.notInDLQ(runID) }
            return ResourceMapper.deadLetter(state.dlqEntry(run), run: run)
        }
    }

    /// Purges a dead run.
    public func purgeDeadLetter(_ runID: String) async throws(APIError) {
        try await dlqCommand(.purge(RunID(runID)), runID)
    }

    private func dlqCommand(_ command: Command, _ runID: String) async throws(APIError) {
        for case .rejected(let rejection) in try await replica.propose(command) {
            if rejection.code == .notFound { throw Self.notInDLQ(runID) }
            throw APIError(rejection: rejection)
        }
    }

    // MARK: Cluster

    /// The cluster as the replica sees it.
    public func cluster() async throws(APIError) -> ClusterResource { try await replica.cluster() }

    /// Ready when the replica is.
    public func checkReady() async throws(APIError) { try await replica.checkReady() }

    /// The replica's state digest at its applied index.
    public func stateDigest() async throws(APIError) -> StateDigestResource { try await replica.stateDigest() }

    // MARK: Lookups

    /// `jobs` with each queued one's `reason` (``JobWaitReasons``); unchanged when none is
    /// queued or the cluster view is unavailable.
    private func withWaitReasons(_ jobs: [JobResource]) async -> [JobResource] {
        guard JobWaitReasons.needsCluster(jobs), let cluster = try? await replica.cluster() else { return jobs }
        let limited = jobs.filter { JobWaitReasons.isWaiting($0) && $0.maxPerNode != nil }.map(\.id)
        var running: [String: [String: Int]] = [:]
        if !limited.isEmpty {
            running = (try? await replica.read(.stale) { state throws(APIError) in
                JobWaitReasons.runningByNode(ofJobs: limited, in: state)
            }) ?? [:]
        }
        return JobWaitReasons.annotate(jobs, cluster: cluster, running: running)
    }

    /// `dags` with each queued task's `reason` (``JobWaitReasons``); unchanged when no task is
    /// queued or the cluster view is unavailable.
    private func withWaitReasons(_ dags: [DAGRunResource]) async -> [DAGRunResource] {
        guard JobWaitReasons.needsCluster(dags), let cluster = try? await replica.cluster() else { return dags }
        let nodes = JobWaitReasons.nodes(cluster)
        return (try? await replica.read(.stale) { state throws(APIError) in JobWaitReasons.annotate(dags, nodes: nodes, in: state) }) ?? dags
    }

    private func jobResource(_ id: String, _ consistency: ReadConsistency = .stale) async throws(APIError) -> JobResource {
        try await replica.read(consistency) { state throws(APIError) in
            ResourceMapper.job(try Self.storedJob(id, in: state), in: state)
        }
    }

    private func dagResource(_ id: String, _ consistency: ReadConsistency = .stale) async throws(APIError) -> DAGRunResource {
        try await replica.read(consistency) { state throws(APIError) in
            guard let dag = state.dagRun(DAGRunID(id)) else { throw Self.dagNotFound(id) }
            return ResourceMapper.dagRun(dag, in: state)
        }
    }

    static func storedJob(_ id: String, in state: SchedulerState) throws(APIError) -> Job {
        guard let job = state.job(JobID(id)) else { throw jobNotFound(id) }
        return job
    }

    static func deadLetter(_ runID: String, in state: SchedulerState) throws(APIError) -> DeadLetterResource {
        guard let run = state.run(RunID(runID)), run.state == .dead, !run.purged else { throw notInDLQ(runID) }
        return ResourceMapper.deadLetter(state.dlqEntry(run), run: run)
    }

    static func jobNotFound(_ id: String) -> APIError {
        .notFound("job \(FieldProblem.shortened(id)) not found; list jobs with GET /api/jobs")
    }

    static func dagNotFound(_ id: String) -> APIError {
        .notFound("DAG run \(FieldProblem.shortened(id)) not found; list DAG runs with GET /api/dags")
    }

    static func notInDLQ(_ runID: String) -> APIError {
        .notFound("run \(runID) is not in the dead-letter queue; list it with GET /api/dlq")
    }
}
