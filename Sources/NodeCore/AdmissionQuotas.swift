import SchedulerCore

/// The leader's admission quotas on creating commands (`[quotas]`, issue #19): how many runs may
/// be unfinished at once and how large the scheduler state may grow. Pure: the caller passes the
/// counts it read (``SchedulerState/unfinishedRunCount`` and the node's state-size estimate), both
/// O(1), so the check costs nothing next to proposing.
///
/// Only commands that create work are ever refused: a cancel, a finish or a purge frees what the
/// quota protects, and refusing it would keep the cluster stuck over its limit.
public struct AdmissionQuotas: Sendable, Equatable {
    /// `[quotas] max_pending_jobs`: the most runs pending, queued or running at once.
    public var maxPendingJobs: Int
    /// `[quotas] max_state_bytes`: the largest state-size estimate creating commands are taken under.
    public var maxStateBytes: Int

    /// Quotas with these limits.
    public init(maxPendingJobs: Int, maxStateBytes: Int) {
        self.maxPendingJobs = maxPendingJobs
        self.maxStateBytes = maxStateBytes
    }

    /// The runs `command` would add to the unfinished count: one per job submitted, triggered or
    /// requeued, one per task of a DAG, the sum over a batch. A cron job counts one (its fires
    /// come later, from the leader, and are not client requests: `fireCron` counts nothing).
    public static func runsCreated(by command: Command) -> Int {
        switch command {
        case .submitJob, .trigger, .requeue: 1
        case .submitDAG(let submit): max(1, submit.spec.tasks.count)
        case .batch(let commands): commands.reduce(0) { $0 + runsCreated(by: $1) }
        case .idempotent(_, let inner): runsCreated(by: inner)
        default: 0
        }
    }

    /// Why `command` is refused with `unfinishedRuns` runs unfinished and a state estimated at
    /// `stateBytes`, or `nil` if it may be proposed. `entryBytes` is the command's encoded size
    /// (what applying it adds to the estimate at most).
    public func refusal(for command: Command, entryBytes: Int, unfinishedRuns: Int, stateBytes: Int) -> QuotaRefusal? {
        let adding = Self.runsCreated(by: command)
        guard adding > 0 else { return nil }
        if unfinishedRuns > maxPendingJobs - adding {
            return QuotaRefusal(quota: .maxPendingJobs, current: unfinishedRuns, adding: adding, limit: maxPendingJobs)
        }
        if stateBytes > maxStateBytes - entryBytes {
            return QuotaRefusal(quota: .maxStateBytes, current: stateBytes, adding: entryBytes, limit: maxStateBytes)
        }
        return nil
    }
}

/// A creating command refused by a quota: nothing was proposed.
public struct QuotaRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which quota, by its `[quotas]` key.
    public enum Quota: String, Hashable, Sendable, CaseIterable {
        /// Too many runs unfinished: the API answers 429 `quota_exceeded` with `Retry-After`.
        case maxPendingJobs = "max_pending_jobs"
        /// The state is too large: the API answers 507 `insufficient_storage`.
        case maxStateBytes = "max_state_bytes"
    }

    /// The quota refused.
    public var quota: Quota
    /// The count (runs) or estimate (bytes) the leader saw.
    public var current: Int
    /// What the command would add (runs, or its encoded bytes).
    public var adding: Int
    /// The configured limit.
    public var limit: Int

    /// A refusal by `quota`.
    public init(quota: Quota, current: Int, adding: Int, limit: Int) {
        self.quota = quota
        self.current = current
        self.adding = adding
        self.limit = limit
    }

    /// Names the key, the current value, the limit and what to do.
    public var message: String {
        switch quota {
        case .maxPendingJobs:
            "quota exceeded: \(current) runs are pending, queued or running and this request adds \(adding), over "
                + "[quotas] max_pending_jobs (\(limit)); nothing was written: retry after some finish, or cancel some"
        case .maxStateBytes:
            "insufficient storage: the scheduler state is estimated at \(current) bytes and this request adds up to "
                + "\(adding), over [quotas] max_state_bytes (\(limit)); nothing was written: purge or cancel jobs, lower "
                + "retention, or ask the operator to raise the quota"
        }
    }

    public var description: String { message }
}
