import SchedulerCore

/// Renders the state machine's records as the API's resources. Pure; both the in-memory service
/// and the node (after a ReadIndex read) use it.
public enum ResourceMapper {
    /// Recent attempts shown with a job.
    public static let recentRuns = 10

    /// A job with its fine state, status and recent attempts.
    public static func job(_ job: Job, in state: SchedulerState) -> JobResource {
        let spec = job.spec
        let isCron = spec.kind == .cron
        let current = currentRun(of: job, in: state)
        var lastRun: AttemptResource?
        if isCron, let summary = job.lastRun {
            lastRun = state.run(summary.runID).map { self.run($0, in: state, history: job.history) }
                ?? AttemptResource(runId: summary.runID.rawValue, attempt: 0, executor: nil,
                                   state: summary.state.description, outcome: nil,
                                   scheduledAt: APITimestamp(summary.scheduledAt))
        }
        var resource = JobResource(
            id: job.id.rawValue, name: spec.name, type: isCron ? "cron" : "once",
            state: state.fineState(of: job), status: state.status(of: job).rawValue,
            schedule: spec.schedule?.expression, timezone: spec.schedule?.timezone,
            runAt: isCron ? nil : spec.runAt.map(APITimestamp.init), nextRunAt: job.nextFireAt.map(APITimestamp.init),
            lastRun: lastRun, priority: spec.priority, task: task(spec.task), retry: retry(spec.retry),
            timeoutSeconds: Double(spec.timeoutMs) / 1000,
            concurrency: isCron ? concurrency(spec.concurrency) : nil,
            misfire: isCron ? (spec.misfire == .skip ? "skip" : "run_once") : nil,
            missedFires: isCron ? job.missedFires : nil,
            labels: Dictionary(spec.labels.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }),
            attempt: state.currentAttempt(of: job), tries: current?.tries, lostAttempts: current?.lostAttempts,
            createdAt: APITimestamp(job.createdAt),
            updatedAt: APITimestamp(job.updatedAt), dag: spec.dag?.name,
            runs: attempts(ofJob: job, in: state, limit: recentRuns), retentionSeconds: spec.retentionMs / 1000,
            historyLimit: spec.historyLimit ?? state.config.attemptHistoryLimit, version: job.version,
            notify: spec.notify.isEmpty ? nil : spec.notify.map(NotifyRuleBody.init(rule:)))
        if !spec.placement.constraints.isEmpty {
            resource.constraints = Dictionary(spec.placement.constraints.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        }
        resource.maxPerNode = spec.placement.maxPerNode
        return resource
    }

    /// The coarse and fine status of a job.
    public static func status(_ job: Job, in state: SchedulerState) -> JobStatusResource {
        let current = currentRun(of: job, in: state)
        return JobStatusResource(id: job.id.rawValue, status: state.status(of: job).rawValue, state: state.fineState(of: job),
                                 attempt: state.currentAttempt(of: job), tries: current?.tries,
                                 lostAttempts: current?.lostAttempts, updatedAt: APITimestamp(job.updatedAt))
    }

    /// The run whose attempt a job shows: a once job's run, a cron job's latest (while stored).
    static func currentRun(of job: Job, in state: SchedulerState) -> Run? {
        (job.runID ?? job.lastRun?.runID).flatMap { state.run($0) }
    }

    /// A job's attempts, newest first; a once job whose run has not started yet shows one item
    /// with attempt 0 so the run id is visible.
    public static func attempts(ofJob job: Job, in state: SchedulerState, limit: Int = .max) -> [AttemptResource] {
        var items = state.attempts(ofJob: job.id).prefix(limit).map { record in
            attempt(record, state: state.run(record.runID))
        }
        if items.isEmpty, let runID = job.runID, let run = state.run(runID) {
            items = [self.run(run, in: state, history: [])]
        }
        return items
    }

    /// One attempt record, with its run's current state when it is the run's latest attempt.
    static func attempt(_ record: AttemptRecord, state run: Run?) -> AttemptResource {
        let latest = run.flatMap { $0.attempt == record.attempt ? $0 : nil }  // the run's counts belong to its latest attempt
        let runState: RunState
        if let run, run.attempt == record.attempt {
            runState = run.state
        } else {
            runState = record.outcome == .succeeded ? .succeeded : (record.outcome == nil ? .running : .pending)
        }
        let duration = record.finishedAt.map { $0.milliseconds(since: record.startedAt) }
        return AttemptResource(
            runId: record.runID.rawValue, attempt: record.attempt, executor: record.executor.rawValue,
            state: runState.description, outcome: record.outcome?.description,
            scheduledAt: APITimestamp(record.scheduledAt), startedAt: APITimestamp(record.startedAt),
            finishedAt: record.finishedAt.map(APITimestamp.init), exitCode: record.exitCode.map(Int.init),
            httpStatus: record.httpStatus.map(Int.init), durationMs: duration,
            outputTail: record.finishedAt == nil ? nil : record.outputTail, error: record.error,
            dagId: record.dagRunID?.rawValue ?? run?.dagTask?.dagRunID.rawValue,
            tries: latest?.tries, lostAttempts: latest?.lostAttempts)
    }

