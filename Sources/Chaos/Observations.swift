/// What the tool saw after healing, the checker's second input beside the history.
public struct FinalObservations: Hashable, Sendable {
    /// Each acknowledged job's final state as a linearizable read showed it (`nil`: could not be read).
    public var jobs: [String: JobObservation?]
    /// Each acknowledged DAG run's final state (`nil`: could not be read).
    public var dags: [String: DAGObservation?]
    /// Jobs found by their `chaos_key` label for each idempotency key whose submit stayed unknown
    /// (`nil`: the list could not be read).
    public var jobsByUnresolvedKey: [String: [String]?]
    /// The ledger file's lines in order: one per real execution of a shell task (its tag).
    public var ledger: [String]
    /// For every node, the digests it reported, by applied index.
    public var digests: [String: [UInt64: String]]
    /// Which ledger tag each job and DAG task writes (job id or `dagID/taskID` → tag).
    public var tags: [String: String]
    /// The attempts of each `concurrency: forbid` cron job (`nil`: its runs could not be read).
    public var forbidRuns: [String: [RunObservation]?]
    /// The boot-time clock's reading (`/proc/uptime`) at the history's time zero: timed ledger
    /// lines (``LedgerLine``) minus this are history times (`nil`: not known, no cancel check).
    public var ledgerClockOrigin: Double?

    /// Observations.
    public init(jobs: [String: JobObservation?] = [:], dags: [String: DAGObservation?] = [:],
                jobsByUnresolvedKey: [String: [String]?] = [:], ledger: [String] = [], digests: [String: [UInt64: String]] = [:],
                tags: [String: String] = [:], forbidRuns: [String: [RunObservation]?] = [:], ledgerClockOrigin: Double? = nil) {
        self.jobs = jobs
        self.dags = dags
        self.jobsByUnresolvedKey = jobsByUnresolvedKey
        self.ledger = ledger
        self.digests = digests
        self.tags = tags
        self.forbidRuns = forbidRuns
        self.ledgerClockOrigin = ledgerClockOrigin
    }
}

/// A once job as read after healing: its fine state and the outcome of each attempt.
public struct JobObservation: Hashable, Sendable {
    /// `pending`, `queued`, `running`, `succeeded`, `dead`, `cancelled`.
    public var state: String
    /// One outcome per attempt (`succeeded`, `failed`, `timed_out`, `cancelled`, `lost`, or `running`).
    public var attempts: [String]

    /// An observation.
    public init(state: String, attempts: [String]) {
        self.state = state
        self.attempts = attempts
    }
}

/// A DAG run as read after healing.
public struct DAGObservation: Hashable, Sendable {
    /// `running`, `succeeded`, `failed` or `cancelled`.
    public var state: String
    /// Its tasks.
    public var tasks: [DAGTaskObservation]

    /// An observation.
    public init(state: String, tasks: [DAGTaskObservation]) {
        self.state = state
        self.tasks = tasks
    }
}

/// One task of a DAG run as read after healing (times are those of its latest attempt).
public struct DAGTaskObservation: Hashable, Sendable {
    /// The task id.
    public var id: String
    /// Its state.
    public var state: String
    /// The tasks it waits for.
    public var dependsOn: [String]
    /// Its latest attempt number (0: never started).
    public var attempt: Int
    /// When its latest attempt started (milliseconds since the epoch).
    public var startedAt: Int64?
    /// When its latest attempt finished.
    public var finishedAt: Int64?

    /// An observation.
    public init(id: String, state: String, dependsOn: [String], attempt: Int, startedAt: Int64?, finishedAt: Int64?) {
        self.id = id
        self.state = state
        self.dependsOn = dependsOn
        self.attempt = attempt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// One attempt of a job as `GET /api/jobs/{id}/runs` lists it (times in milliseconds since the epoch).
public struct RunObservation: Hashable, Sendable {
    /// The run it belongs to.
    public var runID: String
    /// Its attempt number within the run.
    public var attempt: Int
    /// `succeeded`, `failed`, `timed_out`, `cancelled`, `lost`; `nil` while it runs.
    public var outcome: String?
    /// When it started (`nil`: not started).
    public var startedAt: Int64?
    /// When it finished (`nil`: still running).
    public var finishedAt: Int64?

    /// An observation.
    public init(runID: String, attempt: Int, outcome: String?, startedAt: Int64?, finishedAt: Int64?) {
        self.runID = runID
        self.attempt = attempt
        self.outcome = outcome
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}
