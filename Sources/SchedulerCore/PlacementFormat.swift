// Which commands and states carry a placement (`constraints`, `max_per_node`: command format 9).
// There is no older spelling: dropping a constraint would run a GPU job on any node, so during
// a rolling upgrade the format gate refuses such a write (503) instead of downgrading it.

extension DAGSpec {
    /// Whether any task has a placement.
    var hasPlacement: Bool { tasks.contains { !$0.placement.isNone } }
}

extension JobSpec {
    /// Whether the job (or a scheduled DAG's task) has a placement.
    var hasPlacement: Bool { !placement.isNone || (dag?.hasPlacement ?? false) }
}

extension Command {
    /// Whether this (unbatched) command is a job or DAG submit or a job edit whose specs carry a
    /// placement: it is encoded under entry tag 23 and needs ``CommandCodec/placement``.
    public var carriesPlacement: Bool {
        switch self {
        case .submitJob(let submit): submit.spec.hasPlacement
        case .submitDAG(let submit): submit.spec.hasPlacement
        case .editJob(let edit): edit.spec.hasPlacement
        default: false
        }
    }
}

extension SchedulerState {
    /// Whether any job or DAG run carries a placement: such a state needs snapshot version
    /// ``SchedulerSnapshot/versionWithPlacement``. O(jobs + DAG runs).
    var hasPlacement: Bool { jobs.contains { $0.spec.hasPlacement } || dags.contains { $0.spec.hasPlacement } }
}
