// Entries of the lazy-deletion heaps. Each is totally ordered (ties broken by a sequence number
// or an id), so pop order never depends on heap layout.

/// A queued run: higher priority first, then lower enqueue sequence (FIFO).
struct QueueEntry: Comparable, Sendable {
    var priority: Int
    var seq: UInt64
    var runID: RunID
    static func < (a: QueueEntry, b: QueueEntry) -> Bool {
        a.priority != b.priority ? a.priority > b.priority : a.seq < b.seq
    }
}

/// A pending run's due time.
struct DueEntry: Comparable, Sendable {
    var dueAt: Timestamp
    var seq: UInt64
    var runID: RunID
    static func < (a: DueEntry, b: DueEntry) -> Bool {
        a.dueAt != b.dueAt ? a.dueAt < b.dueAt : a.seq < b.seq
    }
}

/// A scheduled cron job's next fire time.
struct FireEntry: Comparable, Sendable {
    var fireAt: Timestamp
    var jobSeq: UInt64
    var jobID: JobID
    static func < (a: FireEntry, b: FireEntry) -> Bool {
        a.fireAt != b.fireAt ? a.fireAt < b.fireAt : a.jobSeq < b.jobSeq
    }
}

/// A running attempt's deadline.
struct DeadlineEntry: Comparable, Sendable {
    var deadline: Timestamp
    var runID: RunID
    var attempt: Int
    static func < (a: DeadlineEntry, b: DeadlineEntry) -> Bool {
        if a.deadline != b.deadline { return a.deadline < b.deadline }
        if a.runID != b.runID { return a.runID < b.runID }
        return a.attempt < b.attempt
    }
}

/// When a finished job or DAG run may be removed.
struct RetentionEntry: Comparable, Sendable {
    enum Kind: UInt8, Sendable { case job = 0, dag = 1 }
    var expiresAt: Timestamp
    var kind: Kind
    var seq: UInt64
    var id: String
    static func < (a: RetentionEntry, b: RetentionEntry) -> Bool {
        if a.expiresAt != b.expiresAt { return a.expiresAt < b.expiresAt }
        if a.kind != b.kind { return a.kind.rawValue < b.kind.rawValue }
        return a.seq < b.seq
    }
    static func == (a: RetentionEntry, b: RetentionEntry) -> Bool {
        a.expiresAt == b.expiresAt && a.kind == b.kind && a.seq == b.seq
    }
}

/// When an idempotency key expires.
struct IdempotencyEntry: Comparable, Sendable {
    var expiresAt: Timestamp
    var key: String
    static func < (a: IdempotencyEntry, b: IdempotencyEntry) -> Bool {
        a.expiresAt != b.expiresAt ? a.expiresAt < b.expiresAt : a.key < b.key
    }
}

extension SchedulerState {
    func isLive(_ e: QueueEntry) -> Bool {
        guard let i = runIndex[e.runID] else { return false }
        return runs[i].state == .queued && runs[i].stateSeq == e.seq
    }
    func isLive(_ e: DueEntry) -> Bool {
        guard let i = runIndex[e.runID] else { return false }
        return runs[i].state == .pending && runs[i].stateSeq == e.seq
    }
    func isLive(_ e: FireEntry) -> Bool {
        guard let i = jobIndex[e.jobID] else { return false }
        return jobs[i].cronState == .scheduled && jobs[i].nextFireAt == e.fireAt
    }
    func isLive(_ e: DeadlineEntry) -> Bool {
        guard let i = runIndex[e.runID] else { return false }
        return runs[i].state == .running && runs[i].attempt == e.attempt && runs[i].deadline == e.deadline
    }
}
