/// `GET /api/jobs/{id}/runs/{run_id}/output`: one attempt's output tail.
///
/// The replicated state keeps only the last 4 KiB of each attempt's output; the full tail (up to
/// 64 KiB) stays on the node that ran it. Any node answers: from its own store when it ran the
/// attempt (`source: "local"`), by proxying to the executor node (`"executor"`), or — when that
/// node is unreachable or no longer keeps it — from the replicated short tail (`"replicated"`,
/// `complete: false`).
public struct AttemptOutputResource: Codable, Hashable, Sendable {
    /// Where an answer's ``outputTail`` came from.
    public enum Source: String, Codable, Hashable, Sendable, CaseIterable {
        /// The answering node ran the attempt and kept its full tail.
        case local
        /// Fetched from the node that ran the attempt.
        case executor
        /// The replicated short tail (the last 4 KiB), because the full one could not be had.
        case replicated
    }

    /// The job.
    public var jobId: String
    /// The run.
    public var runId: String
    /// The attempt (the run's latest kept attempt unless `?attempt=` chose one).
    public var attempt: Int
    /// The node that ran it.
    public var executor: String
    /// How it ended, or null while it runs.
    @ExplicitNull public var outcome: String?
    /// The last bytes of its output (or of an http task's response body), as text.
    public var outputTail: String
    /// `true` when ``outputTail`` is the executor's full tail (its last 64 KiB); `false` when it
    /// is the replicated short tail, which may be cut to the last 4 KiB.
    public var complete: Bool
    /// Where ``outputTail`` came from.
    public var source: Source

    /// The most UTF-8 bytes of an attempt's output the replicated state keeps
    /// (`Executor.ReplicatedOutputTail.limit`). A replicated tail more than 3 bytes shorter was
    /// not cut (a cut one starts at most 3 bytes after the limit, on a character boundary): it is
    /// the whole output, and the executor keeps no file for it.
    public static let replicatedLimit = 4 * 1024

    /// Whether `tail`, a replicated tail, is surely the whole output (see ``replicatedLimit``).
    public static func isWhole(replicated tail: String) -> Bool { tail.utf8.count < replicatedLimit - 3 }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case jobId = "job_id"
        case runId = "run_id"
        case attempt, executor, outcome
        case outputTail = "output_tail"
        case complete, source
    }

    /// An output (by default the replicated short tail).
    public init(jobId: String, runId: String, attempt: Int, executor: String, outcome: String?, outputTail: String,
                complete: Bool = false, source: Source = .replicated) {
        self.complete = complete
        self.source = source
        self.jobId = jobId
        self.runId = runId
        self.attempt = attempt
        self.executor = executor
        self.outcome = outcome
        self.outputTail = outputTail
    }

    /// The output of `runID`'s attempt `attempt` (its latest kept one when `nil`) among a job's
    /// attempts (`/api/jobs/{id}/runs` items, newest first).
    ///
    /// - Throws: 404 naming the run when the job's history holds no such attempt (never run,
    ///   or older than the job's `history_limit`).
    public static func find(jobID: String, runID: String, attempt: Int?,
                            in attempts: [AttemptResource]) throws(APIError) -> AttemptOutputResource {
        let match = attempts.first { $0.runId == runID && (attempt == nil || $0.attempt == attempt) }
        guard let match, let executor = match.executor, match.attempt >= 1 else {
            let which = attempt.map { "attempt \($0) of run \(runID)" } ?? "run \(runID)"
            throw .notFound("job \(jobID) keeps no output of \(which): it has not started, or it is older than the job's "
                            + "history_limit; GET /api/jobs/\(jobID)/runs lists the attempts kept")
        }
        return AttemptOutputResource(jobId: jobID, runId: runID, attempt: match.attempt, executor: executor,
                                     outcome: match.outcome, outputTail: match.outputTail ?? "")
    }
}
