// Which specs, commands and states carry a lost cap (`retry.max_lost_attempts`), and how the
// leader strips it for members on builds before command format 4.

extension RetryPolicy {
    /// This policy under the old rule (a lost attempt is a try).
    var withoutLostCap: RetryPolicy {
        var policy = self
        policy.maxLostAttempts = nil
        return policy
    }
}

extension DAGSpec {
    /// Whether any task's retry policy has a lost cap.
    var hasLostAttemptCaps: Bool { tasks.contains { $0.retry.maxLostAttempts != nil } }

    /// The same DAG with every task under the old retry rule (the graph is unchanged, so it is
    /// not validated again).
    func withoutLostAttemptCaps() -> DAGSpec {
        guard hasLostAttemptCaps else { return self }
        let stripped = tasks.map { task in
            var task = task
            task.retry = task.retry.withoutLostCap
            return task
        }
        return DAGSpec(name: name, tasks: stripped, priority: priority, labels: labels, dependencies: dependencies,
                       dependents: dependents, topologicalOrder: topologicalOrder)
    }
}

extension JobSpec {
    /// Whether the job's retry policy (or a scheduled DAG's task's) has a lost cap.
    var hasLostAttemptCaps: Bool { retry.maxLostAttempts != nil || (dag?.hasLostAttemptCaps ?? false) }

    /// The same spec under the old retry rule.
    func withoutLostAttemptCaps() -> JobSpec {
        guard hasLostAttemptCaps else { return self }
        return JobSpec(name: name, schedule: schedule, runAt: runAt, priority: priority, task: task,
                       dag: dag?.withoutLostAttemptCaps(), retry: retry.withoutLostCap, timeoutMs: timeoutMs,
                       concurrency: concurrency, misfire: misfire, startingDeadlineMs: startingDeadlineMs,
                       labels: labels, retentionMs: retentionMs, historyLimit: historyLimit, placement: placement, notify: notify)
    }
}

extension Command {
    /// Whether this (unbatched) command is a submit whose specs carry a lost cap: it is encoded
    /// under entry tag 19 and needs ``CommandCodec/lostAttemptCaps``.
    public var carriesLostAttemptCaps: Bool {
        switch self {
        case .submitJob(let submit): submit.spec.hasLostAttemptCaps
        case .submitDAG(let submit): submit.spec.hasLostAttemptCaps
        default: false
        }
    }

    /// This command with every lost cap removed (the old retry rule), batches included.
    func withoutLostAttemptCaps() -> Command {
        switch self {
        case .batch(let commands): return .batch(commands.map { $0.withoutLostAttemptCaps() })
        case .submitJob(var submit) where submit.spec.hasLostAttemptCaps:
            submit.spec = submit.spec.withoutLostAttemptCaps()
            return .submitJob(submit)
        case .submitDAG(var submit) where submit.spec.hasLostAttemptCaps:
            submit.spec = submit.spec.withoutLostAttemptCaps()
            return .submitDAG(submit)
        default: return self
        }
    }
}

extension SchedulerState {
    /// Whether any stored spec has a lost cap or any run counted a lost attempt: such a state
    /// needs snapshot version 3. O(jobs + DAG runs + runs), like the snapshot itself.
    var hasLostAttemptCaps: Bool {
        jobs.contains { $0.spec.hasLostAttemptCaps } || dags.contains { $0.spec.hasLostAttemptCaps }
            || runs.contains { $0.lostAttempts > 0 }
    }
}
