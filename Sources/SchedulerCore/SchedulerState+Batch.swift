import HashTreeCollections

// The all-or-none check of a batch's submits.

extension SchedulerState {
    /// Why `commands` must be refused as a whole, or `nil` when every submit in it would be
    /// accepted (or answered as an idempotent duplicate). Checks, without changing anything,
    /// what `submitJob` would refuse — an idempotency-key clash, an invalid spec, a job or run
    /// id that exists or repeats within the batch — plus nested batches.
    ///
    /// Why: `POST /api/jobs/batch` promises all or none, and a replica cannot roll back part
    /// of a committed entry, so the refusal must be decided before the first submit applies.
    public func batchRefusal(_ commands: [Command]) -> CommandRejection? {
        var jobIDs = Set<JobID>()
        var runIDs = Set<RunID>()
        for (index, command) in commands.enumerated() {
            switch command {
            case .batch:
                return CommandRejection(.invalid, "a batch may not contain a batch", batchIndex: index)
            case .submitJob(let s):
                if let stamp = s.idempotency, let record = idempotency[stamp.key] {
                    if record.bodyDigest == stamp.bodyDigest { continue }  // answered as a duplicate
                    return CommandRejection(.conflict, "Idempotency-Key '\(stamp.key)' was already used with a "
                        + "different request body; use a new key", batchIndex: index)
                }
                if let problem = Self.validationProblem(s.spec) {
                    return CommandRejection(.invalid, problem, batchIndex: index)
                }
                if jobIndex[s.jobID] != nil || !jobIDs.insert(s.jobID).inserted {
                    return CommandRejection(.conflict, "job id \(s.jobID) already exists", batchIndex: index)
                }
                if s.spec.kind == .once, runIndex[s.runID] != nil || !runIDs.insert(s.runID).inserted {
                    return CommandRejection(.conflict, "run id \(s.runID) already exists", batchIndex: index)
                }
            default:
                continue
            }
        }
        return nil
    }
}
