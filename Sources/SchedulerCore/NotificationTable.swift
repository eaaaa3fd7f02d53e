/// The replicated notifications: pending ones waiting for the leader, and the most recent
/// settled ones (delivered or failed) kept for `GET /api/notifications`.
///
/// A pure value changed only by apply, so every replica holds the same table: a new leader finds
/// every notification the old one had not settled, with its `tries` and `nextAttemptAt`.
public struct NotificationTable: Hashable, Sendable {
    /// Pending notifications by key.
    public private(set) var pending: [NotificationKey: NotificationRecord] = [:]
    /// Settled notifications, oldest first, at most ``settledLimit``.
    public private(set) var settled: [NotificationRecord] = []
    /// Notifications not recorded because ``NotificationSettings/maxPending`` were already waiting.
    public private(set) var dropped: UInt64 = 0
    /// Notifications delivered since the table began (all replicas count the same).
    public private(set) var deliveredTotal: UInt64 = 0
    /// Notifications failed since the table began.
    public private(set) var failedTotal: UInt64 = 0

    /// How many settled notifications are kept for reading.
    public static let settledLimit = 1_000

    /// An empty table.
    public init() {}

    /// A table restored from a snapshot (``NotificationCoding.swift`` checks the parts).
    init(pending: [NotificationKey: NotificationRecord], settled: [NotificationRecord], dropped: UInt64,
         deliveredTotal: UInt64, failedTotal: UInt64) {
        self.pending = pending
        self.settled = settled
        self.dropped = dropped
        self.deliveredTotal = deliveredTotal
        self.failedTotal = failedTotal
    }

    /// Whether the table holds nothing and counted nothing: a state with such a table (and
    /// default settings) keeps its older snapshot version.
    public var isEmpty: Bool {
        pending.isEmpty && settled.isEmpty && dropped == 0 && deliveredTotal == 0 && failedTotal == 0
    }

    /// Records `records` as pending, in order, while fewer than `maxPending` wait; the rest are
    /// counted in ``dropped``. A key already present is left alone (a replayed entry adds nothing).
    public mutating func record(_ records: [NotificationRecord], maxPending: Int) {
        for record in records {
            guard pending[record.key] == nil, !settled.contains(where: { $0.key == record.key }) else { continue }
            guard pending.count < max(0, maxPending) else {
                dropped += 1
                continue
            }
            var fresh = record
            fresh.state = .pending
            pending[record.key] = fresh
        }
    }

    /// Applies the leader's outcome. An outcome for a notification that is not pending (already
    /// settled by an earlier leader, or dropped) changes nothing and returns `false`.
    @discardableResult
    public mutating func apply(_ outcome: NotificationOutcome) -> Bool {
        guard var record = pending[outcome.key] else { return false }
        switch outcome {
        case .delivered(_, let tries):
            record.state = .delivered
            record.tries = max(record.tries, tries)
            deliveredTotal += 1
        case .failed(_, let tries, let error):
            record.state = .failed
            record.tries = max(record.tries, tries)
            record.lastError = error
            failedTotal += 1
        case .retry(_, let tries, let next, let error):
            record.tries = max(record.tries, tries)
            record.nextAttemptAt = next
            record.lastError = error
            pending[outcome.key] = record
            return true
        }
        pending[outcome.key] = nil
        settled.append(record)
        if settled.count > Self.settledLimit { settled.removeFirst(settled.count - Self.settledLimit) }
        return true
    }

    /// Pending notifications due at `now` (``NotificationRecord/nextAttemptAt`` not after it),
    /// earliest first, at most `limit`: what the leader's duty round tries next.
    public func due(at now: Timestamp, limit: Int) -> [NotificationRecord] {
        let due = pending.values.filter { $0.nextAttemptAt <= now }
            .sorted { ($0.nextAttemptAt, $0.key) < ($1.nextAttemptAt, $1.key) }
        return Array(due.prefix(max(0, limit)))
    }

    /// The earliest time a pending notification is due, or `nil` when none waits.
    public var nextDueAt: Timestamp? { pending.values.map(\.nextAttemptAt).min() }

    /// The notifications in `state`, in key order (pending) or settle order (delivered, failed).
    public func records(in state: NotificationRecord.State) -> [NotificationRecord] {
        switch state {
        case .pending: pending.values.sorted { $0.key < $1.key }
        case .delivered, .failed: settled.filter { $0.state == state }
        }
    }

    /// Every notification (pending first) about `job`.
    public func records(forJob job: JobID) -> [NotificationRecord] {
        records(in: .pending).filter { $0.jobID == job } + settled.filter { $0.jobID == job }
    }
}
