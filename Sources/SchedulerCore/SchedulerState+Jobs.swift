import HashTreeCollections

// Submitting, cancelling and controlling jobs; cron fires and their policies.

extension SchedulerState {
    /// Checks an idempotency stamp. Returns `true` when the submit must not proceed (a duplicate
    /// was answered or a conflict rejected).
    mutating func idempotencyBlocks(_ stamp: IdempotencyStamp?, _ events: inout [SchedulerEvent]) -> Bool {
        guard let stamp, let record = idempotency[stamp.key] else { return false }
        if record.bodyDigest == stamp.bodyDigest {
            counters.duplicateSubmits += 1
            events.append(.duplicateSubmit(key: stamp.key, existingID: record.targetID))
        } else {
            reject(.conflict, "Idempotency-Key '\(stamp.key)' was already used with a different request body; use a new key", &events)
        }
        return true
    }

    mutating func rememberIdempotency(_ stamp: IdempotencyStamp?, targetID: String) {
        guard let stamp else { return }
        let expires = now.adding(milliseconds: config.idempotencyWindowMs)
        idempotency[stamp.key] = IdempotencyRecord(targetID: targetID, bodyDigest: stamp.bodyDigest, expiresAt: expires)
        idempotencyHeap.push(IdempotencyEntry(expiresAt: expires, key: stamp.key))
    }

    /// Validates the parts of a job spec the API may not have checked. `nil` when valid.
    static func validationProblem(_ spec: JobSpec) -> String? {
        if spec.retry.maxAttempts < 1 { return "retry.max_attempts must be at least 1, got \(spec.retry.maxAttempts)" }
        if spec.retry.initialBackoffMs < 0 { return "retry.initial_backoff_ms must not be negative" }
        if spec.retry.maxBackoffMs < 0 { return "retry.max_backoff_ms must not be negative" }
        if !(spec.retry.multiplier >= 1.0) || !spec.retry.multiplier.isFinite {
            return "retry.multiplier must be a finite number ≥ 1, got \(spec.retry.multiplier)"
        }
        if spec.timeoutMs <= 0 { return "timeout_seconds must be positive" }
        if spec.startingDeadlineMs < 0 { return "starting_deadline_seconds must not be negative" }
        if spec.retentionMs < 0 { return "retention_seconds must not be negative" }
        if let limit = spec.historyLimit, !JobSpec.historyLimits.contains(limit) {
            return "history_limit must be between \(JobSpec.historyLimits.lowerBound) and \(JobSpec.historyLimits.upperBound), got \(limit)"
        }
        if spec.kind == .once && spec.dag != nil { return "a DAG job needs a schedule (submit a one-off DAG to /api/dags)" }
        return nil
    }

    mutating func submitJob(_ s: SubmitJob, _ events: inout [SchedulerEvent]) {
        if idempotencyBlocks(s.idempotency, &events) { return }
        if let problem = Self.validationProblem(s.spec) { return reject(.invalid, problem, &events) }
        let isOnce = s.spec.kind == .once
        if isOnce, runIndex[s.runID] != nil {
            return reject(.conflict, "run id \(s.runID) already exists", &events)
        }
        // One hash lookup both checks and claims the id.
        if let existing = jobIndex.updateValue(jobs.count, forKey: s.jobID) {
            jobIndex[s.jobID] = existing
            return reject(.conflict, "job id \(s.jobID) already exists", &events)
        }
        let seq = nextSequence()
        let firstFire = isOnce ? nil : s.firstFireAt
        // Jobs submitted alike (a batch, a client's stream) share one settings object (issue #18).
        var spec = s.spec
        for k in stride(from: jobs.count - 1, through: max(0, jobs.count - JobSpec.settingsSharingWindow), by: -1) {
            if let shared = spec.sharingSettings(with: jobs[k].spec) {
                spec = shared
                break
            }
        }
        jobs.append(Job(id: s.jobID, spec: spec, createdAt: now, createdSeq: seq, updatedAt: now,
                        runID: isOnce ? s.runID : nil, cronState: .scheduled, nextFireAt: firstFire,
                        lastFireScheduledAt: nil, lastRun: nil, activeRuns: [], missedFires: 0,
                        forbiddenFires: 0, history: [], finishedAt: nil, dlqEntries: 0))
        indexJob(at: jobs.count - 1)
        if let firstFire {
            fireHeap.push(FireEntry(fireAt: firstFire, jobSeq: seq, jobID: s.jobID))
        }
        counters.jobsSubmitted += 1
        rememberIdempotency(s.idempotency, targetID: s.jobID.rawValue)
        events.append(.jobSubmitted(s.jobID))
        if isOnce {
            let due = s.spec.runAt ?? now
            createRun(id: s.runID, jobID: s.jobID, dagTask: nil, priority: s.spec.priority,
                      scheduledAt: due, dueAt: due, &events)
        }
    }

