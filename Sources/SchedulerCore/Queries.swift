import HashTreeCollections

// Pure queries: for the leader's timers and dispatcher, and for the API's views.

/// A queued run the leader may assign, with what the executor needs.
public struct AssignableRun: Hashable, Sendable {
    /// The run.
    public var runID: RunID
    /// The attempt number to stamp into ``AssignAttempt``.
    public var nextAttempt: Int
    /// The run's priority.
    public var priority: Int
    /// What to execute.
    public var task: TaskSpec
    /// The per-attempt timeout (deadline = assignment time + this).
    public var timeoutMs: Int64
}

/// A running attempt.
public struct AttemptRef: Hashable, Sendable {
    /// The run.
    public var runID: RunID
    /// The attempt number.
    public var attempt: Int
    /// Where it runs.
    public var executor: ExecutorID
    /// When it times out.
    public var deadline: Timestamp
}

/// A cron job whose next fire time has come.
public struct DueFire: Hashable, Sendable {
    /// The job.
    public var jobID: JobID
    /// Its stored next fire time (the earliest time not yet fired).
    public var fireAt: Timestamp
    /// The schedule, for the leader's Cron computation.
    public var schedule: CronSchedule
}

/// One page of a list, newest first.
public struct Page<Item: Sendable>: Sendable {
    /// The items.
    public var items: [Item]
    /// Pass as `cursor` to get the next page; `nil` on the last page.
    public var nextCursor: String?
}

/// A DLQ item (the API's `/api/dlq` items).
public struct DLQEntry: Hashable, Sendable {
    /// The dead run.
    public var runID: RunID
    /// Its job, if any.
    public var jobID: JobID?
    /// Its DAG run, if a DAG task.
    public var dagRunID: DAGRunID?
    /// Its DAG task id, if a DAG task.
    public var taskID: String?
    /// Attempts made in total.
    public var attempts: Int
    /// The last error.
    public var error: String
    /// When it died.
    public var deadAt: Timestamp
}

/// A DAG task as the API shows it.
public struct DAGTaskView: Hashable, Sendable {
    /// The task id.
    public var id: String
    /// Its run's state.
    public var state: RunState
    /// Its dependencies.
    public var dependsOn: [String]
    /// Latest attempt number (0 before any).
    public var attempt: Int
    /// Latest attempt's start.
    public var startedAt: Timestamp?
    /// Latest attempt's end.
    public var finishedAt: Timestamp?
    /// The task's run id.
    public var runID: RunID
    /// Its run's attempts counted against `max_attempts` in the current budget (nil before its run exists).
    public var tries: Int?
    /// Its run's attempts that ended lost without spending a try, in the current budget.
    public var lostAttempts: Int?
}

/// Which jobs a list shows.
public struct JobFilter: Hashable, Sendable {
    /// Only jobs in this fine state (`queued`, `scheduled`, …).
    public var state: String?
    /// Only jobs carrying every one of these labels.
    public var labels: [KeyValue]
    /// The first label filtered on (`nil`: none); setting it replaces all of ``labels``.
    public var label: KeyValue? {
        get { labels.first }
        set { labels = newValue.map { [$0] } ?? [] }
    }
    /// A filter on a state and at most one label (no arguments: everything).
    public init(state: String? = nil, label: KeyValue? = nil) {
        self.state = state
        self.labels = label.map { [$0] } ?? []
    }
    /// A filter on a state and every one of `labels`.
    public init(state: String? = nil, labels: [KeyValue]) {
        self.state = state
        self.labels = labels
    }
}

extension SchedulerState {
    // MARK: Lookups

    /// A job by id.
    public func job(_ id: JobID) -> Job? { jobIndex[id].map { jobs[$0] } }
    /// A run by id.
    public func run(_ id: RunID) -> Run? { runIndex[id].map { runs[$0] } }
    /// A DAG run by id.
    public func dagRun(_ id: DAGRunID) -> DAGRun? { dagIndex[id].map { dags[$0] } }

    /// A job's fine state: its run's state for a once job, `scheduled`/`paused`/`cancelled` for cron.
    public func fineState(of job: Job) -> String {
        if job.spec.kind == .cron { return job.cronState.description }
        guard let runID = job.runID, let i = runIndex[runID] else { return RunState.cancelled.description }
        return runs[i].state.description
    }

    /// A job's coarse status per the API's mapping.
    public func status(of job: Job) -> CoarseStatus {
        if job.spec.kind == .cron {
            if job.cronState == .cancelled { return .failed }
            return job.activeRuns.isEmpty ? .pending : .inProgress
        }
        guard let runID = job.runID, let i = runIndex[runID] else { return .failed }
        return runs[i].state.status
    }

    /// The current attempt number of a job (a once job's run; a cron job's latest run).
    public func currentAttempt(of job: Job) -> Int {
        if let runID = job.runID ?? job.lastRun?.runID, let i = runIndex[runID] { return runs[i].attempt }
        return job.history.last?.attempt ?? 0
    }

