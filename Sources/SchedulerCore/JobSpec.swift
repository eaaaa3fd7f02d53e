/// What an attempt executes.
public enum TaskSpec: Hashable, Sendable {
    /// Does nothing and succeeds (the default task).
    case noop
    /// Sleeps for the given milliseconds, then succeeds.
    case sleep(milliseconds: Int64)
    /// Runs a program with an argument vector (no shell interpolation).
    case shell(ShellTask)
    /// Sends one HTTP request; a 2xx answer is success.
    case http(HTTPTask)
}

/// A program to run: `argv[0]` is the executable.
public struct ShellTask: Hashable, Sendable {
    /// The argument vector; `argv[0]` is the program.
    public var argv: [String]
    /// Extra environment variables, sorted by key.
    public var environment: [KeyValue]
    /// The working directory, or `nil` for the executor's default.
    public var workingDirectory: String?
    /// A shell task. `environment` is sorted by key here.
    public init(argv: [String], environment: [KeyValue] = [], workingDirectory: String? = nil) {
        self.argv = argv
        self.environment = environment.sorted { $0.key < $1.key }
        self.workingDirectory = workingDirectory
    }
}

/// An HTTP request to send.
public struct HTTPTask: Hashable, Sendable {
    /// The method, e.g. `"POST"`.
    public var method: String
    /// The absolute URL.
    public var url: String
    /// Request headers, sorted by name.
    public var headers: [KeyValue]
    /// The request body.
    public var body: [UInt8]
    /// An HTTP task. `headers` are sorted by name here.
    public init(method: String, url: String, headers: [KeyValue] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers.sorted { $0.key < $1.key }
        self.body = body
    }
}

/// How a failed attempt is retried.
///
/// The delay before attempt `n + 1` after attempt `n` failed is
/// `min(maxBackoff, initialBackoff × multiplier^(n−1))`, scaled by a deterministic jitter
/// factor in `[0.5, 1.0)` when `jitter` is on (see ``Backoff``).
public struct RetryPolicy: Hashable, Sendable {
    /// Attempts per budget, counting the first (≥ 1). Default 3.
    public var maxAttempts: Int
    /// The delay after the first failure, in milliseconds. Default 1000.
    public var initialBackoffMs: Int64
    /// The growth factor per further failure. Default 2.0.
    public var multiplier: Double
    /// The delay cap, in milliseconds. Default 300000 (5 minutes).
    public var maxBackoffMs: Int64
    /// Whether the delay is scaled by a deterministic jitter factor. Default on.
    public var jitter: Bool
    /// How many `lost` attempts (executor died, drained or cut off) a budget survives; a lost
    /// attempt then does not spend ``maxAttempts``, and the run is dead once it has been lost
    /// this many times. `nil` is the old rule, kept for every job submitted before command
    /// format 4 (``CommandCodec/lostAttemptCaps``): a lost attempt counts as a try. The value
    /// comes only from the replicated command (the API stamps
    /// ``defaultMaxLostAttempts``), so every build applies the same rule to the same entry.
    public var maxLostAttempts: Int?
    /// A retry policy; the defaults are the API's, except ``maxLostAttempts`` (`nil`, the old
    /// rule, unless given: the API stamps ``defaultMaxLostAttempts``).
    public init(maxAttempts: Int = 3, initialBackoffMs: Int64 = 1000, multiplier: Double = 2.0,
                maxBackoffMs: Int64 = 300_000, jitter: Bool = true, maxLostAttempts: Int? = nil) {
        self.maxAttempts = maxAttempts
        self.initialBackoffMs = initialBackoffMs
        self.multiplier = multiplier
        self.maxBackoffMs = maxBackoffMs
        self.jitter = jitter
        self.maxLostAttempts = maxLostAttempts
    }
    /// 3 attempts, 1 s, ×2, 5 min cap, jitter; lost attempts count as tries (no lost cap).
    public static let `default` = RetryPolicy()
    /// The `retry.max_lost_attempts` the API stamps when a request leaves it out.
    public static let defaultMaxLostAttempts = 5
}

/// What a cron fire does while a previous run of the same job is still active.
public enum ConcurrencyPolicy: UInt8, Hashable, Sendable, CaseIterable {
    /// Start the new run alongside the old one.
    case allow = 0
    /// Skip this fire (counted in ``Job/forbiddenFires``).
    case forbid = 1
    /// Cancel the active run (stopping its attempt) and start the new one.
    case replace = 2
}

/// What happens to fires that came later than the starting deadline.
public enum MisfirePolicy: UInt8, Hashable, Sendable, CaseIterable {
    /// Drop late fires (each counted as missed).
    case skip = 0
    /// Run once for the latest missed time; earlier missed times are counted and dropped.
    case runOnce = 1
}

