import SchedulerCore

/// One attempt of one run, as the node hands it to an ``AttemptRunner``.
///
/// The task is the replicated one (`SchedulerCore.TaskSpec`), run as it is: there is one task
/// type in Quorum. What the log does not say — the resolved timeout here, the kill grace and
/// output cap in ``ExecutorConfiguration`` — is the executor's input, never a second copy of
/// the task.
public struct ExecutionRequest: Sendable, Hashable {
    /// The run this attempt belongs to; used in logs and exported to shell tasks as
    /// `QUORUM_RUN_ID`. Never interpreted.
    public var runID: RunID
    /// The attempt number, counting from 1; exported to shell tasks as `QUORUM_ATTEMPT`.
    public var attempt: Int
    /// What to run: the task exactly as it was replicated.
    public var task: TaskSpec
    /// How long the attempt may run before it is stopped and reported `timedOut`.
    /// Must be positive.
    public var timeout: Duration

    /// Creates a request for one attempt.
    public init(runID: RunID, attempt: Int, task: TaskSpec, timeout: Duration) {
        self.runID = runID
        self.attempt = attempt
        self.task = task
        self.timeout = timeout
    }
}

extension TaskSpec {
    /// The kind's name as the API spells it (`noop`, `sleep`, `shell`, `http`): for logs.
    var kindName: String {
        switch self {
        case .noop: "noop"
        case .sleep: "sleep"
        case .shell: "shell"
        case .http: "http"
        }
    }
}
