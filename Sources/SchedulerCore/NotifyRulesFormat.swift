// Which commands and states carry `notify` rules (command format 10). Unlike the earlier format
// steps there is no downgrade: the gate refuses them while an older build is a member.

extension Command {
    /// Whether this (unbatched) command is a job submit whose spec has rules: it is encoded
    /// under entry tag 24.
    var carriesNotifyRulesInSubmit: Bool {
        if case .submitJob(let submit) = self { return !submit.spec.notify.isEmpty }
        return false
    }

    /// Whether this (unbatched) command is a job edit whose spec has rules: it is encoded with
    /// entry tag 25 (never under the placement wrapper, tag 23).
    var isEditWithNotifyRules: Bool {
        if case .editJob(let edit) = self { return !edit.spec.notify.isEmpty }
        return false
    }

    /// Whether this (unbatched) command is a job submit or edit whose spec has rules: it needs
    /// ``CommandCodec/notifyRules``.
    public var carriesNotifyRules: Bool {
        switch self {
        case .submitJob(let submit): !submit.spec.notify.isEmpty
        case .editJob(let edit): !edit.spec.notify.isEmpty
        default: false
        }
    }

    /// Whether this (unbatched) command is a one-off DAG submit with rules: it is encoded under
    /// entry tag 28 and needs ``CommandCodec/dagNotifyRules``.
    public var carriesDAGNotifyRules: Bool {
        if case .submitDAG(let submit) = self { return !submit.notify.isEmpty }
        return false
    }

    /// Whether this command, or any command of this batch, carries rules.
    var containsNotifyRules: Bool {
        if case .batch(let commands) = self { return commands.contains { $0.carriesNotifyRules || $0.carriesDAGNotifyRules } }
        return carriesNotifyRules || carriesDAGNotifyRules
    }
}

extension SchedulerState {
    /// Whether any job has `notify` rules: such a state needs snapshot version 8
    /// (``SchedulerSnapshot/versionWithNotifications``). O(jobs).
    var hasNotifyRules: Bool { jobs.contains { !$0.spec.notify.isEmpty } }

    /// Whether any DAG run has its own `notify` rules: such a state needs snapshot version 9
    /// (``SchedulerSnapshot/versionWithDAGNotifyRules``). O(DAG runs).
    var hasDAGNotifyRules: Bool { dags.contains { !$0.notify.isEmpty } }
}
