/// A job as the API shows it (`POST/GET /api/jobs…`).
public struct JobResource: Codable, Hashable, Sendable {
    /// The job's id.
    public var id: String
    /// Its display name.
    public var name: String
    /// `once` or `cron`.
    public var type: String
    /// The fine state: a once job's run state, or `scheduled`/`paused`/`cancelled`.
    public var state: String
    /// `Pending`, `In-Progress`, `Completed` or `Failed`.
    public var status: String
    /// Cron only: the expression.
    public var schedule: String?
    /// Cron only: the zone.
    public var timezone: String?
    /// Once only: when it was due.
    public var runAt: APITimestamp?
    /// Cron only: the next fire time, or null.
    public var nextRunAt: APITimestamp?
    /// Cron only: the latest run, or null.
    public var lastRun: AttemptResource?
    /// Higher runs first.
    public var priority: Int
    /// What it runs.
    public var task: TaskBody
    /// Its retry policy.
    public var retry: RetryBody
    /// Per-attempt timeout in seconds.
    public var timeoutSeconds: Double
    /// Cron only: the concurrency policy.
    public var concurrency: String?
    /// Cron only: the misfire policy.
    public var misfire: String?
    /// Cron only: fires dropped as too late.
    public var missedFires: Int?
    /// Labels.
    public var labels: [String: String]
    /// The current attempt number (0 before the first): every attempt, the fencing token.
    public var attempt: Int
    /// The current run's attempts counted against `max_attempts` in its budget; null when the
    /// run is no longer stored (a finished cron run).
    public var tries: Int?
    /// The current run's attempts that ended `lost` without spending a try (always 0 for a job
    /// submitted before command format 4); null like `tries`.
    public var lostAttempts: Int?
    /// When it was submitted.
    public var createdAt: APITimestamp
    /// When it last changed.
    public var updatedAt: APITimestamp
    /// The DAG a scheduled-DAG job starts, by name (null for other jobs).
    public var dag: String?
    /// Its recent attempts, newest first.
    public var runs: [AttemptResource]
    /// How long it is kept once finished, in seconds (null only from a server that predates
    /// the field).
    public var retentionSeconds: Int64? = nil
    /// How many finished runs it keeps (null only from a server that predates the field).
    public var historyLimit: Int? = nil
    /// The job's edit counter (1 at creation, +1 per `PATCH`): what `If-Match` compares with
    /// and what the `ETag` header carries. `nil` only when decoding a server that predates it.
    public var version: Int? = nil
    /// Node labels its attempts' nodes must carry (absent when none); docs/scheduling.md, "Placement".
    public var constraints: [String: String]? = nil
    /// At most this many of its attempts on one node (absent when unlimited).
    public var maxPerNode: Int? = nil
    /// Why a queued job waits (`no node with gpu=true`, `all nodes are draining`), computed when
    /// it is read from the members as the answering node sees them; absent when nothing stops it.
    public var reason: String? = nil
    /// Its `notify` rules as submitted (normalised: repeats dropped, recipients sorted); absent
    /// when it has none, so responses for jobs without rules are unchanged.
    public var notify: [NotifyRuleBody]? = nil
    /// `GET /api/jobs/{id}` only: the job's notifications, pending first then the latest settled
    /// (``NotificationResource``); absent when it has none, and in lists and write responses.
    public var notifications: [NotificationResource]? = nil

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, type, state, status, version, schedule, timezone, notify, notifications
        case runAt = "run_at"
        case nextRunAt = "next_run_at"
        case lastRun = "last_run"
        case priority, task, retry
        case timeoutSeconds = "timeout_seconds"
        case concurrency, misfire
        case missedFires = "missed_fires"
        case labels, attempt, tries
        case lostAttempts = "lost_attempts"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case dag, runs
        case retentionSeconds = "retention_seconds"
        case historyLimit = "history_limit"
        case constraints
        case maxPerNode = "max_per_node"
        case reason
    }

    /// Writes every key; `next_run_at` and `last_run` are null rather than absent on cron jobs.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(type, forKey: .type)
        try c.encode(state, forKey: .state)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(version, forKey: .version)
        try c.encodeIfPresent(schedule, forKey: .schedule)
        try c.encodeIfPresent(timezone, forKey: .timezone)
        try c.encodeIfPresent(runAt, forKey: .runAt)
        if type == "cron" {
            try c.encode(nextRunAt, forKey: .nextRunAt)
            try c.encode(lastRun, forKey: .lastRun)
        }
        try c.encode(priority, forKey: .priority)
        try c.encode(task, forKey: .task)
        try c.encode(retry, forKey: .retry)
        try c.encode(timeoutSeconds, forKey: .timeoutSeconds)
        try c.encodeIfPresent(concurrency, forKey: .concurrency)
        try c.encodeIfPresent(misfire, forKey: .misfire)
        try c.encodeIfPresent(missedFires, forKey: .missedFires)
        try c.encode(labels, forKey: .labels)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(tries, forKey: .tries)
        try c.encode(lostAttempts, forKey: .lostAttempts)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encodeIfPresent(dag, forKey: .dag)
        try c.encode(runs, forKey: .runs)
        try c.encodeIfPresent(retentionSeconds, forKey: .retentionSeconds)
        try c.encodeIfPresent(historyLimit, forKey: .historyLimit)
        try c.encodeIfPresent(constraints, forKey: .constraints)
        try c.encodeIfPresent(maxPerNode, forKey: .maxPerNode)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encodeIfPresent(notify, forKey: .notify)
        try c.encodeIfPresent(notifications, forKey: .notifications)
    }
}

