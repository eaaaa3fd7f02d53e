/// Turns the ``SchedulerEvent``s of one applied entry into the ``ChangeEvent``s clients see.
/// Pure: every node derives the same events with the same ids from the same entry.
public enum ChangeEvents {
    /// The client-visible events of the entry at `index` stamped `at`, read against `state`
    /// *after* the entry was applied (for a run's job and DAG, and labels). Scheduler events
    /// that change nothing a client lists (duplicates, stale reports, rejections, skipped
    /// fires, executor orders) produce none.
    public static func derive(from events: [SchedulerEvent], index: UInt64, at: Timestamp, state: SchedulerState) -> [ChangeEvent] {
        var derived: [ChangeEvent] = []
        for event in events {
            guard var change = change(for: event, at: at, state: state) else { continue }
            change.id = ChangeEvent.id(index: index, position: derived.count)
            derived.append(change)
        }
        return derived
    }

    static func change(for event: SchedulerEvent, at: Timestamp, state: SchedulerState) -> ChangeEvent? {
        switch event {
        case .jobSubmitted(let id), .jobChanged(let id):
            // Read in place through the index (`state.job(id)` would copy the whole job for two fields).
            guard let j = state.jobIndex[id] else {
                return ChangeEvent(id: nil, kind: .job, at: at, jobID: id.rawValue, state: "removed", labels: [])
            }
            return ChangeEvent(id: nil, kind: .job, at: at, jobID: id.rawValue, state: state.fineState(of: state.jobs[j]),
                               labels: state.jobs[j].spec.labels)
        case .dagSubmitted(let id):
            let dag = state.dagRun(id)
            return ChangeEvent(id: nil, kind: .dag, at: at, jobID: dag?.jobID?.rawValue, dagID: id.rawValue,
                               state: dag.map { $0.state.description } ?? "removed", labels: dag?.spec.labels ?? [])
        case .dagChanged(let id, let dagState):
            let dag = state.dagRun(id)
            return ChangeEvent(id: nil, kind: .dag, at: at, jobID: dag?.jobID?.rawValue, dagID: id.rawValue,
                               state: dagState.description, labels: dag?.spec.labels ?? [])
        case .runChanged(let id, let runState, let attempt):
            var change = runEvent(id, attempt: attempt, at: at, state: state)
            change.state = runState.description
            return change
        case .attemptFinished(let id, let attempt, let outcome):
            var change = runEvent(id, attempt: attempt, at: at, state: state)
            change.outcome = outcome.description
            return change
        case .removed(let id, let isDAG):
            if isDAG { return ChangeEvent(id: nil, kind: .dag, at: at, dagID: id, state: "removed") }
            return ChangeEvent(id: nil, kind: .job, at: at, jobID: id, state: "removed")
        case .duplicateSubmit, .startAttempt, .stopAttempt, .fireSkipped, .firesFolded, .staleReport, .rejected:
            return nil
        }
    }

    private static func runEvent(_ id: RunID, attempt: Int, at: Timestamp, state: SchedulerState) -> ChangeEvent {
        // Fields read in place through the indexes: copying the run and its job (`state.run`,
        // `state.job`) for three fields was most of this function's cost, on every node, for
        // every run event (docs/benchmarks.md, "CPU per drained job").
        let r = state.runIndex[id]
        let jobID = r.flatMap { state.runs[$0].jobID }
        let dagID = r.flatMap { state.runs[$0].dagTask?.dagRunID }
        var labels: [KeyValue] = []
        if let jobID, let j = state.jobIndex[jobID] {
            labels = state.jobs[j].spec.labels
        } else if let dagID, let d = state.dagIndex[dagID] {
            labels = state.dags[d].spec.labels
        }
        return ChangeEvent(id: nil, kind: .run, at: at, jobID: jobID?.rawValue, runID: id.rawValue, dagID: dagID?.rawValue,
                           attempt: attempt, labels: labels)
    }
}
