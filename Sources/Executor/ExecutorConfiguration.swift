import EgressPolicy

/// How a node's ``AttemptRunner`` behaves; from the `[executor]` section of the cluster config.
public struct ExecutorConfiguration: Sendable, Hashable {
    /// Whether shell tasks may run on this node (`executor.allow_shell`). Off by default: a shell
    /// task runs any program as the node's user.
    public var allowShell: Bool
    /// Which programs and directories shell tasks may use (`shell_allow`, `workdir_root`),
    /// checked again right before each start. `nil`: any program, bare names looked up in `PATH`
    /// — only for embedding and tests; a node always passes its config's policy, and the config
    /// refuses `allow_shell = true` without `shell_allow`.
    public var shellPolicy: ShellPolicy?
    /// The account shell tasks run as (`run_as`), with no supplementary groups; `nil`: the node's own.
    public var runAs: RunAsAccount?
    /// The most bytes of output (or response body) kept per attempt; 64 KiB by default.
    public var outputTailLimit: Int
    /// How long a shell task's process group has between SIGTERM and SIGKILL when it is stopped
    /// (timeout or cancellation); 5 s by default.
    public var killGracePeriod: Duration
    /// Which addresses http tasks may connect to (`executor.http_deny` / `http_allow`); by
    /// default the built-in deny list (loopback, private, link-local incl. cloud metadata, …).
    public var httpPolicy: AddressPolicy

    /// Creates a configuration. `outputTailLimit` must not be negative and `killGracePeriod`
    /// must not be negative.
    public init(allowShell: Bool = false, shellPolicy: ShellPolicy? = nil, runAs: RunAsAccount? = nil,
                outputTailLimit: Int = 64 * 1024, killGracePeriod: Duration = .seconds(5),
                httpPolicy: AddressPolicy = AddressPolicy()) {
        precondition(outputTailLimit >= 0, "outputTailLimit must not be negative, got \(outputTailLimit)")
        precondition(killGracePeriod >= .zero, "killGracePeriod must not be negative, got \(killGracePeriod)")
        self.allowShell = allowShell
        self.shellPolicy = shellPolicy
        self.runAs = runAs
        self.outputTailLimit = outputTailLimit
        self.killGracePeriod = killGracePeriod
        self.httpPolicy = httpPolicy
    }
}
