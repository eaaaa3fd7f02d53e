/// The body of `POST /api/jobs` (and each item of a batch), exactly as the user wrote it.
///
/// Decoding checks only the shape: unknown fields and wrong JSON types are `bad_request`.
/// Values (a cron expression, a zone, a URL, a negative count) are checked afterwards by
/// ``SubmissionPlanner``, which names the field in a 422.
public struct JobSubmission: Codable, Hashable, Sendable {
    /// A display name (required, non-empty).
    public var name: String?
    /// `once` or `cron`; omitted means `cron` when `schedule` is given, else `once`.
    public var type: String?
    /// Cron only: the expression.
    public var schedule: String?
    /// Cron only: the IANA zone (default `UTC`).
    public var timezone: String?
    /// Once only: when to run (default now).
    public var runAt: APITimestamp?
    /// Once only: run this many seconds from now (instead of `run_at`).
    public var delaySeconds: WireNumber?
    /// Higher runs first (an integer, default 0).
    public var priority: WireNumber?
    /// What to run (default noop).
    public var task: TaskBody?
    /// The retry policy.
    public var retry: RetryBody?
    /// Per-attempt timeout in seconds.
    public var timeoutSeconds: WireNumber?
    /// Cron only: `allow`, `forbid` or `replace`.
    public var concurrency: String?
    /// Cron only: `skip` or `run_once`.
    public var misfire: String?
    /// Labels.
    public var labels: [String: String]?
    /// How long the job is kept once finished, in whole seconds (60 s to 10 years); omitted, the
    /// cluster's `[scheduler] retention_seconds`, stamped by the leader.
    public var retentionSeconds: WireNumber?
    /// How many finished runs the job keeps (1–1000); omitted, the cluster's `[scheduler]
    /// history_limit`, stamped by the leader.
    public var historyLimit: WireNumber?
    /// Node labels an attempt's node must carry (`{"gpu": "true"}`); docs/scheduling.md, "Placement".
    public var constraints: [String: String]?
    /// At most this many of its attempts on one node at a time (1–1024).
    public var maxPerNode: WireNumber?
    /// Who is told about what (``NotifyRuleBody``; checked by ``NotifyRulePlanner``); omitted,
    /// only the cluster's `[notify] on` defaults apply.
    public var notify: [NotifyRuleBody]?

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, type, schedule, timezone
        case runAt = "run_at"
        case delaySeconds = "delay_seconds"
        case priority, task, retry
        case timeoutSeconds = "timeout_seconds"
        case concurrency, misfire, labels
        case retentionSeconds = "retention_seconds"
        case historyLimit = "history_limit"
        case constraints
        case maxPerNode = "max_per_node"
        case notify
    }

    /// A submission (every field optional, as in JSON).
    public init(name: String? = nil, type: String? = nil, schedule: String? = nil, timezone: String? = nil,
                runAt: APITimestamp? = nil, delaySeconds: WireNumber? = nil, priority: WireNumber? = nil,
                task: TaskBody? = nil, retry: RetryBody? = nil, timeoutSeconds: WireNumber? = nil,
                concurrency: String? = nil, misfire: String? = nil, labels: [String: String]? = nil,
                retentionSeconds: WireNumber? = nil, historyLimit: WireNumber? = nil,
                constraints: [String: String]? = nil, maxPerNode: WireNumber? = nil, notify: [NotifyRuleBody]? = nil) {
        self.constraints = constraints
        self.maxPerNode = maxPerNode
        self.name = name
        self.type = type
        self.schedule = schedule
        self.timezone = timezone
        self.runAt = runAt
        self.delaySeconds = delaySeconds
        self.priority = priority
        self.task = task
        self.retry = retry
        self.timeoutSeconds = timeoutSeconds
        self.concurrency = concurrency
        self.misfire = misfire
        self.labels = labels
        self.retentionSeconds = retentionSeconds
        self.historyLimit = historyLimit
        self.notify = notify
    }

    /// Decodes strictly: unknown fields are rejected.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        schedule = try c.decodeIfPresent(String.self, forKey: .schedule)
        timezone = try c.decodeIfPresent(String.self, forKey: .timezone)
        runAt = try c.decodeIfPresent(APITimestamp.self, forKey: .runAt)
        delaySeconds = try c.decodeIfPresent(WireNumber.self, forKey: .delaySeconds)
        priority = try c.decodeIfPresent(WireNumber.self, forKey: .priority)
        task = try c.decodeIfPresent(TaskBody.self, forKey: .task)
        retry = try c.decodeIfPresent(RetryBody.self, forKey: .retry)
        timeoutSeconds = try c.decodeIfPresent(WireNumber.self, forKey: .timeoutSeconds)
        concurrency = try c.decodeIfPresent(String.self, forKey: .concurrency)
        misfire = try c.decodeIfPresent(String.self, forKey: .misfire)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels)
        retentionSeconds = try c.decodeIfPresent(WireNumber.self, forKey: .retentionSeconds)
        historyLimit = try c.decodeIfPresent(WireNumber.self, forKey: .historyLimit)
        constraints = try c.decodeIfPresent([String: String].self, forKey: .constraints)
        maxPerNode = try c.decodeIfPresent(WireNumber.self, forKey: .maxPerNode)
        notify = try c.decodeIfPresent([NotifyRuleBody].self, forKey: .notify)
    }
}

