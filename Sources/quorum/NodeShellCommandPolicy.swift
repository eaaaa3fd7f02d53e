import Executor
import HTTPAPI

/// The API's submission check over the executor's ``ShellPolicy``: the same patterns and root,
/// resolved on this node's disk. A path this node cannot resolve is judged lexically (the task
/// may run on another node, whose executor resolves it again before starting it).
struct NodeShellCommandPolicy: ShellCommandPolicy {
    let policy: ShellPolicy

    func refusal(executable: String) -> String? {
        if case .failure(let refusal) = policy.executable(executable, existence: .lexicalFallback) { return refusal.reason }
        return nil
    }

    func refusal(workdir: String) -> String? {
        if case .failure(let refusal) = policy.workingDirectory(workdir, existence: .lexicalFallback) { return refusal.reason }
        return nil
    }
}
