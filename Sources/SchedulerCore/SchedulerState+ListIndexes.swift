import HashTreeCollections

// The read indexes behind the API's lists (`/api/jobs`, `/api/dags`, `/api/dlq`).
//
// Each list is shown newest first with a cursor (the sequence number of the last item shown).
// Apply keeps, per list, the ids in ascending sequence order (``SeqOrderedIndex``), so a page
// is read by walking backwards from the cursor and stops as soon as it is full: O(page + stale
// entries skipped), not O(table). Jobs are also indexed by each `key:value` label, so a label
// filter walks only the jobs that carry that label (the shortest of the requested labels'
// lists, checking the others on each job).
//
// The indexes are derived: they are rebuilt from the tables on restore, are not part of the
// snapshot bytes, and nothing apply decides depends on them (the label dictionary is only read
// by key), so the snapshot digest and replay are unchanged.

extension SchedulerState {
    // MARK: Maintenance (called by apply)

    /// Indexes the job just appended at slot `j`.
    mutating func indexJob(at j: Int) {
        let job = jobs[j]
        jobOrder.append(seq: job.createdSeq, id: job.id)
        for label in Self.distinctLabels(of: job) {
            jobsByLabel[label, default: SeqOrderedIndex()].append(seq: job.createdSeq, id: job.id)
        }
    }

    /// Notes that the job at slot `j` is being removed (its entries go stale).
    mutating func unindexJob(at j: Int) {
        jobOrder.noteRemoved()
        for label in Self.distinctLabels(of: jobs[j]) {
            jobsByLabel[label]?.noteRemoved()
            labelsToCompact.append(label)
        }
    }

    /// A job's labels without repeats (a label given twice is indexed once).
    static func distinctLabels(of job: Job) -> [KeyValue] {
        var seen = Set<KeyValue>()
        return job.spec.labels.filter { seen.insert($0).inserted }
    }

    /// Drops stale entries from the lists that have more stale than live ones, and the label
    /// lists that have no live job left. Run at the end of each entry; the amortised cost is
    /// O(1) per removal.
    mutating func compactListIndexes() {
        if jobOrder.needsCompaction {
            let jobs = self.jobs, jobIndex = self.jobIndex
            jobOrder.compact { e in jobIndex[e.id].map { jobs[$0].createdSeq == e.seq } ?? false }
        }
        if dagOrder.needsCompaction {
            let dags = self.dags, dagIndex = self.dagIndex
            dagOrder.compact { e in dagIndex[e.id].map { dags[$0].createdSeq == e.seq } ?? false }
        }
        if dlqOrder.needsCompaction {
            let runs = self.runs, runIndex = self.runIndex
            dlqOrder.compact { e in runIndex[e.id].map { Self.isInDLQ(runs[$0], seq: e.seq) } ?? false }
        }
        guard !labelsToCompact.isEmpty else { return }
        let jobs = self.jobs, jobIndex = self.jobIndex
        for label in labelsToCompact {
            guard let list = jobsByLabel[label] else { continue }
            if list.live == 0 {
                jobsByLabel[label] = nil
            } else if list.needsCompaction, var owned = jobsByLabel.removeValue(forKey: label) {
                owned.compact { e in jobIndex[e.id].map { jobs[$0].createdSeq == e.seq } ?? false }
                jobsByLabel[label] = owned
            }
        }
        labelsToCompact.removeAll(keepingCapacity: true)
    }

    /// Whether `run` is in the DLQ under the index entry `seq` (it may have been requeued and
    /// died again since, under a newer sequence number).
    static func isInDLQ(_ run: Run, seq: UInt64) -> Bool {
        run.state == .dead && !run.purged && run.stateSeq == seq
    }

    /// Rebuilds the list indexes from the tables (restore).
    mutating func rebuildListIndexes() {
        jobOrder = SeqOrderedIndex(unsorted: jobs.map { .init(seq: $0.createdSeq, id: $0.id) })
        var byLabel: [KeyValue: [SeqOrderedIndex<JobID>.Entry]] = [:]
        for job in jobs {
            for label in Self.distinctLabels(of: job) {
                byLabel[label, default: []].append(.init(seq: job.createdSeq, id: job.id))
            }
        }
        jobsByLabel = TreeDictionary(byLabel.mapValues { SeqOrderedIndex(unsorted: $0) })
        labelsToCompact = []
        dagOrder = SeqOrderedIndex(unsorted: dags.map { .init(seq: $0.createdSeq, id: $0.id) })
        dlqOrder = SeqOrderedIndex(unsorted: runs.filter { $0.state == .dead && !$0.purged }.map { .init(seq: $0.stateSeq, id: $0.id) })
    }
}
