// Removal of finished jobs and DAG runs after their retention.
//
// A finished once job (its run succeeded, was cancelled, or was purged from the DLQ), a
// cancelled cron job, and a finished DAG run are removed `retention` after they finished —
// but never while one of their runs is in the DLQ (dead runs wait for requeue or purge).
// Removal happens in `advance(to:)`, i.e. as a side effect of applying any command whose
// timestamp has passed the expiry, so every replica removes the same things at the same
// log position.
//
// One entry removes at most `maxRetentionRemovalsPerEntry` jobs and DAG runs (a DAG run with its
// task runs counts once): after a long time without a leader, or a burst of jobs finishing
// together, the backlog is removed over several entries instead of one apply that stalls every
// replica. Which ones go first is the retention heap's order (expiry, then creation), so every
// replica removes the same ones in the same entry. What is left is still due, so the leader's
// duty planner proposes a `tick` for it (`nextDueInstant` is in the past) until it is gone.

extension SchedulerState {
    /// The most jobs and DAG runs one applied entry removes by retention; the rest are removed
    /// by later entries (the leader proposes ticks while any are due).
    public static let maxRetentionRemovalsPerEntry = 10_000

    /// Whether jobs or DAG runs are past their retention and wait for a later entry to remove
    /// them (the previous entry reached ``maxRetentionRemovalsPerEntry``). Stale heap entries
    /// can make this `true` for a moment; a tick clears them.
    public var hasRetentionBacklog: Bool {
        guard let top = retentionHeap.first else { return false }
        return top.expiresAt <= now
    }

    mutating func scheduleRetention(job j: Int) {
        guard let finished = jobs[j].finishedAt, jobs[j].dlqEntries == 0 else { return }
        retentionHeap.push(RetentionEntry(expiresAt: finished.adding(milliseconds: jobs[j].spec.retentionMs),
                                          kind: .job, seq: jobs[j].createdSeq, id: jobs[j].id.rawValue))
    }

    mutating func scheduleRetention(dag d: Int) {
        guard let finished = dags[d].finishedAt, dags[d].dlqEntries == 0 else { return }
        noteFinishedDAGRun(d)
        retentionHeap.push(RetentionEntry(expiresAt: finished.adding(milliseconds: dags[d].retentionMs),
                                          kind: .dag, seq: dags[d].createdSeq, id: dags[d].id.rawValue))
    }

    func retentionExpiry(job j: Int) -> Timestamp? {
        guard let finished = jobs[j].finishedAt, jobs[j].dlqEntries == 0 else { return nil }
        if jobs[j].spec.kind == .cron, !jobs[j].activeRuns.isEmpty { return nil }
        return finished.adding(milliseconds: jobs[j].spec.retentionMs)
    }

    /// Removes DAG run `d` with its task runs.
    mutating func removeDAGRun(at d: Int) {
        let id = dags[d].id
        for runID in dags[d].taskRunIDs {
            if let i = runIndex[runID] { removeRun(at: i) }
        }
        if let d2 = dagIndex[id] { removeDAG(at: d2) }
    }

    func retentionExpiry(dag d: Int) -> Timestamp? {
        guard dags[d].state != .running, let finished = dags[d].finishedAt, dags[d].dlqEntries == 0 else { return nil }
        return finished.adding(milliseconds: dags[d].retentionMs)
    }

    /// Removes what `entry` names if it is still current; returns whether something was removed.
    @discardableResult
    mutating func expireRetained(_ entry: RetentionEntry, _ events: inout [SchedulerEvent]) -> Bool {
        switch entry.kind {
        case .job:
            let id = JobID(entry.id)
            // Only an entry matching the current expiry acts, so stale entries never reorder
            // removals (a state restored from a snapshot holds only current entries).
            guard let j = jobIndex[id], jobs[j].createdSeq == entry.seq,
                  retentionExpiry(job: j) == entry.expiresAt else { return false }
            if let runID = jobs[j].runID, let i = runIndex[runID] { removeRun(at: i) }
            if let j2 = jobIndex[id] { removeJob(at: j2) }
            events.append(.removed(id: entry.id))
            return true
        case .dag:
            let id = DAGRunID(entry.id)
            guard let d = dagIndex[id], dags[d].createdSeq == entry.seq,
                  retentionExpiry(dag: d) == entry.expiresAt else { return false }
            removeDAGRun(at: d)
            events.append(.removed(id: entry.id, isDAG: true))
            return true
        }
    }
}
