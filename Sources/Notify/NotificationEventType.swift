/// What happened, as a notification's `type` names it (and `[notify] on` lists it).
public enum NotificationEventType: String, Sendable, Hashable, CaseIterable, Codable {
    /// A run succeeded.
    case succeeded
    /// An attempt failed and the run will be retried.
    case failed
    /// A run failed its last attempt and landed in the dead-letter queue.
    case dead
    /// An attempt ran past its timeout.
    case timedOut = "timed_out"
    /// An attempt's executor was lost (the lease expired).
    case lost
    /// A DAG run succeeded.
    case dagSucceeded = "dag_succeeded"
    /// A DAG run failed.
    case dagFailed = "dag_failed"
    /// A cron fire was skipped by the misfire policy.
    case missed
    /// A cron fire was skipped because the previous run was still going (`overlap = forbid`).
    case overlapSkipped = "overlap_skipped"

    /// Parses a `type` as configs and payloads write it, or `nil`.
    public init?(name: String) {
        self.init(rawValue: name)
    }

    /// Every name, as an error message lists them.
    public static let allNames: String = allCases.map(\.rawValue).joined(separator: ", ")
}
