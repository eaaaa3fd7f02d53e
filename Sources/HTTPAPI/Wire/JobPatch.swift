/// The body of `PATCH /api/jobs/{id}`: the fields to change, exactly as the user wrote them.
/// A field left out (or null) keeps its stored value; a field given replaces it whole (a `task`,
/// a `retry` object, the `labels` map, the `constraints` map). Decoding checks only the shape (unknown fields are
/// `bad_request`, like a submission); ``EditPlanner`` checks the values and names the field.
public struct JobPatch: Codable, Hashable, Sendable {
    /// Cron only: the new expression.
    public var schedule: String?
    /// Cron only: the new IANA zone.
    public var timezone: String?
    /// The new priority (an integer).
    public var priority: WireNumber?
    /// The new retry policy (omitted fields take the defaults, as on submission).
    public var retry: RetryBody?
    /// The new per-attempt timeout in seconds.
    public var timeoutSeconds: WireNumber?
    /// The new task; an `env` or `headers` value of `"***"` keeps the stored value of that key.
    public var task: TaskBody?
    /// The new labels (the whole map).
    public var labels: [String: String]?
    /// Cron only: `allow`, `forbid` or `replace`.
    public var concurrency: String?
    /// Cron only: `skip` or `run_once`.
    public var misfire: String?
    /// The new `notify` rules (the whole list; `[]` removes every rule).
    public var notify: [NotifyRuleBody]?
    /// The new placement constraints (the whole map; `{}` removes every constraint).
    public var constraints: [String: String]?
    /// The new per-node limit of the job's attempts (1–1024). There is no value that removes a
    /// limit: null keeps it, as for every field; 1024, the most slots a node has, limits nothing.
    public var maxPerNode: WireNumber?

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case schedule, timezone, priority, retry
        case timeoutSeconds = "timeout_seconds"
        case task, labels, concurrency, misfire, notify, constraints
        case maxPerNode = "max_per_node"
    }

    /// A patch (every field optional, as in JSON).
    public init(schedule: String? = nil, timezone: String? = nil, priority: WireNumber? = nil, retry: RetryBody? = nil,
                timeoutSeconds: WireNumber? = nil, task: TaskBody? = nil, labels: [String: String]? = nil,
                concurrency: String? = nil, misfire: String? = nil, notify: [NotifyRuleBody]? = nil,
                constraints: [String: String]? = nil, maxPerNode: WireNumber? = nil) {
        self.schedule = schedule
        self.timezone = timezone
        self.priority = priority
        self.retry = retry
        self.timeoutSeconds = timeoutSeconds
        self.task = task
        self.labels = labels
        self.concurrency = concurrency
        self.misfire = misfire
        self.notify = notify
        self.constraints = constraints
        self.maxPerNode = maxPerNode
    }

    /// Decodes strictly: unknown fields are rejected.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schedule = try c.decodeIfPresent(String.self, forKey: .schedule)
        timezone = try c.decodeIfPresent(String.self, forKey: .timezone)
        priority = try c.decodeIfPresent(WireNumber.self, forKey: .priority)
        retry = try c.decodeIfPresent(RetryBody.self, forKey: .retry)
        timeoutSeconds = try c.decodeIfPresent(WireNumber.self, forKey: .timeoutSeconds)
        task = try c.decodeIfPresent(TaskBody.self, forKey: .task)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels)
        concurrency = try c.decodeIfPresent(String.self, forKey: .concurrency)
        misfire = try c.decodeIfPresent(String.self, forKey: .misfire)
        notify = try c.decodeIfPresent([NotifyRuleBody].self, forKey: .notify)
        constraints = try c.decodeIfPresent([String: String].self, forKey: .constraints)
        maxPerNode = try c.decodeIfPresent(WireNumber.self, forKey: .maxPerNode)
    }

    /// Whether the patch changes where the job's attempts may run (`constraints`, `max_per_node`).
    public var changesPlacement: Bool { constraints != nil || maxPerNode != nil }

    /// Whether the patch changes when a cron job fires (the leader then stamps a new next fire).
    public var reschedules: Bool { schedule != nil || timezone != nil }

    /// The fields a ``SubmissionLimits`` check looks at (labels and the task), as a submission.
    var asSubmissionForLimits: JobSubmission { JobSubmission(task: task, labels: labels) }
}
