// DAG runs: creation, dependency progress, skip propagation, reopening, cancellation.

extension SchedulerState {
    mutating func submitDAG(_ s: SubmitDAG, _ events: inout [SchedulerEvent]) {
        if idempotencyBlocks(s.idempotency, &events) { return }
        if s.retentionMs < 0 { return reject(.invalid, "retention_seconds must not be negative", &events) }
        for (index, task) in s.spec.tasks.enumerated() where task.retry.maxAttempts < 1 || task.timeoutMs <= 0 {
            return reject(.invalid, "tasks[\(index)]: retry.max_attempts must be ≥ 1 and timeout_seconds positive", &events)
        }
        guard !dagIDsTaken(s.dagRunID, spec: s.spec, style: s.taskRunIDStyle) else {
            return reject(.conflict, "DAG run id \(s.dagRunID) (or one of its task run ids) already exists", &events)
        }
        createDAGRun(id: s.dagRunID, spec: s.spec, jobID: nil, retentionMs: s.retentionMs,
                     taskRunIDStyle: s.taskRunIDStyle, &events)
        if !s.notify.isEmpty, let d = dagIndex[s.dagRunID] { dags[d].notify = s.notify }
        rememberIdempotency(s.idempotency, targetID: s.dagRunID.rawValue)
    }

    /// Whether a DAG run id or any of its derived task run ids is in use.
    func dagIDsTaken(_ id: DAGRunID, spec: DAGSpec, style: TaskRunIDStyle) -> Bool {
        idTaken(RunID(id.rawValue))
            || spec.tasks.contains { runIndex[RunID.dagTask(id, taskID: $0.id, style: style)] != nil }
    }

    /// Creates a DAG run: every task gets a run; tasks without dependencies are queued.
    /// The caller has checked ``dagIDsTaken(_:spec:style:)``.
    mutating func createDAGRun(id: DAGRunID, spec: DAGSpec, jobID: JobID?, retentionMs: Int64,
                               taskRunIDStyle: TaskRunIDStyle, _ events: inout [SchedulerEvent]) {
        dagIndex[id] = dags.count
        dags.append(DAGRun(id: id, spec: spec, jobID: jobID, state: .running, createdAt: now,
                           finishedAt: nil, retentionMs: retentionMs, createdSeq: nextSequence(),
                           dlqEntries: 0, taskRunIDStyle: taskRunIDStyle))
        dagOrder.append(seq: dags[dags.count - 1].createdSeq, id: id)
        events.append(.dagSubmitted(id))
        for (index, task) in spec.tasks.enumerated() {
            let ready = spec.dependencies[index].isEmpty
            createRun(id: RunID.dagTask(id, taskID: task.id, style: taskRunIDStyle), jobID: jobID,
                      dagTask: DAGTaskRef(dagRunID: id, taskIndex: index), priority: spec.priority,
                      scheduledAt: now, dueAt: ready ? now : nil, &events)
        }
    }

    func taskRunIndex(_ d: Int, _ task: Int) -> Int? {
        runIndex[dags[d].taskRunID(task)]
    }

    /// A task reached a terminal state: queue dependents whose dependencies all succeeded, skip
    /// (transitively) the dependents of a dead task, then finish the DAG run if every task is
    /// terminal.
    mutating func dagTaskBecameTerminal(_ d: Int, taskIndex: Int, state: RunState, _ events: inout [SchedulerEvent]) {
        let spec = dags[d].spec
        if state == .succeeded {
            for dependent in spec.dependents[taskIndex] {
                guard let i = taskRunIndex(d, dependent), runs[i].state == .pending, runs[i].dueAt == nil else { continue }
                let allSucceeded = spec.dependencies[dependent].allSatisfy { dep in
                    taskRunIndex(d, dep).map { runs[$0].state == .succeeded } ?? false
                }
                if allSucceeded {
                    enqueue(i)
                    events.append(.runChanged(runs[i].id, .queued, attempt: runs[i].attempt))
                }
            }
        } else if state == .dead || state == .skipped {
            var stack = spec.dependents[taskIndex]
            while let next = stack.popLast() {
                guard let i = taskRunIndex(d, next), runs[i].state == .pending else { continue }
                setState(i, .skipped)
                runs[i].dueAt = nil
                runs[i].finishedAt = now
                events.append(.runChanged(runs[i].id, .skipped, attempt: runs[i].attempt))
                stack.append(contentsOf: spec.dependents[next])
            }
        }
        finishDAGIfDone(d, &events)
    }

