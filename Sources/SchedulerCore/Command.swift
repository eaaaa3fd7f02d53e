/// A state-machine command: the payload of one Raft log entry (with its ``StampedCommand``
/// timestamp). Every id and every computed time (cron next fire, attempt deadline) is stamped by
/// the leader, so applying is a pure function of the state and the command.
public indirect enum Command: Hashable, Sendable {
    /// Submit a once or cron job (a cron job may carry a DAG).
    case submitJob(SubmitJob)
    /// Submit one DAG run.
    case submitDAG(SubmitDAG)
    /// A cron job's fire for `scheduledAt`; applied at most once per (job, scheduled time).
    case fireCron(FireCron)
    /// Start attempt `attempt` of a queued run on an executor.
    case assignAttempt(AssignAttempt)
    /// An executor's report that an attempt ended.
    case finishAttempt(FinishAttempt)
    /// The leader's verdict that an attempt is lost or past its deadline.
    case expireAttempt(ExpireAttempt)
    /// Cancel a job: a once job's run, or a cron job and its active runs.
    case cancelJob(JobID)
    /// Cancel a DAG run.
    case cancelDAG(DAGRunID)
    /// Pause a cron job.
    case pause(JobID)
    /// Resume a paused cron job.
    case resume(JobID)
    /// Run a job now (a new run of a cron job, or queue a pending once job early).
    case trigger(TriggerJob)
    /// Give a dead run a fresh attempt budget and queue it.
    case requeue(RunID)
    /// Remove a dead run from the DLQ.
    case purge(RunID)
    /// Advance time only (promotes due runs, expires retained data). The leader proposes it
    /// when the next due instant passes and nothing else is being proposed.
    case tick
    /// Many commands in one log entry, applied in order at the same timestamp. Not nested.
    case batch([Command])
    /// Replace an existing job's spec (`PATCH /api/jobs/{id}`); needs command format 6.
    case editJob(EditJob)
    /// A ``trigger(_:)`` or ``requeue(_:)`` carrying the client's `Idempotency-Key`: a repeat
    /// within the window is answered from the idempotency table and changes nothing. Needs
    /// command format 6. Nothing else may be wrapped (apply refuses it).
    case idempotent(IdempotencyStamp, Command)
    /// The cluster's `[notify]` defaults and pending cap, stamped by the leader when the
    /// replicated ones differ from its file (apply never reads the file). Needs command format
    /// ``CommandCodec/notifications``.
    case notificationSettings(NotificationSettings)
    /// The leader's delivery outcomes of one round (delivered, failed after N tries, or retry at
    /// a time): outcomes, not each try. Needs command format ``CommandCodec/notifications``.
    case notificationOutcomes([NotificationOutcome])
    /// The leader records the command format members reported (``MemberFormat``), so that a
    /// later leader counts a member it has not heard from (one that is down) as at least that
    /// rather than as the oldest build. Needs command format ``CommandCodec/memberFormatRecords``.
    case recordMemberFormats([MemberFormat])
}

/// A command with the proposer's clock reading; the unit the log carries.
public struct StampedCommand: Hashable, Sendable {
    /// The proposer's time. The state machine applies at `max(this, last applied time)`.
    public var at: Timestamp
    /// The command.
    public var command: Command
    /// A stamped command.
    public init(at: Timestamp, command: Command) {
        self.at = at
        self.command = command
    }
}

/// Idempotency data the leader stamps into a submit.
public struct IdempotencyStamp: Hashable, Sendable {
    /// The client's `Idempotency-Key`.
    public var key: String
    /// A digest of the request body (the leader computes it); a reused key with another digest
    /// is a conflict.
    public var bodyDigest: UInt64
    /// A stamp.
    public init(key: String, bodyDigest: UInt64) {
        self.key = key
        self.bodyDigest = bodyDigest
    }
}

