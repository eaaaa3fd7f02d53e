/// What applying a command changed, in order: for SSE, metrics and notifications. The shell
/// acts on ``SchedulerEvent/startAttempt(runID:attempt:executor:incarnation:)`` and
/// ``SchedulerEvent/stopAttempt(runID:attempt:executor:)``, in the order they come.
public enum SchedulerEvent: Hashable, Sendable {
    /// A job was created.
    case jobSubmitted(JobID)
    /// A DAG run was created.
    case dagSubmitted(DAGRunID)
    /// A submit repeated an idempotency key within its window; nothing changed. Carries the
    /// first submit's id (a job id, or a DAG run id as text).
    case duplicateSubmit(key: String, existingID: String)
    /// A job's own state changed (cron state, next fire) or it was removed.
    case jobChanged(JobID)
    /// A run changed state.
    case runChanged(RunID, RunState, attempt: Int)
    /// An attempt ended with this outcome.
    case attemptFinished(RunID, attempt: Int, AttemptOutcome)
    /// A DAG run changed state.
    case dagChanged(DAGRunID, DAGState)
    /// An attempt was assigned: its executor should start it — when it applies the entry live
    /// (never from a replay of its own log) and only if no later event of the same applied batch
    /// stops it again (a node catching up can apply the assignment and its expiry together).
    /// `incarnation` is the executor's data directory incarnation the assignment named (0 = none).
    case startAttempt(runID: RunID, attempt: Int, executor: ExecutorID, incarnation: UInt64)
    /// A running attempt was cancelled, replaced or expired: its executor should stop it.
    case stopAttempt(runID: RunID, attempt: Int, executor: ExecutorID)
    /// A cron fire did not start a run.
    case fireSkipped(JobID, scheduledAt: Timestamp, reason: FireSkipReason)
    /// A cron fire carrying its folded range (``FireCron/missedRange``) applied: these earlier
    /// due times were never fired (they are in ``Job/missedFires``); notifies `missed` once.
    case firesFolded(JobID, MissedFires)
    /// A finish or expire for an attempt that is not current; nothing changed.
    case staleReport(RunID, attempt: Int)
    /// A job or DAG run (`isDAG`) was removed after its retention, its history limit or a
    /// purge. `isDAG` says which, since the id is no longer in the state to look up.
    case removed(id: String, isDAG: Bool = false)
    /// The command was refused; nothing changed.
    case rejected(CommandRejection)
}

/// Why a fire did not start a run.
public enum FireSkipReason: UInt8, Hashable, Sendable {
    /// `forbid` and a run was still active.
    case forbidden = 0
    /// Later than the starting deadline under `skip` (or not the latest under `run_once`).
    case missed = 1
}

/// Why a command was refused. The API layer maps `code` to HTTP.
public struct CommandRejection: Hashable, Sendable, CustomStringConvertible {
    /// The class of refusal.
    public enum Code: UInt8, Hashable, Sendable {
        /// The id is unknown (404).
        case notFound = 0
        /// The request contradicts the state or an earlier request (409).
        case conflict = 1
        /// A bad value (422).
        case invalid = 2
        /// The job is not at the version the request expected (`If-Match`, 412).
        case preconditionFailed = 3
    }
    /// The class of refusal.
    public var code: Code
    /// What is wrong and what to do.
    public var message: String
    /// For a refused batch: the index of the command that caused the refusal.
    public var batchIndex: Int?
    /// A rejection.
    public init(_ code: Code, _ message: String, batchIndex: Int? = nil) {
        self.code = code
        self.message = message
        self.batchIndex = batchIndex
    }
    /// The message.
    public var description: String { message }
}
