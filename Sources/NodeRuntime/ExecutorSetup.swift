import ClusterConfig
import Executor

/// The executor's configuration from a node's config: shell permission, the shell policy
/// (`shell_allow`, `workdir_root`) and the `run_as` account, looked up once at start.
enum ExecutorSetup {
    /// Why the executor could not be set up; the node does not start.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The configuration, or a `Failure` naming the key when `run_as` cannot be used here
    /// (unknown user, root or the node's own user, or the node is not root).
    static func configuration(_ config: NodeRuntimeConfig, killGrace: Duration) throws(Failure) -> ExecutorConfiguration {
        let executor = config.cluster.executor
        var runAs: RunAsAccount?
        if let name = executor.runAs {
            switch RunAsAccount.lookup(name) {
            case .success(let account): runAs = account
            case .failure(let refusal): throw Failure(description: "[executor] run_as: \(refusal.reason)")
            }
        }
        // Without allow_shell the policy is never consulted; the validator requires
        // shell_allow whenever it is on.
        return ExecutorConfiguration(
            allowShell: executor.allowShell,
            shellPolicy: ShellPolicy(allowedExecutables: executor.shellAllow, workdirRoot: config.workdirRoot),
            runAs: runAs, killGracePeriod: killGrace, httpPolicy: executor.httpAddressPolicy)
    }
}
