/// The body of `POST /api/dags`: a one-off DAG run, or with `schedule` a cron job whose every
/// fire starts a DAG run.
public struct DAGSubmission: Codable, Hashable, Sendable {
    /// A display name (required).
    public var name: String?
    /// Makes a cron job of the DAG.
    public var schedule: String?
    /// The schedule's zone (default `UTC`); only with `schedule`.
    public var timezone: String?
    /// Priority of every task run (an integer).
    public var priority: WireNumber?
    /// Only with `schedule`: `allow`, `forbid` or `replace`.
    public var concurrency: String?
    /// Only with `schedule`: `skip` or `run_once`.
    public var misfire: String?
    /// Labels.
    public var labels: [String: String]?
    /// The tasks (at least one).
    public var tasks: [DAGTaskBody]?
    /// How long the DAG run (with `schedule`: the cron job, and each DAG run it starts) is kept
    /// once finished, in whole seconds (60 s to 10 years); omitted, the cluster's default.
    public var retentionSeconds: WireNumber?
    /// Only with `schedule`: how many finished DAG runs the cron job keeps (1–1000); omitted,
    /// the cluster's default.
    public var historyLimit: WireNumber?
    /// Node labels every task's node must carry; a task's own `constraints` add to them (its
    /// value wins for the same key).
    public var constraints: [String: String]?
    /// Every task's `max_per_node` unless the task gives its own.
    public var maxPerNode: WireNumber?
    /// Only with `schedule`: the cron job's `notify` rules (``NotifyRuleBody``); a one-off DAG
    /// run does not carry rules yet (422).
    public var notify: [NotifyRuleBody]?

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, schedule, timezone, priority, concurrency, misfire, labels, tasks
        case retentionSeconds = "retention_seconds"
        case historyLimit = "history_limit"
        case constraints
        case maxPerNode = "max_per_node"
        case notify
    }

    /// A DAG submission.
    public init(name: String? = nil, schedule: String? = nil, timezone: String? = nil, priority: WireNumber? = nil,
                concurrency: String? = nil, misfire: String? = nil, labels: [String: String]? = nil,
                tasks: [DAGTaskBody]? = nil, retentionSeconds: WireNumber? = nil, historyLimit: WireNumber? = nil,
                constraints: [String: String]? = nil, maxPerNode: WireNumber? = nil, notify: [NotifyRuleBody]? = nil) {
        self.constraints = constraints
        self.maxPerNode = maxPerNode
        self.name = name
        self.schedule = schedule
        self.timezone = timezone
        self.priority = priority
        self.concurrency = concurrency
        self.misfire = misfire
        self.labels = labels
        self.tasks = tasks
        self.retentionSeconds = retentionSeconds
        self.historyLimit = historyLimit
        self.notify = notify
    }

    /// Decodes strictly: unknown fields are rejected.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        schedule = try c.decodeIfPresent(String.self, forKey: .schedule)
        timezone = try c.decodeIfPresent(String.self, forKey: .timezone)
        priority = try c.decodeIfPresent(WireNumber.self, forKey: .priority)
        concurrency = try c.decodeIfPresent(String.self, forKey: .concurrency)
        misfire = try c.decodeIfPresent(String.self, forKey: .misfire)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels)
        tasks = try c.decodeIfPresent([DAGTaskBody].self, forKey: .tasks)
        retentionSeconds = try c.decodeIfPresent(WireNumber.self, forKey: .retentionSeconds)
        historyLimit = try c.decodeIfPresent(WireNumber.self, forKey: .historyLimit)
        constraints = try c.decodeIfPresent([String: String].self, forKey: .constraints)
        maxPerNode = try c.decodeIfPresent(WireNumber.self, forKey: .maxPerNode)
        notify = try c.decodeIfPresent([NotifyRuleBody].self, forKey: .notify)
    }
}

/// One task of a DAG submission.
public struct DAGTaskBody: Codable, Hashable, Sendable {
    /// The task's id, unique in the DAG (required).
    public var id: String?
    /// What it runs (default noop).
    public var task: TaskBody?
    /// Ids of tasks that must succeed first.
    public var dependsOn: [String]?
    /// Its retry policy.
    public var retry: RetryBody?
    /// Per-attempt timeout in seconds.
    public var timeoutSeconds: WireNumber?
    /// Node labels an attempt's node must carry (`{"gpu": "true"}`); docs/scheduling.md, "Placement".
    public var constraints: [String: String]?
    /// At most this many of its attempts on one node at a time (1–1024).
    public var maxPerNode: WireNumber?

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, task
        case dependsOn = "depends_on"
        case retry
        case timeoutSeconds = "timeout_seconds"
        case constraints
        case maxPerNode = "max_per_node"
    }

    /// A DAG task.
    public init(id: String? = nil, task: TaskBody? = nil, dependsOn: [String]? = nil, retry: RetryBody? = nil,
                timeoutSeconds: WireNumber? = nil, constraints: [String: String]? = nil, maxPerNode: WireNumber? = nil) {
        self.constraints = constraints
        self.maxPerNode = maxPerNode
        self.id = id
        self.task = task
        self.dependsOn = dependsOn
        self.retry = retry
        self.timeoutSeconds = timeoutSeconds
    }

    /// Decodes strictly: unknown fields are rejected.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        task = try c.decodeIfPresent(TaskBody.self, forKey: .task)
        dependsOn = try c.decodeIfPresent([String].self, forKey: .dependsOn)
        retry = try c.decodeIfPresent(RetryBody.self, forKey: .retry)
        timeoutSeconds = try c.decodeIfPresent(WireNumber.self, forKey: .timeoutSeconds)
        constraints = try c.decodeIfPresent([String: String].self, forKey: .constraints)
        maxPerNode = try c.decodeIfPresent(WireNumber.self, forKey: .maxPerNode)
    }
}
