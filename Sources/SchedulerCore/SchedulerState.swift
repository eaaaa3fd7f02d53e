import HashTreeCollections

/// Tunables that every replica must share (they are part of the snapshot).
public struct SchedulerConfig: Hashable, Sendable {
    /// Attempts kept per job in its history (older ones are dropped). Default 20.
    public var attemptHistoryLimit: Int
    /// How long an idempotency key is remembered, in milliseconds. Default 24 h.
    public var idempotencyWindowMs: Int64
    /// Deliberate bugs (simulator builds only; not part of the snapshot).
    public var mutations = MutationSwitch()
    /// A config.
    public init(attemptHistoryLimit: Int = 20, idempotencyWindowMs: Int64 = 24 * 3_600_000) {
        self.attemptHistoryLimit = max(1, attemptHistoryLimit)
        self.idempotencyWindowMs = idempotencyWindowMs
    }
}

/// Counters kept in the replicated state (so every replica and every snapshot agree).
public struct SchedulerCounters: Hashable, Sendable {
    /// Finish/expire reports for an attempt that was not current (fencing).
    public var staleReports: UInt64 = 0
    /// Commands refused with ``SchedulerEvent/rejected(_:)``.
    public var rejectedCommands: UInt64 = 0
    /// Submits answered from the idempotency table.
    public var duplicateSubmits: UInt64 = 0
    /// Fires applied twice (same job and scheduled time, or older): ignored.
    public var duplicateFires: UInt64 = 0
    /// Jobs submitted.
    public var jobsSubmitted: UInt64 = 0
    /// Commands applied (batches count their parts).
    public var commandsApplied: UInt64 = 0
}

/// An idempotency key's memory.
struct IdempotencyRecord: Hashable, Sendable {
    var targetID: String
    var bodyDigest: UInt64
    var expiresAt: Timestamp
}

/// Quorum's replicated scheduler: jobs, runs, the ready queue, cron state, DAG runs, the DLQ.
///
/// A value type driven only by ``apply(_:at:)``. Apply is deterministic: no clock, no
/// randomness, no dictionary iteration order decides anything (tables are slabs — chunked
/// arrays with a hash-trie index — whose order depends only on the command history).
///
/// A copy is O(1) and shares every table: readers take one as an isolated view
/// (`SchedulerStateMachine.read`) while apply goes on, and the next apply duplicates only what it
/// touches (``ChunkedArray``, `TreeDictionary`).
public struct SchedulerState: Sendable {
    /// Tunables.
    public internal(set) var config: SchedulerConfig
    /// The time of the last applied command. Never goes backwards.
    public internal(set) var now: Timestamp = .zero
    /// Counters.
    public internal(set) var counters = SchedulerCounters()
    /// The next value of the state-wide sequence (creation order, queue FIFO order).
    var sequence: UInt64 = 1

    // The tables: slabs (positions in slab order, which the snapshot writes) with an id index.
    // Both are persistent (ChunkedArray, TreeDictionary): a copy of the state — a reader's view,
    // the snapshot encoder's frozen state — costs O(1), and the applies that follow duplicate
    // only the chunks and index paths they touch (issue #12). The indexes are never iterated by
    // apply: a TreeDictionary's order is its hash order.
    var jobs = ChunkedArray<Job>()
    var jobIndex = TreeDictionary<JobID, Int>()
    var runs = ChunkedArray<Run>()
    var runIndex = TreeDictionary<RunID, Int>()
    var dags = ChunkedArray<DAGRun>()
    var dagIndex = TreeDictionary<DAGRunID, Int>()
    var idempotency = TreeDictionary<String, IdempotencyRecord>()
    /// The replicated notifications (docs/notifications.md): pending ones with their tries and
    /// next due time, the most recent settled ones, and the counts.
    public internal(set) var notifications = NotificationTable()
    /// The cluster's `[notify]` defaults and pending cap as the leader last stamped them
    /// (``Command/notificationSettings(_:)``): apply reads these, never a config file.
    public internal(set) var notificationSettings = NotificationSettings()
    /// The highest command format each member reported to a leader, by node id
    /// (``Command/recordMemberFormats(_:)``; docs/upgrades.md): a leader counts a member it has
    /// not heard from as this, and a node refuses to start a build below its own record.
    public internal(set) var memberFormats: [String: UInt32] = [:]

    /// Live counts, maintained on every run transition.
    public internal(set) var queuedCount = 0
    /// Runs in state `pending` (waiting for their due time or their DAG dependencies).
    public internal(set) var pendingCount = 0
    /// Runs in state `running`.
    public internal(set) var runningCount = 0
    /// Runs in the DLQ (dead, not purged).
    public internal(set) var dlqCount = 0
    /// Queued runs per priority; a priority with no queued run has no key (so the dictionary
    /// holds at most one entry per priority in use, and `quorum_queue_depth{priority}` costs
    /// O(priorities), not O(runs)). Never iterated by apply, so it decides nothing.
    public internal(set) var queuedCountByPriority: [Int: Int] = [:]
    /// The ids of the runs in state `running`, maintained with `runningCount`, so the leader's
    /// every dispatch round (``runningAttempts()``) costs O(running), not O(all runs kept).
    var runningRunIDs: Set<RunID> = []

