import ClusterConfig
import Executor
import HTTPAPI
import NodeRuntime
import SchedulerCore
import SchedulerPlanning

/// The leader's check of the shell tasks a command would create (issue #13: a shell task
/// outside the policy is refused at submission "on the leader"): the node that took the request
/// checked them with its copy of the cluster file (``ShellCommandPolicy`` in the API); the
/// leader checks every command it proposes — followers' forwards included — with its own, so a
/// follower with an outdated file cannot get past the policy the leader runs. The executor still
/// checks again before it starts a program.
enum LeaderShellAdmission {
    /// The check for `config`'s `[executor]` policy.
    static func admission(for config: NodeRuntimeConfig) -> QuorumNode.Admission {
        let allowShell = config.cluster.executor.allowShell
        let policy = NodeShellCommandPolicy(policy: ShellPolicy(allowedExecutables: config.cluster.executor.shellAllow,
                                                                 workdirRoot: config.workdirRoot))
        return { command in check(command, allowShell: allowShell, policy: policy) }
    }

    /// The first shell task of `command` that `allowShell` and `policy` refuse, as the field the
    /// API names (`task.command[0]`, `tasks[2].task.workdir`, `jobs[3].task.kind`).
    static func check(_ command: Command, allowShell: Bool, policy: any ShellCommandPolicy) -> UnstampedCommand.ResolveError? {
        for location in ShellTaskLocation.all(in: command) {
            func refused(_ field: String, _ message: String) -> UnstampedCommand.ResolveError {
                UnstampedCommand.ResolveError(batchIndex: location.batchIndex, field: location.field + "." + field, message: message)
            }
            guard allowShell else {
                return refused("kind", "shell tasks are disabled on this cluster ([executor] allow_shell = false on the leader): "
                    + "use an http, sleep or noop task, or ask the operator to allow shell tasks")
            }
            if let program = location.task.argv.first, let why = policy.refusal(executable: program) {
                return refused("command[0]", why)
            }
            if let workdir = location.task.workingDirectory, let why = policy.refusal(workdir: workdir) {
                return refused("workdir", why)
            }
        }
        return nil
    }
}
