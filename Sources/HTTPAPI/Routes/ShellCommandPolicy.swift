/// What the node allows shell tasks to run (`[executor] shell_allow`, `workdir_root`), as the
/// API asks it at submission: a shell job or DAG task it refuses is a 422 naming the field.
///
/// The API only asks; the answer needs the file system (realpath), so the `quorum` executable
/// implements this over the executor's policy, and tests pass a table. The executor checks
/// again before it starts the program, so this check is for a clear early answer, not the guard.
public protocol ShellCommandPolicy: Sendable {
    /// `nil` when shell tasks may run `executable` (a task's `command[0]`), else why not: a
    /// sentence saying what to change.
    func refusal(executable: String) -> String?
    /// `nil` when a shell task may use `workdir` as its working directory, else why not.
    func refusal(workdir: String) -> String?
}