/// A cron job's schedule as the user wrote it. The state machine never evaluates it: the leader
/// computes fire times with the Cron module and stamps them into commands.
public struct CronSchedule: Hashable, Sendable {
    /// The cron expression, e.g. `"0 * * * *"`.
    public var expression: String
    /// The IANA zone name, e.g. `"Europe/Berlin"` (default `"UTC"`).
    public var timezone: String
    /// A cron schedule.
    public init(expression: String, timezone: String = "UTC") {
        self.expression = expression
        self.timezone = timezone
    }
}

/// Everything a user said about a job. Immutable once submitted and shared by reference.
///
/// The name is the job's own; everything else lives in a ``JobSettings`` object that jobs
/// submitted alike share (issue #18): a batch of a thousand jobs that differ only in their names
/// holds one settings object, not a thousand (a spec cost ~300 bytes per job; 1,000,000 pending
/// jobs). The state shares them as it stores jobs (``sharingSettings(with:)``); equality, hashing
/// and every encoding read the fields and are unchanged.
public final class JobSpec: Hashable, Sendable {
    /// A display name.
    public let name: String
    /// Everything but the name, possibly shared with other jobs' specs.
    let settings: JobSettings
    /// The cron schedule, or `nil` for a once job.
    public var schedule: CronSchedule? { settings.schedule }
    /// When a once job first becomes due (the leader resolves `delay_seconds` and "now").
    public var runAt: Timestamp? { settings.runAt }
    /// Higher runs first; FIFO within a priority.
    public var priority: Int { settings.priority }
    /// What each attempt runs (ignored when `dag` is set).
    public var task: TaskSpec { settings.task }
    /// A cron-scheduled DAG: each fire starts a new DAG run of it.
    public var dag: DAGSpec? { settings.dag }
    /// Retry policy per run.
    public var retry: RetryPolicy { settings.retry }
    /// Per-attempt timeout in milliseconds (the leader stamps the deadline at assignment).
    public var timeoutMs: Int64 { settings.timeoutMs }
    /// Cron only: what a fire does while a run is active.
    public var concurrency: ConcurrencyPolicy { settings.concurrency }
    /// Cron only: what happens to fires later than `startingDeadlineMs`.
    public var misfire: MisfirePolicy { settings.misfire }
    /// Cron only: a fire later than this still runs normally. Default 60 s.
    public var startingDeadlineMs: Int64 { settings.startingDeadlineMs }
    /// Labels, sorted by key, unique keys.
    public var labels: [KeyValue] { settings.labels }
    /// How long a finished job is kept before it is removed, in milliseconds. Default 7 days.
    public var retentionMs: Int64 { settings.retentionMs }
    /// How many finished runs the job keeps (`history_limit`): the attempts shown by
    /// `/api/jobs/{id}/runs`, and a scheduled DAG's finished DAG runs; older ones are removed at
    /// apply (docs/scheduling.md, "Retention and history"). `nil` for a job submitted before
    /// command format 5: its history keeps ``SchedulerConfig/attemptHistoryLimit`` attempts and
    /// its DAG runs stay for their retention.
    public var historyLimit: Int? { settings.historyLimit }
    /// Which nodes may run its attempts (``Placement``); ``Placement/none`` for any node. For a
    /// cron DAG job each task carries its own (``DAGTaskSpec/placement``).
    public var placement: Placement { settings.placement }
    /// Who is told about what (`notify`, docs/notifications.md); empty for a job submitted
    /// before command format 10 (``CommandCodec/notifyRules``) or that asked for nothing.
    public var notify: [NotificationRule] { settings.notify }

    /// Default per-attempt timeout: 1 hour.
    public static let defaultTimeoutMs: Int64 = 3_600_000
    /// Default starting deadline: 60 s.
    public static let defaultStartingDeadlineMs: Int64 = 60_000
    /// Default retention: 7 days (the cluster default when `[scheduler] retention_seconds` is unset).
    public static let defaultRetentionMs: Int64 = 7 * 24 * 3_600_000
    /// The `retentionMs` of a submit whose client left `retention_seconds` out: "the cluster's
    /// default". It appears only in a command that has not reached the leader yet (an
    /// unstamped template); the leader replaces it with its `[scheduler] retention_seconds`, so
    /// apply never reads a config. Apply refuses a negative retention, so one that escaped would
    /// be refused, never applied.
    public static let clusterDefaultRetentionMs: Int64 = -1
    /// The `historyLimit` of a submit whose client left `history_limit` out: "the cluster's
    /// default", replaced by the leader like ``clusterDefaultRetentionMs`` (apply refuses it).
    public static let clusterDefaultHistoryLimit = -1
    /// The `history_limit` values a job may have.
    public static let historyLimits: ClosedRange<Int> = 1...1_000
    /// The built-in `[scheduler] history_limit`: 20, as many attempts as a job kept before the
    /// limit existed.
    public static let defaultHistoryLimit = 20

