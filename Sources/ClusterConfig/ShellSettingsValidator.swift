/// The checks on `[executor] shell_allow`, `workdir_root` and `run_as` (docs/configuration.md).
///
/// The empty-list rule: `allow_shell = true` with no `shell_allow` is an error, not "allow
/// everything": an operator who means to allow a shell or an interpreter (which allows any
/// program) has to write it down (docs/security.md says what that gives away).
enum ShellSettingsValidator {
    static func validate(_ executor: ClusterConfig.Executor, fail: (String, String) -> ConfigError) throws(ConfigError) {
        if executor.allowShell && executor.shellAllow.isEmpty {
            throw fail("executor.shell_allow", "is empty while executor.allow_shell = true: list the programs shell tasks may run, "
                + "e.g. shell_allow = [\"/usr/bin/*\", \"/opt/jobs/run-*\"], or set allow_shell = false")
        }
        for (index, pattern) in executor.shellAllow.enumerated() {
            let key = "executor.shell_allow[\(index)]"
            guard pattern.hasPrefix("/") else {
                throw fail(key, "\"\(pattern)\" is not absolute: write a pattern of absolute paths such as \"/usr/bin/*\"")
            }
            guard !pattern.hasSuffix("/"), !pattern.utf8.contains(0) else {
                throw fail(key, "\"\(pattern)\" names a directory: add a file pattern, e.g. \"\(pattern.hasSuffix("/") ? pattern : pattern + "/")*\"")
            }
        }
        if let root = executor.workdirRoot, root.isEmpty {
            throw fail("executor.workdir_root", "is empty: give a directory, or remove the key")
        }
        if let user = executor.runAs {
            guard !user.isEmpty, !user.contains(":"), !user.contains("/"), !user.utf8.contains(0) else {
                throw fail("executor.run_as", "\"\(user)\" is not a user name: give an unprivileged user's name, e.g. \"quorum-task\"")
            }
        }
    }
}
