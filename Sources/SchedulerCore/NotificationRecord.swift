/// Which notification: the event (``NotificationRecord/eventID``) and which of its destinations.
/// Ordered by event, then destination, which is the order they were derived in.
public struct NotificationKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// `log index × 1,000,000 + position` (``ChangeEvent/id(index:position:)``): the same on every replica.
    public var event: UInt64
    /// The destination's position among the event's destinations.
    public var destination: Int

    /// A key.
    public init(event: UInt64, destination: Int) {
        self.event = event
        self.destination = destination
    }

    /// Event first, then destination.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.event, lhs.destination) < (rhs.event, rhs.destination)
    }

    /// `ev-0000000000000042/0`: the event id, a slash, the destination.
    public var description: String { "\(NotificationRecord.eventID(event))/\(destination)" }
}

/// One notification and where its delivery stands, replicated: derived from an applied entry,
/// then moved by the leader's outcome entries (``NotificationOutcome``).
public struct NotificationRecord: Hashable, Sendable {
    /// Where the delivery stands.
    public enum State: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// Waiting for its next try at ``NotificationRecord/nextAttemptAt``.
        case pending = 0
        /// A receiver accepted it.
        case delivered = 1
        /// Given up: a permanent refusal, or the retry budget spent.
        case failed = 2

        /// `pending`, `delivered`, `failed`.
        public var description: String {
            switch self {
            case .pending: "pending"
            case .delivered: "delivered"
            case .failed: "failed"
            }
        }
    }

    /// Which notification.
    public var key: NotificationKey
    /// What happened.
    public var trigger: NotificationTrigger
    /// Where it goes.
    public var destination: NotificationDestination
    /// The entry's stamp: when it happened.
    public var at: Timestamp
    /// The job, when there is one.
    public var jobID: JobID?
    /// The run, when there is one.
    public var runID: RunID?
    /// The DAG run, when there is one.
    public var dagRunID: DAGRunID?
    /// The run's attempt, for run events.
    public var attempt: Int?
    /// Where the delivery stands.
    public var state: State
    /// Tries made so far (recorded with each outcome).
    public var tries: Int
    /// When the next try is due (pending only): the event's time at first, then the leader's
    /// stamped backoff.
    public var nextAttemptAt: Timestamp
    /// The last try's error, if it failed.
    public var lastError: String?
    /// For a `missed` notification of the due times a late leader folded into one fire: how many
    /// and which (``MissedFires``); `nil` for every other notification, and for a `missed` fire
    /// the misfire policy skipped. Kept in snapshots from version 10.
    public var missedFires: MissedFires?

    /// A pending notification, due at once.
    public init(key: NotificationKey, trigger: NotificationTrigger, destination: NotificationDestination, at: Timestamp,
                jobID: JobID? = nil, runID: RunID? = nil, dagRunID: DAGRunID? = nil, attempt: Int? = nil) {
        self.key = key
        self.trigger = trigger
        self.destination = destination
        self.at = at
        self.jobID = jobID
        self.runID = runID
        self.dagRunID = dagRunID
        self.attempt = attempt
        self.state = .pending
        self.tries = 0
        self.nextAttemptAt = at
        self.lastError = nil
        self.missedFires = nil
    }

    /// The stable `event_id` receivers deduplicate on: `ev-` and the event number in at least 16 digits.
    public var eventID: String { Self.eventID(key.event) }

    /// `ev-0000000000000042`.
    public static func eventID(_ event: UInt64) -> String {
        let digits = String(event)
        return "ev-" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}

/// What the leader records about a delivery: an outcome, not each try.
public enum NotificationOutcome: Hashable, Sendable {
    /// A receiver accepted it after `tries` tries.
    case delivered(NotificationKey, tries: Int)
    /// Given up after `tries` tries, with the last error.
    case failed(NotificationKey, tries: Int, error: String)
    /// Tries failed so far (`tries`); the next is due at `nextAttemptAt` (from `RetrySchedule`,
    /// so a new leader continues the same schedule).
    case retry(NotificationKey, tries: Int, nextAttemptAt: Timestamp, error: String)

    /// The notification it is about.
    public var key: NotificationKey {
        switch self {
        case .delivered(let key, _), .failed(let key, _, _), .retry(let key, _, _, _): key
        }
    }
}