    /// Creates a run, pending until `dueAt` (queued now if due), or waiting for DAG
    /// dependencies when `dueAt` is `nil`.
    mutating func createRun(id: RunID, jobID: JobID?, dagTask: DAGTaskRef?, priority: Int,
                            scheduledAt: Timestamp, dueAt: Timestamp?, _ events: inout [SchedulerEvent]) {
        let run = Run(id: id, jobID: jobID, dagTask: dagTask, state: .pending, priority: priority,
                      scheduledAt: scheduledAt, dueAt: nil, attempt: 0, budgetBase: 0, stateSeq: 0,
                      executor: nil, deadline: nil, startedAt: nil, finishedAt: nil, lastOutcome: nil,
                      lastError: nil, deadAt: nil, purged: false, createdSeq: nextSequence())
        insertRun(run)
        let i = runs.count - 1
        makePending(i, dueAt: dueAt)
        events.append(.runChanged(id, runs[i].state, attempt: 0))
    }

    mutating func cancelJob(_ id: JobID, _ events: inout [SchedulerEvent]) {
        guard let j = jobIndex[id] else { return reject(.notFound, "job \(id) not found", &events) }
        if jobs[j].spec.kind == .once {
            guard let runID = jobs[j].runID, let i = runIndex[runID], !runs[i].state.isTerminal else {
                return reject(.conflict, "job \(id) has already finished; nothing to cancel", &events)
            }
            cancelRun(i, propagate: true, &events)
            return
        }
        guard jobs[j].cronState != .cancelled else {
            return reject(.conflict, "job \(id) is already cancelled", &events)
        }
        jobs[j].cronState = .cancelled
        jobs[j].nextFireAt = nil
        heapsToClean.insert(.fire)
        jobs[j].finishedAt = now
        jobs[j].updatedAt = now
        cancelActiveRuns(ofJob: id, &events)
        if let j2 = jobIndex[id] { scheduleRetention(job: j2) }
        events.append(.jobChanged(id))
    }

    /// Cancels every active run (or DAG run) of a cron job.
    mutating func cancelActiveRuns(ofJob id: JobID, _ events: inout [SchedulerEvent]) {
        guard let j = jobIndex[id] else { return }
        let active = jobs[j].activeRuns
        for runID in active {
            if jobs[j].spec.dag != nil {
                let dagID = DAGRunID(runID.rawValue)
                if let d = dagIndex[dagID], dags[d].state == .running { cancelDAGRun(d, &events) }
            } else if let i = runIndex[runID], !runs[i].state.isTerminal {
                cancelRun(i, propagate: true, &events)
            }
        }
    }

    mutating func pause(_ id: JobID, _ events: inout [SchedulerEvent]) {
        guard let j = jobIndex[id] else { return reject(.notFound, "job \(id) not found", &events) }
        guard jobs[j].spec.kind == .cron else { return reject(.invalid, "job \(id) is a once job; only cron jobs can be paused", &events) }
        guard jobs[j].cronState == .scheduled else {
            return reject(.conflict, "job \(id) is \(jobs[j].cronState), not scheduled", &events)
        }
        jobs[j].cronState = .paused
        heapsToClean.insert(.fire)
        jobs[j].updatedAt = now
        events.append(.jobChanged(id))
    }

    mutating func resume(_ id: JobID, _ events: inout [SchedulerEvent]) {
        guard let j = jobIndex[id] else { return reject(.notFound, "job \(id) not found", &events) }
        guard jobs[j].spec.kind == .cron else { return reject(.invalid, "job \(id) is a once job; only cron jobs can be resumed", &events) }
        guard jobs[j].cronState == .paused else {
            return reject(.conflict, "job \(id) is \(jobs[j].cronState), not paused", &events)
        }
        jobs[j].cronState = .scheduled
        jobs[j].updatedAt = now
        if let next = jobs[j].nextFireAt {
            // Fires missed while paused come due at once; the leader applies the misfire policy.
            fireHeap.push(FireEntry(fireAt: next, jobSeq: jobs[j].createdSeq, jobID: id))
        }
        events.append(.jobChanged(id))
    }

    mutating func trigger(_ t: TriggerJob, _ events: inout [SchedulerEvent]) {
        guard let j = jobIndex[t.jobID] else { return reject(.notFound, "job \(t.jobID) not found", &events) }
        if jobs[j].spec.kind == .once {
            guard let runID = jobs[j].runID, let i = runIndex[runID], runs[i].state == .pending else {
                return reject(.conflict, "job \(t.jobID) is not pending; only a waiting once job can be triggered", &events)
            }
            enqueue(i)
            events.append(.runChanged(runID, .queued, attempt: runs[i].attempt))
            return
        }
        guard jobs[j].cronState != .cancelled else {
            return reject(.conflict, "job \(t.jobID) is cancelled", &events)
        }
        guard !cronRunIDTaken(t.runID, job: j, style: t.taskRunIDStyle) else { return reject(.conflict, "run id \(t.runID) already exists", &events) }
        if !jobs[j].activeRuns.isEmpty {
            switch jobs[j].spec.concurrency {
            case .forbid:
                return reject(.conflict, "job \(t.jobID) has an active run and concurrency is forbid; wait for it or cancel it", &events)
            case .replace:
                cancelActiveRuns(ofJob: t.jobID, &events)
            case .allow:
                break
            }
        }
        startCronRun(jobID: t.jobID, runID: t.runID, scheduledAt: now, taskRunIDStyle: t.taskRunIDStyle, &events)
    }