    /// A job spec. `labels` are sorted by key here.
    public init(name: String, schedule: CronSchedule? = nil, runAt: Timestamp? = nil,
                priority: Int = 0, task: TaskSpec = .noop, dag: DAGSpec? = nil,
                retry: RetryPolicy = .default, timeoutMs: Int64 = JobSpec.defaultTimeoutMs,
                concurrency: ConcurrencyPolicy = .allow, misfire: MisfirePolicy = .runOnce,
                startingDeadlineMs: Int64 = JobSpec.defaultStartingDeadlineMs,
                labels: [KeyValue] = [], retentionMs: Int64 = JobSpec.defaultRetentionMs, historyLimit: Int? = nil,
                placement: Placement = .none, notify: [NotificationRule] = []) {
        self.name = name
        self.settings = JobSettings(schedule: schedule, runAt: runAt, priority: priority, task: task, dag: dag, retry: retry,
                                    timeoutMs: timeoutMs, concurrency: concurrency, misfire: misfire,
                                    startingDeadlineMs: startingDeadlineMs, labels: labels, retentionMs: retentionMs,
                                    historyLimit: historyLimit, placement: placement, notify: notify)
    }

    init(name: String, settings: JobSettings) {
        self.name = name
        self.settings = settings
    }

    /// How many recently stored jobs' specs a new one is compared with (``sharingSettings(with:)``):
    /// enough for jobs submitted alike with a few priorities or labels in turn.
    public static let settingsSharingWindow = 4

    /// This spec holding `other`'s settings object, or `nil` when their settings differ. Equal
    /// settings are the same value, so nothing a reader sees changes; jobs submitted alike then
    /// share one object.
    public func sharingSettings(with other: JobSpec) -> JobSpec? {
        if settings === other.settings { return self }
        return settings == other.settings ? JobSpec(name: name, settings: other.settings) : nil
    }

    /// `once` or `cron`.
    public var kind: JobKind { schedule == nil ? .once : .cron }

    /// Value equality of every field.
    public static func == (lhs: JobSpec, rhs: JobSpec) -> Bool {
        lhs === rhs || (lhs.name == rhs.name && lhs.settings == rhs.settings)
    }
    /// Hashes the identifying fields.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(priority)
        hasher.combine(task)
    }
}

/// A ``JobSpec`` without its name: what jobs submitted alike have in common (see ``JobSpec``).
final class JobSettings: Equatable, Sendable {
    let schedule: CronSchedule?
    let runAt: Timestamp?
    let priority: Int
    let task: TaskSpec
    let dag: DAGSpec?
    let retry: RetryPolicy
    let timeoutMs: Int64
    let concurrency: ConcurrencyPolicy
    let misfire: MisfirePolicy
    let startingDeadlineMs: Int64
    let labels: [KeyValue]
    let retentionMs: Int64
    let historyLimit: Int?
    let placement: Placement
    let notify: [NotificationRule]

    init(schedule: CronSchedule?, runAt: Timestamp?, priority: Int, task: TaskSpec, dag: DAGSpec?, retry: RetryPolicy,
         timeoutMs: Int64, concurrency: ConcurrencyPolicy, misfire: MisfirePolicy, startingDeadlineMs: Int64,
         labels: [KeyValue], retentionMs: Int64, historyLimit: Int?, placement: Placement, notify: [NotificationRule]) {
        self.schedule = schedule
        self.runAt = runAt
        self.priority = priority
        self.task = task
        self.dag = dag
        self.retry = retry
        self.timeoutMs = timeoutMs
        self.concurrency = concurrency
        self.misfire = misfire
        self.startingDeadlineMs = startingDeadlineMs
        self.labels = labels.sorted { $0.key < $1.key }
        self.retentionMs = retentionMs
        self.historyLimit = historyLimit
        self.placement = placement
        self.notify = notify
    }

    /// Value equality of every field.
    static func == (lhs: JobSettings, rhs: JobSettings) -> Bool {
        lhs === rhs || (lhs.schedule == rhs.schedule && lhs.runAt == rhs.runAt && lhs.priority == rhs.priority
            && lhs.task == rhs.task && lhs.dag == rhs.dag && lhs.retry == rhs.retry
            && lhs.timeoutMs == rhs.timeoutMs && lhs.concurrency == rhs.concurrency
            && lhs.misfire == rhs.misfire && lhs.startingDeadlineMs == rhs.startingDeadlineMs
            && lhs.labels == rhs.labels && lhs.retentionMs == rhs.retentionMs
            && lhs.historyLimit == rhs.historyLimit && lhs.placement == rhs.placement
            && lhs.notify == rhs.notify)
    }
}

/// Once or cron.
public enum JobKind: UInt8, Hashable, Sendable {
    /// Runs once at `run_at`.
    case once = 0
    /// Fires on a cron schedule.
    case cron = 1
}