    // Derived indexes (lazy-deletion heaps), rebuilt from the tables on restore.
    /// Set when an operation may have made a heap's top entry stale (see `cleanHeapTops`).
    var heapsToClean: HeapSet = []
    var readyQueue = BinaryHeap<QueueEntry>()
    var dueHeap = BinaryHeap<DueEntry>()
    var fireHeap = BinaryHeap<FireEntry>()
    var deadlineHeap = BinaryHeap<DeadlineEntry>()
    var retentionHeap = BinaryHeap<RetentionEntry>()
    /// Retention removals the entry being applied may still make (reset to
    /// ``maxRetentionRemovalsPerEntry`` at the start of each ``apply(_:at:into:)``; what is left
    /// after an entry means nothing and is not in the snapshot).
    var retentionRemovalsLeft = 0
    /// Per job with a history limit: its DAG runs that finished outside the DLQ (may hold stale
    /// ids; filtered before use). Derived, rebuilt on restore; only read by key.
    var finishedDAGRuns = TreeDictionary<JobID, [DAGRunID]>()
    /// Jobs whose finished DAG runs may be over their history limit, in the order they went over
    /// (trimmed at the end of the entry by `trimHistories`).
    var historyToTrim: [JobID] = []
    var idempotencyHeap = BinaryHeap<IdempotencyEntry>()

    // Read indexes for the API's lists (SchedulerState+ListIndexes.swift): derived, rebuilt on
    // restore, not in the snapshot; the dictionary is only read by key.
    /// Every job, by creation sequence.
    var jobOrder = SeqOrderedIndex<JobID>()
    /// The jobs carrying each `key:value` label, by creation sequence.
    var jobsByLabel = TreeDictionary<KeyValue, SeqOrderedIndex<JobID>>()
    /// Labels whose lists lost a job in the entry being applied (checked for compaction at its end).
    var labelsToCompact: [KeyValue] = []
    /// Every DAG run, by creation sequence.
    var dagOrder = SeqOrderedIndex<DAGRunID>()
    /// The runs in the DLQ, by the sequence number they died under.
    var dlqOrder = SeqOrderedIndex<RunID>()

    /// An empty scheduler.
    public init(config: SchedulerConfig = SchedulerConfig()) {
        self.config = config
    }

    /// Number of jobs held.
    public var jobCount: Int { jobs.count }
    /// Number of runs held.
    public var runCount: Int { runs.count }
    /// Number of DAG runs held.
    public var dagCount: Int { dags.count }
    /// Runs not yet finished — pending, queued or running: what `[quotas] max_pending_jobs`
    /// bounds. O(1): the three counts are maintained on every run transition.
    public var unfinishedRunCount: Int { pendingCount + queuedCount + runningCount }

    // MARK: Apply

    /// Applies one command stamped `at` (the proposer's clock) and returns what changed.
    ///
    /// A `.batch` is all or none for its submits: they are checked first (see
    /// ``batchRefusal(_:)``) and if any would be refused, nothing of the batch applies and the
    /// one rejection names the offending command's `batchIndex`. Other commands in a batch
    /// apply one by one (a stale assignment must not block the rest).
    ///
    /// Time never goes backwards: the command applies at `max(at, now)`. Before the command
    /// itself, pending runs whose due time has come are queued and expired retention and
    /// idempotency entries are removed (time only comes from commands, so this is deterministic).
    public mutating func apply(_ command: Command, at: Timestamp) -> [SchedulerEvent] {
        var events: [SchedulerEvent] = []
        apply(command, at: at, into: &events)
        return events
    }

    /// Applies a stamped command.
    public mutating func apply(_ stamped: StampedCommand) -> [SchedulerEvent] {
        apply(stamped.command, at: stamped.at)
    }

    /// Applies a command, appending events to `events` (avoids an allocation per command).
    public mutating func apply(_ command: Command, at: Timestamp, into events: inout [SchedulerEvent]) {
        retentionRemovalsLeft = Self.maxRetentionRemovalsPerEntry
        advance(to: at, events: &events)
        switch command {
        case .batch(let commands):
            if let refusal = batchRefusal(commands) {
                counters.rejectedCommands += 1
                events.append(.rejected(refusal))
                break
            }
            for inner in commands {
                if case .batch = inner {
                    reject(.invalid, "a batch may not contain a batch", &events)
                } else {
                    advance(to: at, events: &events)
                    applyOne(inner, events: &events)
                }
            }
        default:
            applyOne(command, events: &events)
        }
        trimHistories(&events)
        cleanHeapTops()
        compactListIndexes()
    }