/// Submit a job.
public struct SubmitJob: Hashable, Sendable {
    /// The new job's id.
    public var jobID: JobID
    /// The spec.
    public var spec: JobSpec
    /// Once job: its run's id. Ignored for cron jobs.
    public var runID: RunID
    /// Cron job: the first fire time (computed by the leader). Ignored for once jobs.
    public var firstFireAt: Timestamp?
    /// Idempotency data, if the client sent a key.
    public var idempotency: IdempotencyStamp?
    /// A submit.
    public init(jobID: JobID, spec: JobSpec, runID: RunID, firstFireAt: Timestamp? = nil,
                idempotency: IdempotencyStamp? = nil) {
        self.jobID = jobID
        self.spec = spec
        self.runID = runID
        self.firstFireAt = firstFireAt
        self.idempotency = idempotency
    }
}

/// Submit a DAG run.
public struct SubmitDAG: Hashable, Sendable {
    /// The new DAG run's id (task run ids derive from it).
    public var dagRunID: DAGRunID
    /// The validated DAG.
    public var spec: DAGSpec
    /// Retention after it finishes, in milliseconds (``JobSpec/clusterDefaultRetentionMs`` until
    /// the leader stamps the cluster default).
    public var retentionMs: Int64
    /// Idempotency data, if the client sent a key.
    public var idempotency: IdempotencyStamp?
    /// How the task run ids are spelled: ``TaskRunIDStyle/dot`` for new commands; entries
    /// written before URL-safe ids decode as ``TaskRunIDStyle/slash``.
    public var taskRunIDStyle: TaskRunIDStyle
    /// Who is told about this DAG run's events (`dag_succeeded`, `dag_failed`, its tasks' run
    /// events), beside the cluster's `[notify]` defaults. A submit with rules is encoded under
    /// entry tag 28 and needs ``CommandCodec/dagNotifyRules``.
    public var notify: [NotificationRule]
    /// A DAG submit.
    public init(dagRunID: DAGRunID, spec: DAGSpec, retentionMs: Int64 = JobSpec.defaultRetentionMs,
                idempotency: IdempotencyStamp? = nil, taskRunIDStyle: TaskRunIDStyle = .dot, notify: [NotificationRule] = []) {
        self.notify = notify
        self.dagRunID = dagRunID
        self.spec = spec
        self.retentionMs = retentionMs
        self.idempotency = idempotency
        self.taskRunIDStyle = taskRunIDStyle
    }
}

/// A cron fire, computed by the leader.
public struct FireCron: Hashable, Sendable {
    /// The cron job.
    public var jobID: JobID
    /// The schedule time this fire is for (the latest due time the leader found).
    public var scheduledAt: Timestamp
    /// The fire time after this one (`nil` when the schedule has no more).
    public var nextFireAt: Timestamp?
    /// The new run's id (for a DAG job, the new DAG run's id is the same text).
    public var runID: RunID
    /// Earlier due times the leader collapsed into this fire (never fired); counted as missed.
    public var missedBefore: Int
    /// For a DAG job: how the new DAG run spells its task run ids (see ``SubmitDAG/taskRunIDStyle``).
    public var taskRunIDStyle: TaskRunIDStyle
    /// The first and last of the ``missedBefore`` folded due times, stamped by a leader whose
    /// members all decode it (entry tag 31, ``CommandCodec/missedFireNotices``): apply then
    /// derives one `missed` notification for them. `nil` (the older spelling, tags 3 and 17)
    /// notifies nothing for the folded fires. Only meaningful with `missedBefore > 0`.
    public var missedRange: MissedFireRange?
    /// A fire.
    public init(jobID: JobID, scheduledAt: Timestamp, nextFireAt: Timestamp?, runID: RunID,
                missedBefore: Int = 0, taskRunIDStyle: TaskRunIDStyle = .dot, missedRange: MissedFireRange? = nil) {
        self.missedRange = missedRange
        self.jobID = jobID
        self.scheduledAt = scheduledAt
        self.nextFireAt = nextFireAt
        self.runID = runID
        self.missedBefore = missedBefore
        self.taskRunIDStyle = taskRunIDStyle
    }
}