    /// A run's latest attempt (from the history when it is there).
    static func run(_ run: Run, in state: SchedulerState, history: [AttemptRecord]) -> AttemptResource {
        if let record = history.last(where: { $0.runID == run.id && $0.attempt == run.attempt }) {
            return attempt(record, state: run)
        }
        let duration: Int64? = if let start = run.startedAt, let end = run.finishedAt { end.milliseconds(since: start) } else { nil }
        return AttemptResource(
            runId: run.id.rawValue, attempt: run.attempt, executor: run.executor?.rawValue, state: run.state.description,
            outcome: run.lastOutcome?.description, scheduledAt: APITimestamp(run.scheduledAt),
            startedAt: run.startedAt.map(APITimestamp.init), finishedAt: run.finishedAt.map(APITimestamp.init),
            durationMs: duration, error: run.lastError,
            dagId: run.dagTask?.dagRunID.rawValue ?? (state.dagRun(DAGRunID(run.id.rawValue)) != nil ? run.id.rawValue : nil),
            tries: run.tries, lostAttempts: run.lostAttempts)
    }

    /// A DAG run with its tasks.
    public static func dagRun(_ dag: DAGRun, in state: SchedulerState) -> DAGRunResource {
        let tasks = (state.dagTasks(dag.id) ?? []).map { task in
            DAGTaskResource(id: task.id, state: task.state.description, dependsOn: task.dependsOn, attempt: task.attempt,
                            startedAt: task.startedAt.map(APITimestamp.init),
                            finishedAt: task.finishedAt.map(APITimestamp.init), runId: task.runID.rawValue,
                            tries: task.tries, lostAttempts: task.lostAttempts)
        }
        return DAGRunResource(id: dag.id.rawValue, name: dag.spec.name, state: dag.state.description,
                              jobId: dag.jobID?.rawValue, createdAt: APITimestamp(dag.createdAt),
                              finishedAt: dag.finishedAt.map(APITimestamp.init), tasks: tasks,
                              retentionSeconds: dag.retentionMs / 1000,
                              notify: dag.notify.isEmpty ? nil : dag.notify.map(NotifyRuleBody.init(rule:)))
    }

    /// A DLQ item; `run` (the dead run, when the state still has it) gives its tries and lost attempts.
    public static func deadLetter(_ entry: DLQEntry, run: Run?) -> DeadLetterResource {
        DeadLetterResource(runId: entry.runID.rawValue, jobId: entry.jobID?.rawValue, dagId: entry.dagRunID?.rawValue,
                           taskId: entry.taskID, attempts: entry.attempts, tries: run?.tries, lostAttempts: run?.lostAttempts,
                           error: entry.error, deadAt: APITimestamp(entry.deadAt))
    }

    /// What every `env` and `headers` value reads as: they are write-only (docs/security.md,
    /// "Secrets"). The keys stay visible, so a user can see *which* variables and headers a task
    /// sets without the API, the CLI or anything built on them (events, the dashboard) ever
    /// showing a password or a bearer token that was put there.
    public static let redactedSecret = "***"

    /// A task spec as JSON, with ``redactedSecret`` for every `env` and `headers` value.
    public static func task(_ task: TaskSpec) -> TaskBody {
        switch task {
        case .noop: return .noop
        case .sleep(let ms):
            return .sleep(seconds: ms % 1000 == 0 ? .integer(ms / 1000) : .fractional(Double(ms) / 1000))
        case .shell(let shell):
            return .shell(command: shell.argv,
                          env: shell.environment.isEmpty ? nil : Dictionary(shell.environment.map { ($0.key, redactedSecret) }, uniquingKeysWith: { _, last in last }),
                          workdir: shell.workingDirectory)
        case .http(let http):
            return .http(method: http.method, url: http.url,
                         headers: http.headers.isEmpty ? nil : Dictionary(http.headers.map { ($0.key, redactedSecret) }, uniquingKeysWith: { _, last in last }),
                         body: http.body.isEmpty ? nil : String(decoding: http.body, as: UTF8.self))
        }
    }

    /// A retry policy as JSON (every field; `max_lost_attempts` only when the job has one).
    public static func retry(_ policy: RetryPolicy) -> RetryBody {
        RetryBody(maxAttempts: policy.maxAttempts, initialBackoffMs: policy.initialBackoffMs, multiplier: policy.multiplier,
                  maxBackoffMs: policy.maxBackoffMs, jitter: policy.jitter, maxLostAttempts: policy.maxLostAttempts)
    }

    static func concurrency(_ policy: ConcurrencyPolicy) -> String {
        switch policy {
        case .allow: "allow"
        case .forbid: "forbid"
        case .replace: "replace"
        }
    }
}
