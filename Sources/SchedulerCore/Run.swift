/// A run's fine-grained state.
///
/// `pending → queued → running → succeeded | pending (retry backoff) | dead`, plus `cancelled`
/// and (DAG tasks) `skipped`.
public enum RunState: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Waiting for its due time (run-at or retry backoff) or, in a DAG, its dependencies.
    case pending = 0
    /// Ready, in the priority queue.
    case queued = 1
    /// Assigned to an executor (attempt n).
    case running = 2
    /// Finished successfully.
    case succeeded = 3
    /// Retries exhausted; in the dead-letter queue.
    case dead = 4
    /// Cancelled by a user (or replaced by a newer cron fire).
    case cancelled = 5
    /// A DAG task whose upstream task is dead or skipped.
    case skipped = 6

    /// Whether the run will not change again on its own (requeue can revive `dead`).
    public var isTerminal: Bool {
        switch self {
        case .pending, .queued, .running: false
        case .succeeded, .dead, .cancelled, .skipped: true
        }
    }
    /// The API's name.
    public var description: String {
        switch self {
        case .pending: "pending"
        case .queued: "queued"
        case .running: "running"
        case .succeeded: "succeeded"
        case .dead: "dead"
        case .cancelled: "cancelled"
        case .skipped: "skipped"
        }
    }
    /// The coarse status the API shows (`Pending`, `In-Progress`, `Completed`, `Failed`).
    public var status: CoarseStatus {
        switch self {
        case .pending, .queued: .pending
        case .running: .inProgress
        case .succeeded: .completed
        case .dead, .cancelled, .skipped: .failed
        }
    }
}

/// The seed API's coarse view of a job.
public enum CoarseStatus: String, Hashable, Sendable {
    /// pending, queued, scheduled, paused.
    case pending = "Pending"
    /// running (or a cron job with an active run).
    case inProgress = "In-Progress"
    /// succeeded.
    case completed = "Completed"
    /// dead, cancelled, skipped (or a cancelled cron job).
    case failed = "Failed"
}

/// How an attempt ended.
public enum AttemptOutcome: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// The task succeeded.
    case succeeded = 0
    /// The task failed (non-zero exit, non-2xx status, error).
    case failed = 1
    /// The attempt ran past its deadline (reported by the executor or expired by the leader).
    case timedOut = 2
    /// The attempt was cancelled (job cancelled, or replaced by a newer fire).
    case cancelled = 3
    /// Its executor died or was cut off.
    case lost = 4
    /// The API's name.
    public var description: String {
        switch self {
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .timedOut: "timed_out"
        case .cancelled: "cancelled"
        case .lost: "lost"
        }
    }
}

/// What an executor reports when an attempt ends.
public struct AttemptReport: Hashable, Sendable {
    /// `succeeded`, `failed`, `timedOut` or `cancelled` (a stopped attempt); executors never report `lost`.
    public var outcome: AttemptOutcome
    /// The process exit code (shell tasks).
    public var exitCode: Int32?
    /// The response status (HTTP tasks).
    public var httpStatus: Int32?
    /// The last bytes of output, as text.
    public var outputTail: String
    /// An error description for a failure.
    public var error: String?
    /// A report.
    public init(outcome: AttemptOutcome, exitCode: Int32? = nil, httpStatus: Int32? = nil,
                outputTail: String = "", error: String? = nil) {
        self.outcome = outcome
        self.exitCode = exitCode
        self.httpStatus = httpStatus
        self.outputTail = outputTail
        self.error = error
    }
    /// A success with no output.
    public static let success = AttemptReport(outcome: .succeeded)
}

