import SchedulerCore

/// One notification and where its delivery stands (`GET /api/notifications`, docs/notifications.md).
public struct NotificationResource: Codable, Hashable, Sendable {
    /// The stable id receivers deduplicate on (`ev-…`); with ``destination`` it names one notification.
    public var eventId: String
    /// Which of the event's destinations (0 first).
    public var destination: Int
    /// The event type (`dead`, `dag_failed`, …).
    public var type: String
    /// `webhook` or `email`.
    public var channel: String
    /// The webhook URL, or null for email.
    @ExplicitNull public var webhook: String?
    /// The recipients, or null for a webhook.
    @ExplicitNull public var email: [String]?
    /// `pending`, `delivered` or `failed`.
    public var state: String
    /// When the event happened (the scheduler's time).
    public var at: APITimestamp
    /// The job, run, DAG run and attempt it is about, null where they do not apply.
    @ExplicitNull public var jobId: String?
    /// The run.
    @ExplicitNull public var runId: String?
    /// The DAG run.
    @ExplicitNull public var dagId: String?
    /// The attempt.
    @ExplicitNull public var attempt: Int?
    /// Tries made so far.
    public var tries: Int
    /// When the next try is due; null once settled.
    @ExplicitNull public var nextAttemptAt: APITimestamp?
    /// The last try's error, if one failed.
    @ExplicitNull public var lastError: String?
    /// For a `missed` notification of the fires a late leader folded into one: how many; null otherwise.
    @ExplicitNull public var missedCount: Int?
    /// The first folded due time (with ``missedCount``).
    @ExplicitNull public var missedFrom: APITimestamp?
    /// The last folded due time (with ``missedCount``).
    @ExplicitNull public var missedUntil: APITimestamp?

    /// The resource of a replicated record.
    public init(_ record: NotificationRecord) {
        eventId = record.eventID
        destination = record.key.destination
        type = record.trigger.description
        channel = record.destination.channel
        switch record.destination {
        case .webhook(let url): webhook = url
        case .email(let to): email = to
        }
        state = record.state.description
        at = APITimestamp(record.at)
        jobId = record.jobID?.rawValue
        runId = record.runID?.rawValue
        dagId = record.dagRunID?.rawValue
        attempt = record.attempt
        tries = record.tries
        nextAttemptAt = record.state == .pending ? APITimestamp(record.nextAttemptAt) : nil
        lastError = record.lastError
        missedCount = record.missedFires?.count
        missedFrom = record.missedFires.map { APITimestamp($0.first) }
        missedUntil = record.missedFires.map { APITimestamp($0.last) }
    }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case eventId = "event_id"
        case destination, type, channel, webhook, email, state, at
        case jobId = "job_id"
        case runId = "run_id"
        case dagId = "dag_id"
        case attempt, tries
        case nextAttemptAt = "next_attempt_at"
        case lastError = "last_error"
        case missedCount = "missed_count"
        case missedFrom = "missed_from"
        case missedUntil = "missed_until"
    }
}

/// `GET /api/notifications`'s filter.
public struct NotificationQuery: Hashable, Sendable {
    /// `pending`, `delivered` or `failed`; nil: all three (pending first, then the settled ones, newest last).
    public var state: NotificationRecord.State?
    /// Only notifications about this job.
    public var jobID: String?
    /// At most this many items.
    public var limit: Int
    /// A query.
    public init(state: NotificationRecord.State? = nil, jobID: String? = nil, limit: Int) {
        self.state = state
        self.jobID = jobID
        self.limit = limit
    }

    /// The records of `table` this query selects.
    public func select(from table: NotificationTable) -> [NotificationRecord] {
        let states = state.map { [$0] } ?? NotificationRecord.State.allCases
        var selected: [NotificationRecord] = []
        for state in states {
            for record in table.records(in: state) where jobID == nil || record.jobID?.rawValue == jobID {
                guard selected.count < max(1, limit) else { return selected }
                selected.append(record)
            }
        }
        return selected
    }
}
