import HashTreeCollections

// The history limit: how many finished runs a job keeps (`history_limit`, ``JobSpec/historyLimit``).
//
// A job's attempt history (`/api/jobs/{id}/runs`) keeps its newest `historyLimit` attempts. A
// scheduled DAG also keeps at most `historyLimit` of its finished DAG runs: when one more
// finishes, the oldest finished ones — by finish time, then creation — are removed with their
// task runs at the end of that entry, on every replica alike. A DAG run that is still running or
// has a task in the DLQ is neither counted nor removed. A job without a limit (submitted before
// command format 5) keeps ``SchedulerConfig/attemptHistoryLimit`` attempts and its DAG runs
// stay for their retention.

extension SchedulerState {
    /// How many attempts job `j` keeps in its history.
    func historyLimit(ofJob j: Int) -> Int {
        max(1, jobs[j].spec.historyLimit ?? config.attemptHistoryLimit)
    }

    /// Whether DAG run `d` counts against its cron job's history limit (finished, not in the DLQ).
    func isFinishedHistory(dag d: Int) -> Bool {
        dags[d].state != .running && dags[d].finishedAt != nil && dags[d].dlqEntries == 0
    }

    /// Records that DAG run `d` finished (outside the DLQ); if its job keeps fewer, the job is
    /// trimmed at the end of the entry.
    mutating func noteFinishedDAGRun(_ d: Int) {
        guard isFinishedHistory(dag: d), let jobID = dags[d].jobID, let j = jobIndex[jobID],
              let limit = jobs[j].spec.historyLimit else { return }
        let id = dags[d].id
        var list = finishedDAGRuns[jobID, default: []]
        guard !list.contains(id) else { return }
        list.append(id)
        finishedDAGRuns[jobID] = list
        if list.count > limit { historyToTrim.append(jobID) }
    }

    /// Removes the oldest finished DAG runs of every job noted over its limit in this entry.
    mutating func trimHistories(_ events: inout [SchedulerEvent]) {
        guard !historyToTrim.isEmpty else { return }
        let jobIDs = historyToTrim
        historyToTrim = []
        for jobID in jobIDs {
            guard let j = jobIndex[jobID], let limit = jobs[j].spec.historyLimit,
                  let noted = finishedDAGRuns[jobID], noted.count > limit else { continue }
            // Current members only, oldest first: (finished, created) is the same on every replica.
            var current: [(finished: Timestamp, seq: UInt64, id: DAGRunID)] = []
            current.reserveCapacity(noted.count)
            for id in noted {
                guard let d = dagIndex[id], dags[d].jobID == jobID, isFinishedHistory(dag: d),
                      let finished = dags[d].finishedAt else { continue }
                current.append((finished, dags[d].createdSeq, id))
            }
            current.sort { ($0.finished, $0.seq) < ($1.finished, $1.seq) }
            let excess = max(0, current.count - limit)
            for old in current.prefix(excess) {
                guard let d = dagIndex[old.id] else { continue }
                removeDAGRun(at: d)
                events.append(.removed(id: old.id.rawValue, isDAG: true))
            }
            finishedDAGRuns[jobID] = current.dropFirst(excess).map(\.id)
        }
    }
}
