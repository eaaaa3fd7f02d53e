import HashTreeCollections

// Editing a job (`PATCH /api/jobs/{id}`) and trigger/requeue under an `Idempotency-Key`.

extension SchedulerState {
    /// Installs an edited spec. Refused when the job is gone (404), finished or cancelled (409),
    /// at another version than the edit was merged onto (412), or when the new spec changes
    /// what cannot change (the kind, DAG or not, a once job's `run_at`) or fails validation (422).
    ///
    /// Edits reach future work only: an attempt already running keeps the task it started with;
    /// later attempts (a retry included) and later runs use the new spec. A once job's run that
    /// has not started takes the new priority (a queued one moves to the back of its new
    /// priority); existing runs of a cron job keep theirs.
    mutating func editJob(_ e: EditJob, _ events: inout [SchedulerEvent]) {
        guard let j = jobIndex[e.jobID] else { return reject(.notFound, "job \(e.jobID) not found", &events) }
        let old = jobs[j].spec
        guard e.expectedVersion == jobs[j].version else {
            return reject(.preconditionFailed, "job \(e.jobID) is at version \(jobs[j].version), not \(e.expectedVersion); "
                          + "read it again (GET /api/jobs/\(e.jobID)) and send the edit with the new version", &events)
        }
        if old.kind == .once {
            guard let runID = jobs[j].runID, let i = runIndex[runID], !runs[i].state.isTerminal else {
                return reject(.conflict, "job \(e.jobID) has finished; an edit only reaches future runs and it has none", &events)
            }
        } else if jobs[j].cronState == .cancelled {
            return reject(.conflict, "job \(e.jobID) is cancelled; submit a new job instead", &events)
        }
        if let problem = Self.editProblem(old: old, new: e.spec, nextFireAt: e.nextFireAt, lastFire: jobs[j].lastFireScheduledAt) {
            return reject(.invalid, problem, &events)
        }
        jobs[j].spec = e.spec
        jobs[j].version = jobs[j].version.saturatingAdd(1)
        jobs[j].updatedAt = now
        if let next = e.nextFireAt {
            jobs[j].nextFireAt = next
            heapsToClean.insert(.fire)
            if jobs[j].cronState == .scheduled {
                fireHeap.push(FireEntry(fireAt: next, jobSeq: jobs[j].createdSeq, jobID: e.jobID))
            }
        }
        if old.kind == .once, old.priority != e.spec.priority, let runID = jobs[j].runID, let i = runIndex[runID] {
            reprioritize(i, to: e.spec.priority)
        }
        events.append(.jobChanged(e.jobID))
    }

    /// Why `new` may not replace `old`, or `nil`.
    static func editProblem(old: JobSpec, new: JobSpec, nextFireAt: Timestamp?, lastFire: Timestamp?) -> String? {
        if let problem = validationProblem(new) { return problem }
        if old.kind != new.kind { return "an edit cannot turn a \(old.kind) job into a \(new.kind) job; submit a new job" }
        if (old.dag == nil) != (new.dag == nil) { return "an edit cannot add or remove a job's DAG; submit a new job" }
        if old.kind == .once {
            if new.runAt != old.runAt { return "an edit cannot move a once job's run_at; trigger it or submit a new job" }
            if nextFireAt != nil { return "a once job has no next fire to set" }
            return nil
        }
        if new.schedule != old.schedule, nextFireAt == nil {
            return "a new schedule or timezone needs the leader's next fire time with it"
        }
        if let next = nextFireAt, let lastFire, next <= lastFire {
            return "the next fire \(next) must be after the latest fire \(lastFire)"
        }
        return nil
    }

    /// Gives a not-yet-started run a new priority, keeping the per-priority counts right; a
    /// queued run gets a fresh queue entry (the old one goes stale by its sequence number).
    mutating func reprioritize(_ i: Int, to priority: Int) {
        switch runs[i].state {
        case .pending:
            runs[i].priority = priority
        case .queued:
            setState(i, .pending)  // leaves the queued counts under the old priority
            runs[i].priority = priority
            enqueue(i)
        default:
            break
        }
    }

    /// Applies a trigger or requeue under an idempotency stamp: a repeat (same key, same digest)
    /// within the window is answered with ``SchedulerEvent/duplicateSubmit(key:existingID:)``
    /// naming the run the first one started or requeued, and changes nothing; the same key with
    /// another digest is a conflict. A refused command does not take the key.
    mutating func applyIdempotent(_ stamp: IdempotencyStamp, _ inner: Command, _ events: inout [SchedulerEvent]) {
        let target: RunID?
        switch inner {
        case .trigger(let t):
            if let j = jobIndex[t.jobID], jobs[j].spec.kind == .once { target = jobs[j].runID } else { target = t.runID }
        case .requeue(let id):
            target = id
        default:
            return reject(.invalid, "only a trigger or a requeue carries an Idempotency-Key this way", &events)
        }
        if idempotencyBlocks(stamp, &events) { return }
        let before = events.count
        applyOneUnwrapped(inner, &events)
        let refused = events[before...].contains { if case .rejected = $0 { true } else { false } }
        if !refused, let target { rememberIdempotency(stamp, targetID: target.rawValue) }
    }

    private mutating func applyOneUnwrapped(_ inner: Command, _ events: inout [SchedulerEvent]) {
        switch inner {
        case .trigger(let t): trigger(t, &events)
        case .requeue(let id): requeue(id, &events)
        default: break
        }
    }
}

extension SchedulerState {
    /// Whether `key` is remembered (within its window) from an earlier submit, trigger or requeue.
    public func hasIdempotencyKey(_ key: String) -> Bool { idempotency[key] != nil }
}
