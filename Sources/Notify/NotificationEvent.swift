/// One thing a notification tells: what happened, to which job, run or DAG, and when.
///
/// A plain value: the integration builds it from an applied log entry, so every replica derives
/// the same event (same ``eventID``) and a receiver can drop a duplicate delivery by that id.
/// Fields that do not apply to an event's ``type`` are `nil` (a DAG event has no attempt; a
/// `missed` cron fire has no run).
public struct NotificationEvent: Sendable, Hashable {
    /// Stable across retries, leaders and channels: receivers deduplicate on it.
    public var eventID: String
    /// What happened.
    public var type: NotificationEventType
    /// When it happened (the scheduler's replicated time), milliseconds since the Unix epoch.
    public var atUnixMilliseconds: Int64
    /// The job's id, if the event concerns a job.
    public var jobID: String?
    /// The job's name.
    public var jobName: String?
    /// The run's id.
    public var runID: String?
    /// The DAG's id, for DAG events and for runs that belong to a DAG run.
    public var dagID: String?
    /// The DAG's name.
    public var dagName: String?
    /// The DAG run's id.
    public var dagRunID: String?
    /// The attempt this event is about, counting from 1.
    public var attempt: Int?
    /// How many attempts the run may make in all.
    public var maxAttempts: Int?
    /// How the attempt or run ended as the scheduler words it (`succeeded`, `failed`, `timed_out`, …).
    public var outcome: String?
    /// The error message of the attempt, if it failed.
    public var error: String?
    /// The end of the attempt's output; the payload keeps at most ``NotificationPayload/outputTailLimit`` bytes of it.
    public var outputTail: String?
    /// A link to the job, run or DAG in the dashboard, if the cluster has one configured.
    public var dashboardURL: String?
    /// For a `missed` notification of the fires a late leader folded into one: how many were
    /// folded; `nil` for every other event (and for a fire the misfire policy skipped).
    public var missedCount: Int?
    /// The first folded due time, milliseconds since the Unix epoch (with ``missedCount``).
    public var missedFromUnixMilliseconds: Int64?
    /// The last folded due time, milliseconds since the Unix epoch (with ``missedCount``).
    public var missedUntilUnixMilliseconds: Int64?

    /// An event; everything but the id, type and time is optional.
    public init(eventID: String, type: NotificationEventType, atUnixMilliseconds: Int64,
                jobID: String? = nil, jobName: String? = nil, runID: String? = nil,
                dagID: String? = nil, dagName: String? = nil, dagRunID: String? = nil,
                attempt: Int? = nil, maxAttempts: Int? = nil, outcome: String? = nil,
                error: String? = nil, outputTail: String? = nil, dashboardURL: String? = nil,
                missedCount: Int? = nil, missedFromUnixMilliseconds: Int64? = nil, missedUntilUnixMilliseconds: Int64? = nil) {
        self.missedCount = missedCount
        self.missedFromUnixMilliseconds = missedFromUnixMilliseconds
        self.missedUntilUnixMilliseconds = missedUntilUnixMilliseconds
        self.eventID = eventID
        self.type = type
        self.atUnixMilliseconds = atUnixMilliseconds
        self.jobID = jobID
        self.jobName = jobName
        self.runID = runID
        self.dagID = dagID
        self.dagName = dagName
        self.dagRunID = dagRunID
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.outcome = outcome
        self.error = error
        self.outputTail = outputTail
        self.dashboardURL = dashboardURL
    }

    /// What the event is about, for subjects and logs: the job's name, else the DAG's, else an id.
    public var subjectName: String {
        jobName ?? dagName ?? jobID ?? dagID ?? runID ?? eventID
    }
}