/// One attempt in a job's history (the API's `/runs` items).
public struct AttemptRecord: Hashable, Sendable {
    /// The run the attempt belongs to.
    public var runID: RunID
    /// The attempt number (from 1, only grows per run).
    public var attempt: Int
    /// The executor it was assigned to.
    public var executor: ExecutorID
    /// When the run was due.
    public var scheduledAt: Timestamp
    /// When the attempt was assigned.
    public var startedAt: Timestamp
    /// When it ended, or `nil` while running.
    public var finishedAt: Timestamp?
    /// How it ended, or `nil` while running.
    public var outcome: AttemptOutcome?
    /// Exit code (shell).
    public var exitCode: Int32?
    /// Response status (HTTP).
    public var httpStatus: Int32?
    /// Output tail.
    public var outputTail: String
    /// Error text.
    public var error: String?
    /// The DAG run, for a task of a cron-scheduled DAG.
    public var dagRunID: DAGRunID?
    /// A record.
    public init(runID: RunID, attempt: Int, executor: ExecutorID, scheduledAt: Timestamp,
                startedAt: Timestamp, finishedAt: Timestamp? = nil, outcome: AttemptOutcome? = nil,
                exitCode: Int32? = nil, httpStatus: Int32? = nil, outputTail: String = "",
                error: String? = nil, dagRunID: DAGRunID? = nil) {
        self.runID = runID
        self.attempt = attempt
        self.executor = executor
        self.scheduledAt = scheduledAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.exitCode = exitCode
        self.httpStatus = httpStatus
        self.outputTail = outputTail
        self.error = error
        self.dagRunID = dagRunID
    }
}

/// Where a DAG task run sits.
public struct DAGTaskRef: Hashable, Sendable {
    /// The DAG run.
    public var dagRunID: DAGRunID
    /// The task's index in the DAG spec.
    public var taskIndex: Int
    /// A reference.
    public init(dagRunID: DAGRunID, taskIndex: Int) {
        self.dagRunID = dagRunID
        self.taskIndex = taskIndex
    }
}

/// One execution of a job or DAG task, with its attempts.
public struct Run: Hashable, Sendable {
    /// The run's id.
    public var id: RunID
    /// The job it belongs to (a once job, a cron job, or the cron job of a scheduled DAG).
    public var jobID: JobID?
    /// The DAG task it executes, if any.
    public var dagTask: DAGTaskRef?
    /// The fine state.
    public var state: RunState
    /// Priority (copied from the spec so the queue needs no lookup).
    public var priority: Int
    /// When the run was (first) due: run-at, cron scheduled time, DAG start.
    public var scheduledAt: Timestamp
    /// While `pending`: when it becomes `queued`; `nil` = waiting for DAG dependencies.
    public var dueAt: Timestamp?
    /// The latest attempt number (0 before the first assignment). Only grows.
    public var attempt: Int
    /// The attempt number before the current retry budget (requeue from the DLQ resets it).
    public var budgetBase: Int
    /// The state-wide sequence number taken when the run last became `queued` (FIFO within a
    /// priority) or `pending` with a due time; heap entries carrying another number are stale.
    public var stateSeq: UInt64
    /// The current attempt's executor (while running; kept after for display).
    public var executor: ExecutorID?
    /// The current attempt's deadline (while running).
    public var deadline: Timestamp?
    /// When the latest attempt started.
    public var startedAt: Timestamp?
    /// When the run (or its latest attempt) ended.
    public var finishedAt: Timestamp?
    /// The latest attempt's outcome.
    public var lastOutcome: AttemptOutcome?
    /// The latest failure's error (what the DLQ shows).
    public var lastError: String?
    /// When the run became dead (DLQ order and display).
    public var deadAt: Timestamp?
    /// Set when a dead DAG task was purged from the DLQ (it stays dead in its DAG run).
    public var purged: Bool
    /// Creation order (a state-wide sequence).
    public var createdSeq: UInt64
    /// Attempts of the current budget that ended `lost` and did not spend a try: counted only
    /// when the run's policy has a ``RetryPolicy/maxLostAttempts`` (under the old rule a lost
    /// attempt is a try and this stays 0). Requeue from the DLQ resets it with the budget.
    public var lostAttempts: Int = 0

    /// Attempts used in the current budget (tries and lost ones; ``attempt`` is the fencing token).
    public var attemptsInBudget: Int { attempt - budgetBase }
    /// Attempts of the current budget counted against ``RetryPolicy/maxAttempts`` (the running
    /// one included): every attempt that was not lost under a lost cap.
    public var tries: Int { attemptsInBudget - lostAttempts }
}

/// A DAG run's state.
public enum DAGState: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// Some task is not terminal.
    case running = 0
    /// Every task succeeded.
    case succeeded = 1
    /// Every task is terminal and some did not succeed.
    case failed = 2
    /// Cancelled by a user (or replaced by a newer cron fire).
    case cancelled = 3
    /// The API's name.
    public var description: String {
        switch self {
        case .running: "running"
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .cancelled: "cancelled"
        }
    }
}

