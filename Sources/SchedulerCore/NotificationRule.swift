/// What happened, as a notification's `type` names it: the scheduler's mirror of
/// `Notify.NotificationEventType` (SchedulerCore may not import Notify; the raw values are the
/// same names, so the shell maps one to the other by name).
public enum NotificationTrigger: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A run succeeded.
    case succeeded = 0
    /// An attempt failed and the run will be retried.
    case failed = 1
    /// A run failed its last attempt and landed in the dead-letter queue.
    case dead = 2
    /// An attempt ran past its timeout.
    case timedOut = 3
    /// An attempt's executor was lost.
    case lost = 4
    /// A DAG run succeeded.
    case dagSucceeded = 5
    /// A DAG run failed.
    case dagFailed = 6
    /// A cron fire was skipped by the misfire policy.
    case missed = 7
    /// A cron fire was skipped because the previous run was still going (`forbid`).
    case overlapSkipped = 8

    /// The name configs, requests and payloads use (`timed_out`, `dag_failed`, …).
    public var description: String {
        switch self {
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .dead: "dead"
        case .timedOut: "timed_out"
        case .lost: "lost"
        case .dagSucceeded: "dag_succeeded"
        case .dagFailed: "dag_failed"
        case .missed: "missed"
        case .overlapSkipped: "overlap_skipped"
        }
    }

    /// The trigger named `name`, or `nil`.
    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = found
    }

    /// Every name, comma-separated, for error messages.
    public static let allNames = allCases.map(\.description).joined(separator: ", ")
}

/// Where one notification goes.
public enum NotificationDestination: Hashable, Sendable, CustomStringConvertible {
    /// A signed JSON POST to this URL (checked against the egress rules when sent).
    case webhook(String)
    /// One email to these recipients (sorted, unique).
    case email([String])

    /// `webhook` or `email`: the `channel` label of the metrics.
    public var channel: String {
        switch self {
        case .webhook: "webhook"
        case .email: "email"
        }
    }

    /// `webhook https://…` or `email a@x, b@y`.
    public var description: String {
        switch self {
        case .webhook(let url): "webhook \(url)"
        case .email(let to): "email \(to.joined(separator: ", "))"
        }
    }
}

/// One entry of a job's or DAG's `notify`: which events go where. A rule names a webhook, some
/// email recipients, or both; `on` empty means the rule never fires.
public struct NotificationRule: Hashable, Sendable {
    /// The events this rule sends, in the order given, without repeats.
    public var on: [NotificationTrigger]
    /// The webhook URL, if any.
    public var webhook: String?
    /// The recipients, if any (sorted, unique).
    public var email: [String]

    /// A rule; `on` loses repeats and `email` is sorted here, so equal rules encode equally.
    public init(on: [NotificationTrigger], webhook: String? = nil, email: [String] = []) {
        var seen: Set<NotificationTrigger> = []
        self.on = on.filter { seen.insert($0).inserted }
        self.webhook = webhook
        self.email = Array(Set(email)).sorted()
    }

    /// Where this rule sends `trigger`, webhook first; empty when it does not ask for it.
    public func destinations(for trigger: NotificationTrigger) -> [NotificationDestination] {
        guard on.contains(trigger) else { return [] }
        var result: [NotificationDestination] = []
        if let webhook { result.append(.webhook(webhook)) }
        if !email.isEmpty { result.append(.email(email)) }
        return result
    }

    /// Most rules one job or DAG may carry.
    public static let maxRulesPerSpec = 10
    /// Most email recipients one rule may name.
    public static let maxRecipientsPerRule = 20
    /// Longest webhook URL, in bytes.
    public static let maxURLBytes = 2_048
}

/// The cluster-wide `[notify]` defaults and limits, stamped by the leader (apply never reads the
/// config): the rule every job and DAG has in addition to its own, and the pending cap.
public struct NotificationSettings: Hashable, Sendable {
    /// `[notify] on`, `webhook`, `email` as one rule; `on` empty (the default) sends nothing.
    public var defaults: NotificationRule
    /// `[notify] max_pending`.
    public var maxPending: Int

    /// Settings; by default nothing is sent and at most 10,000 notifications wait.
    public init(defaults: NotificationRule = NotificationRule(on: []), maxPending: Int = NotificationSettings.defaultMaxPending) {
        self.defaults = defaults
        self.maxPending = maxPending
    }

    /// 10,000, as `[notify] max_pending` defaults.
    public static let defaultMaxPending = 10_000
}