    mutating func finishDAGIfDone(_ d: Int, _ events: inout [SchedulerEvent]) {
        guard dags[d].state == .running else { return }
        var allSucceeded = true
        for task in 0..<dags[d].spec.tasks.count {
            guard let i = taskRunIndex(d, task) else { continue }
            if !runs[i].state.isTerminal { return }
            if runs[i].state != .succeeded { allSucceeded = false }
        }
        dags[d].state = allSucceeded ? .succeeded : .failed
        dags[d].finishedAt = now
        events.append(.dagChanged(dags[d].id, dags[d].state))
        dagRunEnded(d, &events)
        scheduleRetention(dag: d)
    }

    /// A DAG run of a cron job ended: update the job's active list and last run.
    mutating func dagRunEnded(_ d: Int, _ events: inout [SchedulerEvent]) {
        guard let jobID = dags[d].jobID, let j = jobIndex[jobID] else { return }
        let asRun = RunID(dags[d].id.rawValue)
        jobs[j].activeRuns.removeAll { $0 == asRun }
        let state: RunState = switch dags[d].state {
        case .running: .running
        case .succeeded: .succeeded
        case .failed: .dead
        case .cancelled: .cancelled
        }
        jobs[j].lastRun = RunSummary(runID: asRun, scheduledAt: dags[d].createdAt, state: state)
        jobs[j].updatedAt = now
        events.append(.jobChanged(jobID))
    }

    /// A dead task was requeued: its skipped descendants whose dependencies are no longer dead or
    /// skipped return to pending, and the DAG run to running.
    mutating func reopenDAG(_ d: Int, requeuedTask: Int, _ events: inout [SchedulerEvent]) {
        let spec = dags[d].spec
        var isDescendant = Array(repeating: false, count: spec.tasks.count)
        var stack = spec.dependents[requeuedTask]
        while let next = stack.popLast() {
            if isDescendant[next] { continue }
            isDescendant[next] = true
            stack.append(contentsOf: spec.dependents[next])
        }
        for task in spec.topologicalOrder where isDescendant[task] {
            guard let i = taskRunIndex(d, task), runs[i].state == .skipped else { continue }
            let blocked = spec.dependencies[task].contains { dep in
                guard let k = taskRunIndex(d, dep) else { return true }
                return runs[k].state == .dead || runs[k].state == .skipped
            }
            if !blocked {
                makePending(i, dueAt: nil)
                runs[i].finishedAt = nil
                events.append(.runChanged(runs[i].id, .pending, attempt: runs[i].attempt))
            }
        }
        if dags[d].state != .running {
            dags[d].state = .running
            dags[d].finishedAt = nil
            events.append(.dagChanged(dags[d].id, .running))
            if let jobID = dags[d].jobID, let j = jobIndex[jobID] {
                jobs[j].activeRuns.append(RunID(dags[d].id.rawValue))
                jobs[j].updatedAt = now
                events.append(.jobChanged(jobID))
            }
        }
    }

    mutating func cancelDAG(_ id: DAGRunID, _ events: inout [SchedulerEvent]) {
        guard let d = dagIndex[id] else { return reject(.notFound, "DAG run \(id) not found", &events) }
        guard dags[d].state == .running else {
            return reject(.conflict, "DAG run \(id) is \(dags[d].state); nothing to cancel", &events)
        }
        cancelDAGRun(d, &events)
    }

    /// Cancels every non-terminal task and marks the DAG run cancelled.
    mutating func cancelDAGRun(_ d: Int, _ events: inout [SchedulerEvent]) {
        for task in 0..<dags[d].spec.tasks.count {
            if let i = taskRunIndex(d, task), !runs[i].state.isTerminal {
                cancelRun(i, propagate: false, &events)
            }
        }
        dags[d].state = .cancelled
        dags[d].finishedAt = now
        events.append(.dagChanged(dags[d].id, .cancelled))
        dagRunEnded(d, &events)
        scheduleRetention(dag: d)
    }
}