/// One run of a DAG. Task runs live in the run table under ``RunID/dagTask(_:taskID:style:)``.
public struct DAGRun: Hashable, Sendable {
    /// The DAG run's id.
    public var id: DAGRunID
    /// The DAG.
    public var spec: DAGSpec
    /// The cron job that started it, if cron-scheduled.
    public var jobID: JobID?
    /// The state.
    public var state: DAGState
    /// When it was submitted or fired.
    public var createdAt: Timestamp
    /// When it became terminal.
    public var finishedAt: Timestamp?
    /// How long it is kept after finishing, in milliseconds.
    public var retentionMs: Int64
    /// Creation order.
    public var createdSeq: UInt64
    /// How many of its task runs are in the DLQ (it is not removed while any are).
    public var dlqEntries: Int
    /// How its task run ids are spelled (from the command that created it).
    public var taskRunIDStyle: TaskRunIDStyle
    /// A one-off DAG run's own `notify` rules (``SubmitDAG/notify``); empty for a scheduled DAG's
    /// run, whose rules are its cron job's.
    public var notify: [NotificationRule] = []
    /// Task run ids, by task index.
    public var taskRunIDs: [RunID] {
        spec.tasks.map { RunID.dagTask(id, taskID: $0.id, style: taskRunIDStyle) }
    }
    /// The run id of task `index` (a valid index into `spec.tasks`).
    public func taskRunID(_ index: Int) -> RunID {
        RunID.dagTask(id, taskID: spec.tasks[index].id, style: taskRunIDStyle)
    }
}

/// A cron job's own state.
public enum CronState: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// Fires on schedule.
    case scheduled = 0
    /// Not firing until resumed.
    case paused = 1
    /// Cancelled for good.
    case cancelled = 2
    /// The API's name.
    public var description: String {
        switch self {
        case .scheduled: "scheduled"
        case .paused: "paused"
        case .cancelled: "cancelled"
        }
    }
}

/// The latest run of a cron job, for display.
public struct RunSummary: Hashable, Sendable {
    /// The run (or, for a DAG job, the DAG run's id as text).
    public var runID: RunID
    /// When it was due.
    public var scheduledAt: Timestamp
    /// Its state when last updated.
    public var state: RunState
    /// A summary.
    public init(runID: RunID, scheduledAt: Timestamp, state: RunState) {
        self.runID = runID
        self.scheduledAt = scheduledAt
        self.state = state
    }
}

/// A job as stored: its spec and its mutable scheduling state.
public struct Job: Hashable, Sendable {
    /// The job's id.
    public var id: JobID
    /// What the user submitted.
    public var spec: JobSpec
    /// When it was submitted.
    public var createdAt: Timestamp
    /// Submission order (lists are newest first by this).
    public var createdSeq: UInt64
    /// When anything about it last changed.
    public var updatedAt: Timestamp
    /// A once job's run.
    public var runID: RunID?
    /// A cron job's state.
    public var cronState: CronState
    /// A cron job's next fire time (stamped by the leader); `nil` when cancelled or exhausted.
    public var nextFireAt: Timestamp?
    /// The scheduled time of the latest applied fire (a fire at or before it is a duplicate).
    public var lastFireScheduledAt: Timestamp?
    /// A cron job's latest run.
    public var lastRun: RunSummary?
    /// A cron job's runs (or DAG runs, as run ids) that are not terminal, oldest first.
    public var activeRuns: [RunID]
    /// Fires dropped because they were too late (misfire) — the missed count.
    public var missedFires: Int
    /// Fires skipped because the previous run was still active under `forbid`.
    public var forbiddenFires: Int
    /// The last attempts (newest last), at most ``SchedulerConfig/attemptHistoryLimit``.
    public var history: [AttemptRecord]
    /// When it became finished (terminal once job, cancelled cron job): retention starts here.
    public var finishedAt: Timestamp?
    /// How many of its runs are in the DLQ (it is not removed while any are).
    public var dlqEntries: Int
    /// The job's edit counter: 1 at creation, one more for every applied ``EditJob``; what
    /// `If-Match` on `PATCH /api/jobs/{id}` compares with. Pause, resume, fires and runs do not
    /// change it: it versions what the user can edit, not the job's progress.
    public var version: Int = 1
}
