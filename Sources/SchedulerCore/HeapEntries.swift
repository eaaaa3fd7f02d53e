// Entries of the lazy-deletion heaps. Each is ordered by its time/priority and a unique
// sequence number, so pop order never depends on heap layout.
//
// Run entries point at the run's *slot* in the run table plus the run's `stateSeq` at push time,
// so checking liveness costs an array read, not a hash lookup. Sequence numbers are unique per
// transition, so a (slot, seq) pair matches at most one run ever; when a removal swaps a run into
// another slot, its entries are pushed again for the new slot (`reindexMovedRun`) and the old
// ones die by mismatch.

/// A queued run: higher priority first, then lower enqueue sequence (FIFO).
struct QueueEntry: Comparable, Sendable {
    var priority: Int
    var seq: UInt64
    var slot: Int
    static func < (a: QueueEntry, b: QueueEntry) -> Bool {
        a.priority != b.priority ? a.priority > b.priority : a.seq < b.seq
    }
}

/// A pending run's due time.
struct DueEntry: Comparable, Sendable {
    var dueAt: Timestamp
    var seq: UInt64
    var slot: Int
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
    var seq: UInt64
    var slot: Int
    static func < (a: DeadlineEntry, b: DeadlineEntry) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.seq < b.seq
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
        e.slot < runs.count && runs[e.slot].stateSeq == e.seq && runs[e.slot].state == .queued
    }
    func isLive(_ e: DueEntry) -> Bool {
        e.slot < runs.count && runs[e.slot].stateSeq == e.seq && runs[e.slot].state == .pending
    }
    func isLive(_ e: FireEntry) -> Bool {
        guard let i = jobIndex[e.jobID] else { return false }
        return jobs[i].cronState == .scheduled && jobs[i].nextFireAt == e.fireAt
    }
    func isLive(_ e: DeadlineEntry) -> Bool {
        e.slot < runs.count && runs[e.slot].stateSeq == e.seq && runs[e.slot].state == .running
    }

    /// Pushes heap entries for a run that a removal moved into `slot`.
    mutating func reindexMovedRun(slot i: Int) {
        let run = runs[i]
        switch run.state {
        case .queued: readyQueue.push(QueueEntry(priority: run.priority, seq: run.stateSeq, slot: i))
        case .pending: if let dueAt = run.dueAt { dueHeap.push(DueEntry(dueAt: dueAt, seq: run.stateSeq, slot: i)) }
        case .running: if let deadline = run.deadline { deadlineHeap.push(DeadlineEntry(deadline: deadline, seq: run.stateSeq, slot: i)) }
        case .succeeded, .dead, .cancelled, .skipped: break
        }
    }
}