    private mutating func applyOne(_ command: Command, events: inout [SchedulerEvent]) {
        counters.commandsApplied += 1
        switch command {
        case .submitJob(let s): submitJob(s, &events)
        case .submitDAG(let s): submitDAG(s, &events)
        case .fireCron(let f): fireCron(f, &events)
        case .assignAttempt(let a): assign(a, &events)
        case .finishAttempt(let f): finish(f, &events)
        case .expireAttempt(let e): expire(e, &events)
        case .cancelJob(let id): cancelJob(id, &events)
        case .cancelDAG(let id): cancelDAG(id, &events)
        case .pause(let id): pause(id, &events)
        case .resume(let id): resume(id, &events)
        case .trigger(let t): trigger(t, &events)
        case .requeue(let id): requeue(id, &events)
        case .purge(let id): purge(id, &events)
        case .tick: break
        case .batch: reject(.invalid, "a batch may not contain a batch", &events)
        case .editJob(let e): editJob(e, &events)
        case .idempotent(let stamp, let inner): applyIdempotent(stamp, inner, &events)
        case .notificationSettings(let settings): applyNotificationSettings(settings, &events)
        case .notificationOutcomes(let outcomes): applyNotificationOutcomes(outcomes)
        case .recordMemberFormats(let records): recordMemberFormats(records, &events)
        }
    }

    mutating func reject(_ code: CommandRejection.Code, _ message: String, _ events: inout [SchedulerEvent]) {
        counters.rejectedCommands += 1
        events.append(.rejected(CommandRejection(code, message)))
    }

    mutating func nextSequence() -> UInt64 {
        defer { sequence += 1 }
        return sequence
    }

    // MARK: Time

    /// Moves the clock to `max(now, at)` and does what became due: pending runs are queued,
    /// retained-out jobs and DAG runs are removed (at most ``maxRetentionRemovalsPerEntry`` per
    /// entry), idempotency keys expire.
    mutating func advance(to at: Timestamp, events: inout [SchedulerEvent]) {
        if at > now { now = at }
        while let top = dueHeap.first, top.dueAt <= now {
            dueHeap.popFirst()
            if isLive(top) {
                let i = top.slot
                enqueue(i)
                events.append(.runChanged(runs[i].id, .queued, attempt: runs[i].attempt))
            }
        }
        // Bounded per entry (see `maxRetentionRemovalsPerEntry`); what is left stays due at the
        // heap's top, so `nextDueInstant` is in the past and the leader proposes a tick.
        while retentionRemovalsLeft > 0, let top = retentionHeap.first, top.expiresAt <= now {
            retentionHeap.popFirst()
            if expireRetained(top, &events) { retentionRemovalsLeft -= 1 }
        }
        while let top = idempotencyHeap.first, top.expiresAt <= now {
            idempotencyHeap.popFirst()
            if let record = idempotency[top.key], record.expiresAt == top.expiresAt {
                idempotency[top.key] = nil
            }
        }
    }

    /// Pops stale entries off every heap's top so that `first` is live for the queries, and
    /// compacts the ready queue when more than half of it is stale.
    mutating func cleanHeapTops() {
        guard !heapsToClean.isEmpty else { return }
        if heapsToClean.contains(.ready) { while let top = readyQueue.first, !isLive(top) { readyQueue.popFirst() } }
        if heapsToClean.contains(.due) { while let top = dueHeap.first, !isLive(top) { dueHeap.popFirst() } }
        if heapsToClean.contains(.fire) { while let top = fireHeap.first, !isLive(top) { fireHeap.popFirst() } }
        if heapsToClean.contains(.deadline) { while let top = deadlineHeap.first, !isLive(top) { deadlineHeap.popFirst() } }
        let compactReady = heapsToClean.contains(.ready)
        let compactOthers = heapsToClean.contains(.due) || heapsToClean.contains(.deadline)
        heapsToClean = []
        // Stale entries below the top of the due and deadline heaps (a far-future run that was
        // cancelled) would otherwise stay until their time passes: bound them by the run count.
        if compactOthers && dueHeap.count > 1024 && dueHeap.count > 2 * runs.count {
            let runs = self.runs
            dueHeap.compact { e in e.slot < runs.count && runs[e.slot].stateSeq == e.seq && runs[e.slot].state == .pending }
        }
        if compactOthers && deadlineHeap.count > 1024 && deadlineHeap.count > 2 * runs.count {
            let runs = self.runs
            deadlineHeap.compact { e in e.slot < runs.count && runs[e.slot].stateSeq == e.seq && runs[e.slot].state == .running }
        }
        if compactReady && readyQueue.count > 1024 && readyQueue.count > 2 * queuedCount {
            let runs = self.runs
            readyQueue.compact { entry in
                entry.slot < runs.count && runs[entry.slot].stateSeq == entry.seq && runs[entry.slot].state == .queued
            }
        }
    }