    /// The task and timeout a run executes.
    public func execution(ofRun run: Run) -> (task: TaskSpec, timeoutMs: Int64) {
        if let ref = run.dagTask, let d = dagIndex[ref.dagRunID] {
            let task = dags[d].spec.tasks[ref.taskIndex]
            return (task.task, task.timeoutMs)
        }
        if let jobID = run.jobID, let j = jobIndex[jobID] { return (jobs[j].spec.task, jobs[j].spec.timeoutMs) }
        return (.noop, JobSpec.defaultTimeoutMs)
    }

    // MARK: For the leader

    /// The earliest instant at which something becomes due: a pending run's due time, a cron
    /// fire, an attempt deadline, a retention or idempotency expiry. The leader arms one timer
    /// for it and, when it passes, proposes the fire/expire/tick.
    public var nextDueInstant: Timestamp? {
        let candidates: [Timestamp?] = [
            dueHeap.first?.dueAt, fireHeap.first?.fireAt, deadlineHeap.first?.deadline,
            retentionHeap.first?.expiresAt, idempotencyHeap.first?.expiresAt,
        ]
        return candidates.compactMap { $0 }.min()
    }

    /// Pending runs whose due time is at or before `instant` (a command stamped at or after it
    /// queues them), earliest first.
    public func runsDue(atOrBefore instant: Timestamp) -> [RunID] {
        dueHeap.prefix { $0.dueAt <= instant }.filter(isLive).sorted().map { runs[$0.slot].id }
    }

    /// Scheduled cron jobs whose next fire time is at or before `instant`, earliest first.
    public func cronFiresDue(atOrBefore instant: Timestamp) -> [DueFire] {
        var seen = Set<JobID>()
        return fireHeap.prefix { $0.fireAt <= instant }.filter(isLive).sorted().compactMap { entry in
            guard seen.insert(entry.jobID).inserted else { return nil }
            guard let j = jobIndex[entry.jobID], let schedule = jobs[j].spec.schedule else { return nil }
            return DueFire(jobID: entry.jobID, fireAt: entry.fireAt, schedule: schedule)
        }
    }

    /// Up to `limit` queued runs in assignment order (priority, then FIFO).
    public func runsToAssign(limit: Int) -> [AssignableRun] {
        readyQueue.smallest(limit, where: isLive).map { entry in
            let i = entry.slot
            let exec = execution(ofRun: runs[i])
            return AssignableRun(runID: runs[i].id, nextAttempt: runs[i].attempt &+ 1,
                                 priority: runs[i].priority, task: exec.task, timeoutMs: exec.timeoutMs)
        }
    }

    /// Running attempts whose deadline is at or before `instant`, earliest first.
    public func attemptsPastDeadline(at instant: Timestamp) -> [AttemptRef] {
        deadlineHeap.prefix { $0.deadline <= instant }.filter(isLive).sorted().compactMap(attemptRef)
    }

    /// Running attempts on `executor`, by run id. O(running attempts).
    public func activeAttempts(on executor: ExecutorID) -> [AttemptRef] {
        runningAttempts().filter { $0.executor == executor }
    }

    /// Every running attempt, by run id (the leader's dispatcher counts busy slots from this on
    /// every round). O(running attempts), from the ``runningRunIDs`` index: a scan of every run
    /// kept (finished ones stay for their retention) cost the leader most of its CPU under load.
    public func runningAttempts() -> [AttemptRef] {
        runningRunIDs.sorted().compactMap { id in
            guard let i = runIndex[id], let deadline = runs[i].deadline, let executor = runs[i].executor else { return nil }
            return AttemptRef(runID: id, attempt: runs[i].attempt, executor: executor, deadline: deadline)
        }
    }

    private func attemptRef(_ entry: DeadlineEntry) -> AttemptRef? {
        let run = runs[entry.slot]
        guard let executor = run.executor else { return nil }
        return AttemptRef(runID: run.id, attempt: run.attempt, executor: executor, deadline: entry.deadline)
    }

    // MARK: For the API

    /// Jobs newest first, filtered, `limit` per page; `nextCursor` is set when another
    /// matching job exists past the page.
    ///
    /// Walks the apply-maintained index (SchedulerState+ListIndexes.swift) backwards from the
    /// cursor and stops once the page is full: with labels, only the jobs carrying the label
    /// with the fewest jobs are visited. O(page + jobs skipped), no copy of the table, no sort.
    public func listJobs(filter: JobFilter = JobFilter(), limit: Int, cursor: String? = nil) -> Page<Job> {
        var source = jobOrder
        for label in filter.labels {
            guard let list = jobsByLabel[label] else { return Page(items: [], nextCursor: nil) }
            if list.entries.count < source.entries.count { source = list }
        }
        return walk(source, limit: limit, cursor: cursor, seq: \Job.createdSeq) { entry in
            guard let j = jobIndex[entry.id], jobs[j].createdSeq == entry.seq else { return nil }
            let job = jobs[j]
            guard filter.labels.allSatisfy(job.spec.labels.contains),
                  filter.state.map({ fineState(of: job) == $0 }) ?? true else { return nil }
            return job
        }
    }

