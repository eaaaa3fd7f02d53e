// Assignment, completion, retries, fencing, the DLQ.

extension SchedulerState {
    /// The retry policy and spec data of a run, from its job or DAG task.
    func retryPolicy(ofRun run: Run) -> RetryPolicy {
        if let ref = run.dagTask, let d = dagIndex[ref.dagRunID] {
            return dags[d].spec.tasks[ref.taskIndex].retry
        }
        if let job = run.jobID, let j = jobIndex[job] { return jobs[j].spec.retry }
        return .default
    }

    mutating func assign(_ a: AssignAttempt, _ events: inout [SchedulerEvent]) {
        guard let i = runIndex[a.runID] else {
            return reject(.notFound, "run \(a.runID) not found; it may have been cancelled and removed", &events)
        }
        guard runs[i].state == .queued else {
            return reject(.conflict, "run \(a.runID) is \(runs[i].state), not queued; assign only queued runs", &events)
        }
        guard a.attempt == runs[i].attempt &+ 1 else {
            return reject(.conflict, "run \(a.runID) next attempt is \(runs[i].attempt &+ 1), not \(a.attempt)", &events)
        }
        setState(i, .running)
        runs[i].attempt = a.attempt
        runs[i].executor = a.executor
        runs[i].deadline = a.deadline
        runs[i].startedAt = now
        runs[i].finishedAt = nil
        let seq = nextSequence()
        runs[i].stateSeq = seq
        deadlineHeap.push(DeadlineEntry(deadline: a.deadline, seq: seq, slot: i))
        if let job = runs[i].jobID, let j = jobIndex[job] {
            let record = AttemptRecord(runID: a.runID, attempt: a.attempt, executor: a.executor,
                                       scheduledAt: runs[i].scheduledAt, startedAt: now,
                                       dagRunID: runs[i].dagTask?.dagRunID)
            let limit = historyLimit(ofJob: j)
            if jobs[j].history.count >= limit {
                jobs[j].history.removeFirst(jobs[j].history.count - limit + 1)
            }
            jobs[j].history.append(record)
            jobs[j].updatedAt = now
        }
        events.append(.runChanged(a.runID, .running, attempt: a.attempt))
        events.append(.startAttempt(runID: a.runID, attempt: a.attempt, executor: a.executor,
                                    incarnation: a.executorIncarnation))
    }

    mutating func finish(_ f: FinishAttempt, _ events: inout [SchedulerEvent]) {
        guard let i = runIndex[f.runID], runs[i].state == .running,
              runs[i].attempt == f.attempt || config.mutations.isOn("no-fencing") else {
            counters.staleReports += 1
            events.append(.staleReport(f.runID, attempt: f.attempt))
            return
        }
        var report = f.report
        if report.outcome == .cancelled || report.outcome == .lost {
            report.outcome = .failed  // executors report success, failure or timeout only
        }
        endAttempt(i, report: report, &events)
    }

    mutating func expire(_ e: ExpireAttempt, _ events: inout [SchedulerEvent]) {
        guard let i = runIndex[e.runID], runs[i].state == .running, runs[i].attempt == e.attempt else {
            counters.staleReports += 1
            events.append(.staleReport(e.runID, attempt: e.attempt))
            return
        }
        // The executor may still be running it (it was cut off, or is slow): tell it to stop
        // when it applies this entry. Self-fencing stops it earlier; this is the backstop.
        if let executor = runs[i].executor {
            events.append(.stopAttempt(runID: e.runID, attempt: e.attempt, executor: executor))
        }
        let report: AttemptReport = switch e.reason {
        case .executorLost:
            AttemptReport(outcome: .lost, error: "executor \(runs[i].executor?.rawValue ?? "?") was lost during attempt \(e.attempt)")
        case .deadlinePassed:
            AttemptReport(outcome: .timedOut, error: "attempt \(e.attempt) passed its deadline")
        }
        endAttempt(i, report: report, &events)
    }