    func idTaken(_ runID: RunID) -> Bool {
        runIndex[runID] != nil || dagIndex[DAGRunID(runID.rawValue)] != nil
    }

    /// Whether a new cron run (or DAG run, with its task runs) would reuse an id.
    func cronRunIDTaken(_ runID: RunID, job j: Int, style: TaskRunIDStyle) -> Bool {
        if let dag = jobs[j].spec.dag { return dagIDsTaken(DAGRunID(runID.rawValue), spec: dag, style: style) }
        return idTaken(runID)
    }

    /// Starts a cron job's run (or DAG run) for `scheduledAt`.
    mutating func startCronRun(jobID: JobID, runID: RunID, scheduledAt: Timestamp, taskRunIDStyle: TaskRunIDStyle,
                               _ events: inout [SchedulerEvent]) {
        guard let j = jobIndex[jobID] else { return }
        let spec = jobs[j].spec
        jobs[j].activeRuns.append(runID)
        jobs[j].lastRun = RunSummary(runID: runID, scheduledAt: scheduledAt, state: .queued)
        jobs[j].updatedAt = now
        if let dag = spec.dag {
            createDAGRun(id: DAGRunID(runID.rawValue), spec: dag, jobID: jobID,
                         retentionMs: spec.retentionMs, taskRunIDStyle: taskRunIDStyle, &events)
        } else {
            createRun(id: runID, jobID: jobID, dagTask: nil, priority: spec.priority,
                      scheduledAt: scheduledAt, dueAt: now, &events)
        }
        events.append(.jobChanged(jobID))
    }

    /// Applies a cron fire: at most once per (job, scheduled time); then the misfire and
    /// concurrency policies decide whether a run starts.
    mutating func fireCron(_ f: FireCron, _ events: inout [SchedulerEvent]) {
        guard let j = jobIndex[f.jobID] else { return reject(.notFound, "job \(f.jobID) not found", &events) }
        guard jobs[j].spec.kind == .cron else { return reject(.invalid, "job \(f.jobID) is not a cron job", &events) }
        if let next = f.nextFireAt, next <= f.scheduledAt {
            // A next fire not after this one would make the job fire the same time forever.
            return reject(.invalid, "fire of job \(f.jobID): next fire \(next) must be after the scheduled time \(f.scheduledAt)", &events)
        }
        if let last = jobs[j].lastFireScheduledAt, f.scheduledAt <= last {
            counters.duplicateFires += 1
            return
        }
        switch jobs[j].cronState {
        case .cancelled: return reject(.conflict, "job \(f.jobID) is cancelled; it does not fire", &events)
        case .paused: return reject(.conflict, "job \(f.jobID) is paused; resume it first", &events)
        case .scheduled: break
        }
        guard !cronRunIDTaken(f.runID, job: j, style: f.taskRunIDStyle) else { return reject(.conflict, "run id \(f.runID) already exists", &events) }
        let spec = jobs[j].spec
        jobs[j].lastFireScheduledAt = f.scheduledAt
        jobs[j].nextFireAt = f.nextFireAt
        heapsToClean.insert(.fire)
        jobs[j].missedFires = jobs[j].missedFires.saturatingAdd(max(0, f.missedBefore))
        if let range = f.missedRange, f.missedBefore > 0 {
            events.append(.firesFolded(f.jobID, MissedFires(count: f.missedBefore, first: range.first, last: range.last)))
        }
        jobs[j].updatedAt = now
        if let next = f.nextFireAt {
            fireHeap.push(FireEntry(fireAt: next, jobSeq: jobs[j].createdSeq, jobID: f.jobID))
        }
        let lateness = now.milliseconds(since: f.scheduledAt)
        let onTime = lateness <= spec.startingDeadlineMs
        let isLatest = f.nextFireAt.map { $0 > now } ?? true
        guard onTime || (spec.misfire == .runOnce && isLatest) else {
            jobs[j].missedFires = jobs[j].missedFires.saturatingAdd(1)
            events.append(.fireSkipped(f.jobID, scheduledAt: f.scheduledAt, reason: .missed))
            events.append(.jobChanged(f.jobID))
            return
        }
        if !jobs[j].activeRuns.isEmpty {
            switch spec.concurrency {
            case .forbid:
                jobs[j].forbiddenFires += 1
                events.append(.fireSkipped(f.jobID, scheduledAt: f.scheduledAt, reason: .forbidden))
                events.append(.jobChanged(f.jobID))
                return
            case .replace:
                cancelActiveRuns(ofJob: f.jobID, &events)
            case .allow:
                break
            }
        }
        startCronRun(jobID: f.jobID, runID: f.runID, scheduledAt: f.scheduledAt, taskRunIDStyle: f.taskRunIDStyle, &events)
    }
}
