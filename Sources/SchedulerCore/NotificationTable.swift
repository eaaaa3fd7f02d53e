/// The replicated notifications: pending ones waiting for the leader, and the most recent
/// settled ones (delivered or failed) kept for `GET /api/notifications`.
///
/// A pure value changed only by apply, so every replica holds the same table: a new leader finds
/// every notification the old one had not settled, with its `tries` and `nextAttemptAt`.
///
/// The leader asks for the due ones every round (``due(at:limit:)``, ``nextDueAt``), so they come
/// from an index ordered by (next attempt, key) — O(k log k) for k due, not a sort of every pending
/// one (docs/benchmarks.md, "Notifications"). The index is derived: rebuilt on restore, never in
/// the snapshot, and not part of equality.
public struct NotificationTable: Hashable, Sendable {
    /// One pending notification in the due index, at the next attempt it was indexed under;
    /// stale once the notification settled or got another time (lazy deletion).
    struct DueEntry: Comparable, Sendable {
        var at: Timestamp
        var key: NotificationKey
        static func < (a: DueEntry, b: DueEntry) -> Bool { (a.at, a.key) < (b.at, b.key) }
    }

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
    /// Pending keys by (next attempt, key); some entries stale (``isLive(_:)``).
    private var dueIndex = BinaryHeap<DueEntry>()
    /// Keys of ``settled``, so recording a replayed entry's records does not scan the list.
    private var settledKeys: Set<NotificationKey> = []

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
        dueIndex = BinaryHeap(pending.values.map { DueEntry(at: $0.nextAttemptAt, key: $0.key) })
        settledKeys = Set(settled.map(\.key))
    }

    /// Equal when the replicated parts are (the index is derived).
    public static func == (a: NotificationTable, b: NotificationTable) -> Bool {
        a.pending == b.pending && a.settled == b.settled && a.dropped == b.dropped && a.deliveredTotal == b.deliveredTotal
            && a.failedTotal == b.failedTotal
    }

    /// Hashes the replicated parts.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(pending)
        hasher.combine(settled)
        hasher.combine(dropped)
        hasher.combine(deliveredTotal)
        hasher.combine(failedTotal)
    }

    /// Whether `entry` still describes its notification (pending, at that time).
    private func isLive(_ entry: DueEntry) -> Bool { pending[entry.key]?.nextAttemptAt == entry.at }

    /// Indexes `record` under its next attempt; drops stale entries from the top, and compacts
    /// when stale ones outnumber the pending ones (the index stays within twice their count).
    private mutating func index(_ record: NotificationRecord) {
        dueIndex.push(DueEntry(at: record.nextAttemptAt, key: record.key))
        tidyIndex()
    }

    private mutating func tidyIndex() {
        while let top = dueIndex.first, !isLive(top) { dueIndex.popFirst() }
        if dueIndex.count > 64, dueIndex.count > 2 * pending.count {
            let pending = self.pending
            dueIndex.compact { pending[$0.key]?.nextAttemptAt == $0.at }
        }
    }

    /// Whether the table holds nothing and counted nothing: a state with such a table (and
    /// default settings) keeps its older snapshot version.
    public var isEmpty: Bool {
        pending.isEmpty && settled.isEmpty && dropped == 0 && deliveredTotal == 0 && failedTotal == 0
    }

    /// Whether some record tells of folded missed fires (``NotificationRecord/missedFires``): such a
    /// table needs snapshot version 10. A scan, as is writing the snapshot it decides.
    public var hasMissedFires: Bool {
        pending.values.contains { $0.missedFires != nil } || settled.contains { $0.missedFires != nil }
    }

    /// Records `records` as pending, in order, while fewer than `maxPending` wait; the rest are
    /// counted in ``dropped``. A key already present is left alone (a replayed entry adds nothing).
    public mutating func record(_ records: [NotificationRecord], maxPending: Int) {
        for record in records {
            guard pending[record.key] == nil, !settledKeys.contains(record.key) else { continue }
            guard pending.count < max(0, maxPending) else {
                dropped += 1
                continue
            }
            var fresh = record
            fresh.state = .pending
            pending[record.key] = fresh
            index(fresh)
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
            index(record)
            return true
        }
        pending[outcome.key] = nil
        settled.append(record)
        settledKeys.insert(record.key)
        if settled.count > Self.settledLimit {
            for old in settled.prefix(settled.count - Self.settledLimit) { settledKeys.remove(old.key) }
            settled.removeFirst(settled.count - Self.settledLimit)
        }
        tidyIndex()
        return true
    }

    /// Pending notifications due at `now` (``NotificationRecord/nextAttemptAt`` not after it),
    /// earliest first, at most `limit`: what the leader's duty round tries next.
    /// O(k log k) for k due (plus the stale entries met), however many wait.
    public func due(at now: Timestamp, limit: Int) -> [NotificationRecord] {
        dueIndex.smallest(max(0, limit), where: isLive, until: { $0.at > now }).compactMap { pending[$0.key] }
    }

    /// The earliest time a pending notification is due, or `nil` when none waits. O(1) but for
    /// stale entries at the top (an apply drops them, so normally none).
    public var nextDueAt: Timestamp? { dueIndex.smallest(1, where: isLive).first?.at }

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