    // MARK: Slabs

    mutating func insertRun(_ run: Run) {
        let previous = runIndex.updateValue(runs.count, forKey: run.id)
        precondition(previous == nil, "run \(run.id) inserted twice")
        runs.append(run)
        noteEntered(run.state, run: run.id, purged: run.purged, priority: run.priority)
    }

    /// Removes a run by swapping the last run into its slot (O(1), deterministic).
    mutating func removeRun(at i: Int) {
        let run = runs[i]
        noteLeft(run.state, run: run.id, purged: run.purged, priority: run.priority)
        runIndex[run.id] = nil
        let last = runs.count - 1
        if i != last {
            runs[i] = runs[last]
            runIndex[runs[i].id] = i
        }
        runs.removeLast()
        if i != last { reindexMovedRun(slot: i) }
    }

    mutating func removeJob(at i: Int) {
        heapsToClean.insert(.fire)
        unindexJob(at: i)
        finishedDAGRuns[jobs[i].id] = nil
        jobIndex[jobs[i].id] = nil
        let last = jobs.count - 1
        if i != last {
            jobs[i] = jobs[last]
            jobIndex[jobs[i].id] = i
        }
        jobs.removeLast()
    }

    mutating func removeDAG(at i: Int) {
        dagOrder.noteRemoved()
        dagIndex[dags[i].id] = nil
        let last = dags.count - 1
        if i != last {
            dags[i] = dags[last]
            dagIndex[dags[i].id] = i
        }
        dags.removeLast()
    }

    private mutating func noteLeft(_ state: RunState, run id: RunID, purged: Bool, priority: Int) {
        switch state {
        case .queued:
            queuedCount -= 1
            noteQueued(priority: priority, delta: -1)
            heapsToClean.insert(.ready)
        case .running:
            runningCount -= 1
            runningRunIDs.remove(id)
            heapsToClean.insert(.deadline)
        case .pending:
            pendingCount -= 1
            heapsToClean.insert(.due)
        case .dead:
            if !purged {
                dlqCount -= 1
                dlqOrder.noteRemoved()
            }
        default: break
        }
    }

    private mutating func noteEntered(_ state: RunState, run id: RunID, purged: Bool, priority: Int) {
        switch state {
        case .queued:
            queuedCount += 1
            noteQueued(priority: priority, delta: 1)
        case .running:
            runningCount += 1
            runningRunIDs.insert(id)
        case .pending: pendingCount += 1
        case .dead: if !purged { dlqCount += 1 }
        default: break
        }
    }

    /// Moves the queued count of `priority` by `delta`, dropping the key at zero.
    mutating func noteQueued(priority: Int, delta: Int) {
        let count = queuedCountByPriority[priority, default: 0] + delta
        precondition(count >= 0, "queued count of priority \(priority) would go to \(count)")
        queuedCountByPriority[priority] = count == 0 ? nil : count
    }

    /// Changes a run's state, keeping the live counts right.
    mutating func setState(_ i: Int, _ state: RunState) {
        noteLeft(runs[i].state, run: runs[i].id, purged: runs[i].purged, priority: runs[i].priority)
        runs[i].state = state
        noteEntered(state, run: runs[i].id, purged: runs[i].purged, priority: runs[i].priority)
    }

    /// Puts a run in the ready queue (FIFO within its priority by a fresh sequence number).
    mutating func enqueue(_ i: Int) {
        setState(i, .queued)
        runs[i].dueAt = nil
        let seq = nextSequence()
        runs[i].stateSeq = seq
        readyQueue.push(QueueEntry(priority: runs[i].priority, seq: seq, slot: i))
    }

    /// Makes a run pending until `dueAt` (queued at once if already due); `nil` waits for DAG
    /// dependencies.
    mutating func makePending(_ i: Int, dueAt: Timestamp?) {
        if let dueAt, dueAt <= now {
            enqueue(i)
            return
        }
        setState(i, .pending)
        runs[i].dueAt = dueAt
        let seq = nextSequence()
        runs[i].stateSeq = seq
        if let dueAt { dueHeap.push(DueEntry(dueAt: dueAt, seq: seq, slot: i)) }
    }
}

/// Which lazy-deletion heaps may have a stale top.
struct HeapSet: OptionSet, Sendable {
    let rawValue: UInt8
    static let ready = HeapSet(rawValue: 1)
    static let due = HeapSet(rawValue: 2)
    static let fire = HeapSet(rawValue: 4)
    static let deadline = HeapSet(rawValue: 8)
}