/// The body of `POST /api/jobs/batch`.
public struct BatchSubmission: Codable, Hashable, Sendable {
    /// The jobs, in order (required).
    public var jobs: [JobSubmission]?

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case jobs
    }

    /// A batch.
    public init(jobs: [JobSubmission]) { self.jobs = jobs }

    /// Decodes strictly: unknown fields are rejected.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        jobs = try c.decodeIfPresent([JobSubmission].self, forKey: .jobs)
    }
}

/// A retry policy as JSON; omitted fields take the defaults.
public struct RetryBody: Codable, Hashable, Sendable {
    /// Attempts per budget (≥ 1).
    public var maxAttempts: Int?
    /// First backoff in ms (≥ 0).
    public var initialBackoffMs: Int64?
    /// Growth factor (≥ 1).
    public var multiplier: Double?
    /// Backoff cap in ms (≥ 0).
    public var maxBackoffMs: Int64?
    /// Jitter on or off.
    public var jitter: Bool?
    /// Lost attempts (node died, drained or cut off) a run survives without spending
    /// `max_attempts` (0…1000; default 5). A job's resource leaves it out when the job was
    /// submitted before command format 4: a lost attempt is a try for it.
    public var maxLostAttempts: Int?

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case maxAttempts = "max_attempts"
        case initialBackoffMs = "initial_backoff_ms"
        case multiplier
        case maxBackoffMs = "max_backoff_ms"
        case jitter
        case maxLostAttempts = "max_lost_attempts"
    }

    /// A retry body.
    public init(maxAttempts: Int? = nil, initialBackoffMs: Int64? = nil, multiplier: Double? = nil,
                maxBackoffMs: Int64? = nil, jitter: Bool? = nil, maxLostAttempts: Int? = nil) {
        self.maxAttempts = maxAttempts
        self.initialBackoffMs = initialBackoffMs
        self.multiplier = multiplier
        self.maxBackoffMs = maxBackoffMs
        self.jitter = jitter
        self.maxLostAttempts = maxLostAttempts
    }

    /// Decodes strictly: unknown fields are rejected.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts)
        initialBackoffMs = try c.decodeIfPresent(Int64.self, forKey: .initialBackoffMs)
        multiplier = try c.decodeIfPresent(Double.self, forKey: .multiplier)
        maxBackoffMs = try c.decodeIfPresent(Int64.self, forKey: .maxBackoffMs)
        jitter = try c.decodeIfPresent(Bool.self, forKey: .jitter)
        maxLostAttempts = try c.decodeIfPresent(Int.self, forKey: .maxLostAttempts)
    }
}