/// Assign a queued run's next attempt.
public struct AssignAttempt: Hashable, Sendable {
    /// The run.
    public var runID: RunID
    /// The executor node.
    public var executor: ExecutorID
    /// Must be the run's current attempt + 1.
    public var attempt: Int
    /// When the attempt times out (the leader adds the task's timeout to its clock).
    public var deadline: Timestamp
    /// The executor incarnation the leader knew when it assigned (entry tag 30,
    /// ``CommandCodec/assignmentIncarnations``); 0 = not named (an older leader, or an older
    /// member in the cluster). From format 15 (``CommandCodec/assignmentProcesses``) it names the
    /// executor's **process** (from its lease probes); from 12 to 14 its data directory. The
    /// executor starts a named attempt only when the name is its own: a restarted process never
    /// starts what was given to the one before it, nor a wiped node's new directory what was
    /// given to its predecessor, whatever the clocks say (issue #15; `NodeCore.ExecutorOrders`).
    public var executorIncarnation: UInt64
    /// An assignment.
    public init(runID: RunID, executor: ExecutorID, attempt: Int, deadline: Timestamp, executorIncarnation: UInt64 = 0) {
        self.runID = runID
        self.executor = executor
        self.attempt = attempt
        self.deadline = deadline
        self.executorIncarnation = executorIncarnation
    }
}

/// An attempt's end as reported by its executor.
public struct FinishAttempt: Hashable, Sendable {
    /// The run.
    public var runID: RunID
    /// The attempt that ended (fenced: it must be the run's current running attempt).
    public var attempt: Int
    /// What happened.
    public var report: AttemptReport
    /// A finish.
    public init(runID: RunID, attempt: Int, report: AttemptReport) {
        self.runID = runID
        self.attempt = attempt
        self.report = report
    }
}

/// Why the leader gives up on an attempt.
public enum ExpiryReason: UInt8, Hashable, Sendable {
    /// The executor node is gone (outcome `lost`).
    case executorLost = 0
    /// The attempt's deadline passed without a report (outcome `timed_out`).
    case deadlinePassed = 1
}

/// The leader's verdict on an attempt.
public struct ExpireAttempt: Hashable, Sendable {
    /// The run.
    public var runID: RunID
    /// The attempt (fenced like a finish).
    public var attempt: Int
    /// Why.
    public var reason: ExpiryReason
    /// An expiry.
    public init(runID: RunID, attempt: Int, reason: ExpiryReason) {
        self.runID = runID
        self.attempt = attempt
        self.reason = reason
    }
}

/// Run a job now.
public struct TriggerJob: Hashable, Sendable {
    /// The job.
    public var jobID: JobID
    /// The new run's id (cron jobs; DAG jobs use it as the DAG run id). Ignored for once jobs.
    public var runID: RunID
    /// For a DAG job: how the new DAG run spells its task run ids (see ``SubmitDAG/taskRunIDStyle``).
    public var taskRunIDStyle: TaskRunIDStyle
    /// A trigger.
    public init(jobID: JobID, runID: RunID, taskRunIDStyle: TaskRunIDStyle = .dot) {
        self.jobID = jobID
        self.runID = runID
        self.taskRunIDStyle = taskRunIDStyle
    }
}

/// Replace a job's spec, as `PATCH /api/jobs/{id}` asked. The API merges the patch onto the spec
/// of version ``expectedVersion`` and the leader stamps ``nextFireAt``, so apply only compares
/// versions and installs values (it reads no clock and evaluates no cron expression).
public struct EditJob: Hashable, Sendable {
    /// The job.
    public var jobID: JobID
    /// The whole new spec (same kind, same DAG presence, a once job's same `runAt`).
    public var spec: JobSpec
    /// The job version the spec was merged onto; apply refuses the edit
    /// (``CommandRejection/Code/preconditionFailed``) when the job is at another version, so a
    /// concurrent edit is never silently undone field by field.
    public var expectedVersion: Int
    /// A cron job's new next fire, computed by the leader from the new schedule strictly after
    /// its stamp; `nil` keeps the current one (the schedule and zone did not change).
    public var nextFireAt: Timestamp?
    /// An edit.
    public init(jobID: JobID, spec: JobSpec, expectedVersion: Int, nextFireAt: Timestamp? = nil) {
        self.jobID = jobID
        self.spec = spec
        self.expectedVersion = expectedVersion
        self.nextFireAt = nextFireAt
    }
}