    /// DAG runs newest first, optionally only in `state`. O(page + DAG runs skipped).
    public func listDAGRuns(state: DAGState? = nil, limit: Int, cursor: String? = nil) -> Page<DAGRun> {
        walk(dagOrder, limit: limit, cursor: cursor, seq: \DAGRun.createdSeq) { entry in
            guard let d = dagIndex[entry.id], dags[d].createdSeq == entry.seq else { return nil }
            return state.map { dags[d].state == $0 } ?? true ? dags[d] : nil
        }
    }

    /// The dead-letter queue, most recently dead first. O(page + stale entries skipped).
    public func listDLQ(limit: Int, cursor: String? = nil) -> Page<DLQEntry> {
        let p = walk(dlqOrder, limit: limit, cursor: cursor, seq: \Run.stateSeq) { entry in
            guard let i = runIndex[entry.id], Self.isInDLQ(runs[i], seq: entry.seq) else { return nil }
            return runs[i]
        }
        return Page(items: p.items.map(dlqEntry), nextCursor: p.nextCursor)
    }

    /// A dead run as a DLQ item.
    public func dlqEntry(_ run: Run) -> DLQEntry {
        var taskID: String?
        if let ref = run.dagTask, let d = dagIndex[ref.dagRunID] { taskID = dags[d].spec.tasks[ref.taskIndex].id }
        return DLQEntry(runID: run.id, jobID: run.jobID, dagRunID: run.dagTask?.dagRunID, taskID: taskID,
                        attempts: run.attempt, error: run.lastError ?? "", deadAt: run.deadAt ?? now)
    }

    /// A DAG run's tasks as the API shows them, in spec order.
    public func dagTasks(_ id: DAGRunID) -> [DAGTaskView]? {
        guard let d = dagIndex[id] else { return nil }
        return dags[d].spec.tasks.enumerated().map { index, task in
            let runID = dags[d].taskRunID(index)
            let run = runIndex[runID].map { runs[$0] }
            return DAGTaskView(id: task.id, state: run?.state ?? .cancelled, dependsOn: task.dependsOn,
                               attempt: run?.attempt ?? 0, startedAt: run?.startedAt,
                               finishedAt: run?.finishedAt, runID: runID, tries: run?.tries, lostAttempts: run?.lostAttempts)
        }
    }

    /// A job's attempt history, newest first (the API's `/api/jobs/{id}/runs`).
    public func attempts(ofJob id: JobID) -> [AttemptRecord] {
        guard let j = jobIndex[id] else { return [] }
        return jobs[j].history.reversed()
    }

    /// One page from `index`, newest first: entries below the cursor are resolved by `match`
    /// (`nil`: stale or filtered out) until `limit` items are found and one more match shows
    /// that a next page exists. A cursor that is not a number reads from the newest.
    private func walk<ID, T>(_ index: SeqOrderedIndex<ID>, limit: Int, cursor: String?, seq: KeyPath<T, UInt64>,
                             match: (SeqOrderedIndex<ID>.Entry) -> T?) -> Page<T> {
        let before = cursor.flatMap { UInt64($0) } ?? UInt64.max
        let n = max(1, limit)
        var items: [T] = []
        var more = false
        index.forEachNewestFirst(before: before) { entry in
            guard let item = match(entry) else { return true }
            if items.count == n {
                more = true
                return false
            }
            items.append(item)
            return true
        }
        return Page(items: items, nextCursor: more ? items.last.map { String($0[keyPath: seq]) } : nil)
    }
}

/// The seed API's `/api/job-status/{id}` answer.
public struct JobStatusView: Hashable, Sendable {
    /// The job's id.
    public var id: JobID
    /// The coarse status.
    public var status: CoarseStatus
    /// The fine state (`queued`, `scheduled`, …).
    public var state: String
    /// The current attempt number (0 before the first).
    public var attempt: Int
    /// When the job last changed.
    public var updatedAt: Timestamp
}

extension SchedulerState {
    /// The status view of a job, or `nil` if it is unknown (or retained out).
    public func jobStatus(_ id: JobID) -> JobStatusView? {
        guard let job = job(id) else { return nil }
        var updated = job.updatedAt
        if let runID = job.runID, let run = run(runID) {
            updated = max(updated, run.finishedAt ?? run.startedAt ?? job.updatedAt)
        }
        return JobStatusView(id: id, status: status(of: job), state: fineState(of: job),
                             attempt: currentAttempt(of: job), updatedAt: updated)
    }
}

extension SchedulerState {
    /// Queued runs per priority, highest priority first (for `quorum_queue_depth{priority}`);
    /// priorities with no queued run are absent. O(p log p) in the priorities in use, from the
    /// maintained ``queuedCountByPriority``.
    public func queueDepthByPriority() -> [(priority: Int, count: Int)] {
        queuedCountByPriority.sorted { $0.key > $1.key }.map { (priority: $0.key, count: $0.value) }
    }
}