    /// Records how the current attempt ended in the job's history.
    mutating func recordAttemptEnd(_ i: Int, _ report: AttemptReport, jobSlot: Int? = nil) {
        guard let j = jobSlot ?? runs[i].jobID.flatMap({ jobIndex[$0] }) else { return }
        let id = runs[i].id
        let attempt = runs[i].attempt
        if let h = jobs[j].history.lastIndex(where: { $0.runID == id && $0.attempt == attempt }) {
            jobs[j].history[h].finishedAt = now
            jobs[j].history[h].outcome = report.outcome
            jobs[j].history[h].exitCode = report.exitCode
            jobs[j].history[h].httpStatus = report.httpStatus
            jobs[j].history[h].outputTail = report.outputTail
            jobs[j].history[h].error = report.error
        }
        jobs[j].updatedAt = now
    }

    /// Ends the running attempt of run `i`: success, a retry after backoff, or the DLQ.
    mutating func endAttempt(_ i: Int, report: AttemptReport, _ events: inout [SchedulerEvent]) {
        let jobSlot = runs[i].jobID.flatMap { jobIndex[$0] }  // one lookup for the whole finish
        recordAttemptEnd(i, report, jobSlot: jobSlot)
        let id = runs[i].id
        let attempt = runs[i].attempt
        runs[i].lastOutcome = report.outcome
        runs[i].finishedAt = now
        runs[i].deadline = nil
        events.append(.attemptFinished(id, attempt: attempt, report.outcome))
        if report.outcome == .succeeded {
            setState(i, .succeeded)
            runs[i].lastError = nil
            events.append(.runChanged(id, .succeeded, attempt: attempt))
            runBecameTerminal(i, jobSlot: jobSlot, &events)
            return
        }
        runs[i].lastError = report.error ?? describeFailure(report)
        let policy = retryPolicy(ofRun: runs[i])
        // Under a lost cap an infrastructure failure spends its own budget, not a try; without
        // one (jobs from older commands) it is a try, exactly as before format 4.
        let retry: Bool
        if report.outcome == .lost, let lostCap = policy.maxLostAttempts {
            runs[i].lostAttempts += 1
            retry = runs[i].lostAttempts < lostCap
            if !retry {
                runs[i].lastError = "lost \(runs[i].lostAttempts) times (node died, drained or cut off); "
                    + "see retry.max_lost_attempts; last: \(runs[i].lastError ?? "executor lost")"
            }
        } else {
            retry = runs[i].tries < policy.maxAttempts
        }
        if retry {
            let delay = Backoff.delayMs(policy: policy, runID: id, attempt: runs[i].attemptsInBudget)
            makePending(i, dueAt: now.adding(milliseconds: delay))
            events.append(.runChanged(id, runs[i].state, attempt: attempt))
        } else {
            setState(i, .dead)
            runs[i].deadAt = now
            runs[i].stateSeq = nextSequence()  // DLQ order
            dlqOrder.append(seq: runs[i].stateSeq, id: id)
            events.append(.runChanged(id, .dead, attempt: attempt))
            runBecameTerminal(i, jobSlot: jobSlot, &events)
        }
    }

    func describeFailure(_ report: AttemptReport) -> String {
        switch report.outcome {
        case .timedOut: return "attempt timed out"
        case .lost: return "executor lost"
        case .cancelled: return "cancelled"
        case .succeeded: return ""
        case .failed:
            if let code = report.exitCode { return "exit code \(code)" }
            if let status = report.httpStatus { return "HTTP status \(status)" }
            return "failed"
        }
    }

    /// Cancels a non-terminal run: a running attempt is stopped (``SchedulerEvent/stopAttempt``).
    /// `propagate` runs the owner's hooks (off while a whole DAG run is being cancelled).
    mutating func cancelRun(_ i: Int, propagate: Bool, _ events: inout [SchedulerEvent]) {
        let id = runs[i].id
        if runs[i].state == .running {
            if let executor = runs[i].executor {
                events.append(.stopAttempt(runID: id, attempt: runs[i].attempt, executor: executor))
            }
            recordAttemptEnd(i, AttemptReport(outcome: .cancelled, error: "cancelled"))
            runs[i].lastOutcome = .cancelled
            runs[i].deadline = nil
        }
        setState(i, .cancelled)
        runs[i].dueAt = nil
        runs[i].finishedAt = now
        events.append(.runChanged(id, .cancelled, attempt: runs[i].attempt))
        if propagate { runBecameTerminal(i, &events) }
    }

