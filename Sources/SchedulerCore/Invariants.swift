// Structural invariants, checked by the randomized tests (and usable by a debug build of the node).

extension SchedulerState {
    /// Every broken invariant, described with the state involved; empty when all hold.
    ///
    /// Checks: indexes match the tables; live counts and the running-run index match; every queued run has exactly one live
    /// ready-queue entry and no other run has one (so a run is never both queued and running);
    /// every running run has a deadline; a DAG task that is queued, running or succeeded has only
    /// succeeded dependencies; a cron job's active runs are not terminal; budgets are sane.
    /// O(n log n); for tests.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        for (i, job) in jobs.enumerated() where jobIndex[job.id] != i {
            problems.append("job index of \(job.id) is \(String(describing: jobIndex[job.id])), slot \(i)")
        }
        for (i, run) in runs.enumerated() where runIndex[run.id] != i {
            problems.append("run index of \(run.id) is \(String(describing: runIndex[run.id])), slot \(i)")
        }
        for (i, dag) in dags.enumerated() where dagIndex[dag.id] != i {
            problems.append("DAG index of \(dag.id) is \(String(describing: dagIndex[dag.id])), slot \(i)")
        }
        if jobIndex.count != jobs.count || runIndex.count != runs.count || dagIndex.count != dags.count {
            problems.append("index sizes \(jobIndex.count)/\(runIndex.count)/\(dagIndex.count) != tables \(jobs.count)/\(runs.count)/\(dags.count)")
        }
        let queued = runs.filter { $0.state == .queued }.count
        let running = runs.filter { $0.state == .running }.count
        let dlq = runs.filter { $0.state == .dead && !$0.purged }.count
        if (queued, running, dlq) != (queuedCount, runningCount, dlqCount) {
            problems.append("counts queued/running/dlq \(queuedCount)/\(runningCount)/\(dlqCount) != actual \(queued)/\(running)/\(dlq)")
        }
        let pending = runs.filter { $0.state == .pending }.count
        if pending != pendingCount { problems.append("pending count \(pendingCount) != actual \(pending)") }
        let runningIDs = Set(runs.filter { $0.state == .running }.map(\.id))
        if runningIDs != runningRunIDs {
            problems.append("running-run index \(runningRunIDs.sorted()) != running runs \(runningIDs.sorted())")
        }
        var queuedByPriority: [Int: Int] = [:]
        for run in runs where run.state == .queued { queuedByPriority[run.priority, default: 0] += 1 }
        if queuedByPriority != queuedCountByPriority {
            problems.append("queued by priority \(queuedCountByPriority.sorted { $0.key < $1.key }) != actual \(queuedByPriority.sorted { $0.key < $1.key })")
        }
        var liveEntries = Array(repeating: 0, count: runs.count)
        for entry in readyQueue.storage where isLive(entry) { liveEntries[entry.slot] += 1 }
        for (slot, run) in runs.enumerated() {
            let entries = liveEntries[slot]
            if run.state == .queued && entries != 1 {
                problems.append("queued run \(run.id) has \(entries) live queue entries")
            }
            if run.state != .queued && entries != 0 {
                problems.append("\(run.state) run \(run.id) has a live queue entry")
            }
            if run.state == .running && (run.deadline == nil || run.executor == nil) {
                problems.append("running run \(run.id) lacks a deadline or executor")
            }
            if run.budgetBase > run.attempt || run.attempt < 0 {
                problems.append("run \(run.id) attempt \(run.attempt) budget base \(run.budgetBase)")
            }
            if run.lostAttempts < 0 || run.lostAttempts > run.attempt &- run.budgetBase {
                problems.append("run \(run.id) has \(run.lostAttempts) lost attempts of \(run.attempt &- run.budgetBase) in its budget")
            }
            if let ref = run.dagTask, [.queued, .running, .succeeded].contains(run.state) {
                if let d = dagIndex[ref.dagRunID] {
                    for dep in dags[d].spec.dependencies[ref.taskIndex] {
                        let depRun = runIndex[dags[d].taskRunID(dep)].map { runs[$0] }
                        if depRun?.state != .succeeded {
                            problems.append("DAG task \(run.id) is \(run.state) but dependency \(dags[d].spec.tasks[dep].id) is \(String(describing: depRun?.state))")
                        }
                    }
                } else {
                    problems.append("run \(run.id) refers to missing DAG run \(ref.dagRunID)")
                }
            }
        }
        for job in jobs where job.spec.kind == .cron {
            for active in job.activeRuns {
                if job.spec.dag != nil {
                    if dagRun(DAGRunID(active.rawValue))?.state != .running {
                        problems.append("cron job \(job.id) lists DAG run \(active) as active but it is not running")
                    }
                } else if let run = run(active), run.state.isTerminal {
                    problems.append("cron job \(job.id) lists terminal run \(active) as active")
                } else if run(active) == nil {
                    problems.append("cron job \(job.id) lists missing run \(active) as active")
                }
            }
        }
        return problems
    }
}
