import SchedulerCore

/// Where a client's command holds shell tasks, named as the API names the fields — so the
/// leader can check them against the executor policy (`[executor] shell_allow`, `workdir_root`)
/// before it proposes anything, whichever node took the request (issue #13: "validated on the
/// leader"). Pure.
public struct ShellTaskLocation: Hashable, Sendable {
    /// The submit's index within a batch (`jobs[i]`), `nil` for a single command.
    public var batchIndex: Int?
    /// The field path of the task within its request (`task`, `tasks[2].task`).
    public var field: String
    /// The task.
    public var task: ShellTask

    /// A location.
    public init(batchIndex: Int?, field: String, task: ShellTask) {
        self.batchIndex = batchIndex
        self.field = field
        self.task = task
    }

    /// Every shell task `command` would create or change: a job's task, a scheduled or one-off
    /// DAG's task tasks, an edit's new task, each inside batches and idempotency wrappers.
    public static func all(in command: Command) -> [ShellTaskLocation] {
        locations(in: command, batchIndex: nil)
    }

    private static func locations(in command: Command, batchIndex: Int?) -> [ShellTaskLocation] {
        switch command {
        case .submitJob(let submit): return of(submit.spec, batchIndex: batchIndex)
        case .editJob(let edit): return of(edit.spec, batchIndex: batchIndex)
        case .submitDAG(let submit): return of(submit.spec, batchIndex: batchIndex)
        case .batch(let commands):
            return commands.enumerated().flatMap { index, inner in locations(in: inner, batchIndex: index) }
        case .idempotent(_, let inner): return locations(in: inner, batchIndex: batchIndex)
        case .fireCron, .assignAttempt, .finishAttempt, .expireAttempt, .cancelJob, .cancelDAG, .pause, .resume, .trigger,
             .requeue, .purge, .tick, .notificationSettings, .notificationOutcomes,
             .recordMemberFormats:
            return []
        }
    }

    private static func of(_ spec: JobSpec, batchIndex: Int?) -> [ShellTaskLocation] {
        var found: [ShellTaskLocation] = []
        if case .shell(let shell) = spec.task { found.append(ShellTaskLocation(batchIndex: batchIndex, field: "task", task: shell)) }
        if let dag = spec.dag { found += of(dag, batchIndex: batchIndex) }
        return found
    }

    private static func of(_ dag: DAGSpec, batchIndex: Int?) -> [ShellTaskLocation] {
        dag.tasks.enumerated().compactMap { index, task in
            guard case .shell(let shell) = task.task else { return nil }
            return ShellTaskLocation(batchIndex: batchIndex, field: "tasks[\(index)].task", task: shell)
        }
    }
}