    /// Owner bookkeeping once run `i` is terminal: once job finished, cron job's active list,
    /// DAG progress. Terminal non-dead runs of cron jobs leave the run table (their attempts stay
    /// in the job's history).
    mutating func runBecameTerminal(_ i: Int, jobSlot: Int? = nil, _ events: inout [SchedulerEvent]) {
        let dead = runs[i].state == .dead
        if let ref = runs[i].dagTask {
            if let d = dagIndex[ref.dagRunID] {
                if dead { dags[d].dlqEntries += 1 }
                dagTaskBecameTerminal(d, taskIndex: ref.taskIndex, state: runs[i].state, &events)
            }
            return
        }
        guard let jobID = runs[i].jobID, let j = jobSlot ?? jobIndex[jobID] else { return }
        if dead { jobs[j].dlqEntries += 1 }
        jobs[j].updatedAt = now
        if jobs[j].spec.kind == .once {
            jobs[j].finishedAt = now
            scheduleRetention(job: j)
            events.append(.jobChanged(jobID))
        } else {
            let runID = runs[i].id
            jobs[j].activeRuns.removeAll { $0 == runID }
            jobs[j].lastRun = RunSummary(runID: runID, scheduledAt: runs[i].scheduledAt, state: runs[i].state)
            if !dead { removeRun(at: i) }
            // A run requeued after its job was cancelled: retention restarts when it ends.
            if jobs[j].cronState == .cancelled { scheduleRetention(job: j) }
            events.append(.jobChanged(jobID))
        }
    }

    mutating func requeue(_ id: RunID, _ events: inout [SchedulerEvent]) {
        guard let i = runIndex[id], runs[i].state == .dead else {
            return reject(.notFound, "run \(id) is not in the dead-letter queue", &events)
        }
        if let ref = runs[i].dagTask {
            guard let d = dagIndex[ref.dagRunID], dags[d].state != .cancelled else {
                return reject(.conflict, "run \(id) belongs to a cancelled DAG run; submit the DAG again", &events)
            }
        }
        let wasPurged = runs[i].purged
        runs[i].budgetBase = runs[i].attempt
        runs[i].lostAttempts = 0
        runs[i].deadAt = nil
        runs[i].finishedAt = nil
        enqueue(i)
        runs[i].purged = false
        events.append(.runChanged(id, .queued, attempt: runs[i].attempt))
        if let ref = runs[i].dagTask, let d = dagIndex[ref.dagRunID] {
            if !wasPurged { dags[d].dlqEntries -= 1 }
            reopenDAG(d, requeuedTask: ref.taskIndex, &events)
        } else if let job = runs[i].jobID, let j = jobIndex[job] {
            if !wasPurged { jobs[j].dlqEntries -= 1 }
            jobs[j].updatedAt = now
            if jobs[j].spec.kind == .once {
                jobs[j].finishedAt = nil
            } else {
                jobs[j].activeRuns.append(id)
            }
            events.append(.jobChanged(job))
        }
    }

    mutating func purge(_ id: RunID, _ events: inout [SchedulerEvent]) {
        guard let i = runIndex[id], runs[i].state == .dead, !runs[i].purged else {
            return reject(.notFound, "run \(id) is not in the dead-letter queue", &events)
        }
        let run = runs[i]
        if let ref = run.dagTask {
            // The task stays dead in its DAG run; only its DLQ entry goes.
            setPurged(i)
            if let d = dagIndex[ref.dagRunID] {
                dags[d].dlqEntries -= 1
                scheduleRetention(dag: d)
            }
            events.append(.runChanged(id, .dead, attempt: run.attempt))
            return
        }
        guard let jobID = run.jobID, let j = jobIndex[jobID] else {
            removeRun(at: i)
            return
        }
        if jobs[j].spec.kind == .once {
            // Purging a once job's dead run removes the job.
            removeRun(at: i)
            if let j2 = jobIndex[jobID] { removeJob(at: j2) }
            events.append(.removed(id: jobID.rawValue))
        } else {
            jobs[j].dlqEntries -= 1
            removeRun(at: i)
            if let j2 = jobIndex[jobID] { scheduleRetention(job: j2) }
            events.append(.jobChanged(jobID))
        }
    }

    private mutating func setPurged(_ i: Int) {
        dlqCount -= 1
        dlqOrder.noteRemoved()
        runs[i].purged = true
    }
}