/// One attempt of a run (`/api/jobs/{id}/runs` items, a job's `runs` and `last_run`).
public struct AttemptResource: Codable, Hashable, Sendable {
    /// The run.
    public var runId: String
    /// The attempt number (from 1; 0 for a run that has not started).
    public var attempt: Int
    /// The executor node, or null.
    @ExplicitNull public var executor: String?
    /// The run's state.
    public var state: String
    /// `succeeded`, `failed`, `timed_out`, `cancelled`, `lost`, or null while running.
    @ExplicitNull public var outcome: String?
    /// When the run was due.
    public var scheduledAt: APITimestamp
    /// When the attempt started, or null.
    @ExplicitNull public var startedAt: APITimestamp?
    /// When it ended, or null.
    @ExplicitNull public var finishedAt: APITimestamp?
    /// Shell exit code, or null.
    @ExplicitNull public var exitCode: Int?
    /// HTTP status, or null.
    @ExplicitNull public var httpStatus: Int?
    /// Duration in ms, or null.
    @ExplicitNull public var durationMs: Int64?
    /// The output tail, or null.
    @ExplicitNull public var outputTail: String?
    /// The error text, or null.
    @ExplicitNull public var error: String?
    /// The DAG run, for a scheduled DAG's runs, or null.
    @ExplicitNull public var dagId: String?
    /// For the run's latest attempt: its attempts counted against `max_attempts` in the current
    /// budget; null on earlier attempts and runs no longer stored.
    @ExplicitNull public var tries: Int? = nil
    /// For the run's latest attempt: its attempts that ended `lost` without spending a try;
    /// null like `tries`.
    @ExplicitNull public var lostAttempts: Int? = nil

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case runId = "run_id"
        case attempt, executor, state, outcome
        case scheduledAt = "scheduled_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case exitCode = "exit_code"
        case httpStatus = "http_status"
        case durationMs = "duration_ms"
        case outputTail = "output_tail"
        case error
        case dagId = "dag_id"
        case tries
        case lostAttempts = "lost_attempts"
    }
}

/// `GET /api/job-status/{id}`.
public struct JobStatusResource: Codable, Hashable, Sendable {
    /// The job's id.
    public var id: String
    /// The coarse status.
    public var status: String
    /// The fine state.
    public var state: String
    /// The current attempt number.
    public var attempt: Int
    /// The current run's tries (see ``JobResource/tries``), or null.
    @ExplicitNull public var tries: Int? = nil
    /// The current run's lost attempts (see ``JobResource/lostAttempts``), or null.
    @ExplicitNull public var lostAttempts: Int? = nil
    /// When the job last changed.
    public var updatedAt: APITimestamp

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, status, state, attempt, tries
        case lostAttempts = "lost_attempts"
        case updatedAt = "updated_at"
    }
}

/// A page of a list: `{"items": […], "next_cursor": "…" | null}`.
public struct ListPage<Item: Codable & Hashable & Sendable>: Codable, Hashable, Sendable {
    /// The items.
    public var items: [Item]
    /// Pass as `cursor` for the next page; null on the last.
    @ExplicitNull public var nextCursor: String?

    /// A page.
    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }
}

/// `GET /api/jobs/{id}/runs`: `{"items": […]}`.
public struct AttemptList: Codable, Hashable, Sendable {
    /// One item per attempt, newest first.
    public var items: [AttemptResource]
    /// A list.
    public init(items: [AttemptResource]) { self.items = items }
}

/// `POST /api/jobs/batch`: `{"ids": […]}` in request order.
public struct BatchResult: Codable, Hashable, Sendable {
    /// The new jobs' ids.
    public var ids: [String]
    /// A result.
    public init(ids: [String]) { self.ids = ids }
}
