// Which commands and states carry a history limit (`history_limit`, command format 5), and how
// the leader strips it for members on older builds.

extension JobSpec {
    /// The same spec without a history limit: the old history rule
    /// (``SchedulerConfig/attemptHistoryLimit`` attempts, DAG runs kept for their retention).
    func withoutHistoryLimit() -> JobSpec {
        guard historyLimit != nil else { return self }
        return JobSpec(name: name, schedule: schedule, runAt: runAt, priority: priority, task: task, dag: dag,
                       retry: retry, timeoutMs: timeoutMs, concurrency: concurrency, misfire: misfire,
                       startingDeadlineMs: startingDeadlineMs, labels: labels, retentionMs: retentionMs, placement: placement, notify: notify)
    }
}

extension Command {
    /// Whether this (unbatched) command is a job submit whose spec has a history limit: it is
    /// encoded under entry tag 20 and needs ``CommandCodec/historyLimits``.
    public var carriesHistoryLimit: Bool {
        if case .submitJob(let submit) = self { return submit.spec.historyLimit != nil }
        return false
    }

    /// This command with every history limit removed, batches included.
    func withoutHistoryLimits() -> Command {
        switch self {
        case .batch(let commands): return .batch(commands.map { $0.withoutHistoryLimits() })
        case .submitJob(var submit) where submit.spec.historyLimit != nil:
            submit.spec = submit.spec.withoutHistoryLimit()
            return .submitJob(submit)
        default: return self
        }
    }
}

extension SchedulerState {
    /// Whether any job has a history limit: such a state needs snapshot version 4. O(jobs).
    var hasHistoryLimits: Bool { jobs.contains { $0.spec.historyLimit != nil } }
}
