#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The account shell tasks run as (`[executor] run_as`): its uid, primary gid and home. The
/// task gets this uid and gid with no supplementary groups, so it reads only what that user may
/// read — not the node's keys (0600) or data directory (0700).
///
/// The switch is made by util-linux's `setpriv`, spawned like any other task, which drops the
/// groups and the user and then executes the task — not by the node's own spawn. Why: on Linux
/// swift-subprocess switches users in a raw `clone3` child of this multithreaded process, where
/// glibc's `setgroups`/`setgid`/`setuid` still believe the parent's threads exist and try to
/// stop them all; if any thread was being created or was exiting at that instant, the child
/// waited forever before `exec` and the attempt stayed `running` with nothing logged (seen as a
/// rare `RunAsClusterTests` timeout; `RunAsTests/startsWhileThreadsComeAndGo` reproduces it).
/// `setpriv` is a fresh single-threaded process, where those calls are safe.
public struct RunAsAccount: Sendable, Hashable {
    /// The user name as configured.
    public var name: String
    /// Its uid.
    public var userID: UInt32
    /// Its primary group.
    public var groupID: UInt32
    /// Its home directory (the task's `HOME`); `/` when the account has none or it does not exist.
    public var home: String
    /// The `setpriv` program that switches to this account and then runs the task.
    public var switcher: String

    /// Where `setpriv` is looked for, in order (util-linux installs it in `/usr/bin`).
    public static let switcherCandidates = ["/usr/bin/setpriv", "/bin/setpriv"]

    /// An account; ``lookup(_:processUserID:switcherCandidates:)`` finds a real one.
    public init(name: String, userID: UInt32, groupID: UInt32, home: String, switcher: String = "/usr/bin/setpriv") {
        self.name = name
        self.userID = userID
        self.groupID = groupID
        self.home = home
        self.switcher = switcher
    }

    /// The argv that runs `program` with `arguments` as this account: its uid and primary gid,
    /// no supplementary groups. `program` is found on the task's `PATH` when it has no `/`.
    public func switchedArgv(program: String, arguments: [String]) -> [String] {
        [switcher, "--reuid=\(userID)", "--regid=\(groupID)", "--clear-groups", "--", program] + arguments
    }

    /// The account named `name` from the user database, checked for use by this process: it
    /// must exist, must not be root or the node's own user, and this process must be root (only
    /// root can switch users). Each failure says what to do (without naming the key: callers do).
    /// It also needs `setpriv` (util-linux) at one of `switcherCandidates`: see the type's
    /// documentation for why the node does not switch users itself.
    public static func lookup(_ name: String, processUserID: UInt32 = getuid(),
                              switcherCandidates: [String] = RunAsAccount.switcherCandidates) -> Result<RunAsAccount, ShellPolicyRefusal> {
        guard processUserID == 0 else {
            return .failure(ShellPolicyRefusal(
                "\(quoted(name)) needs the node to run as root to switch users, but it runs as uid "
                + "\(processUserID): start it as root (systemd User=root), or remove run_as"))
        }
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        let status = getpwnam_r(name, &entry, &buffer, buffer.count, &found)
        guard status == 0, let found else {
            return .failure(ShellPolicyRefusal(
                "there is no user \(quoted(name)) on this machine: create it (useradd --system "
                + "--no-create-home \(name)) or name an existing unprivileged user"))
        }
        let userID = found.pointee.pw_uid
        guard userID != 0, userID != processUserID else {
            return .failure(ShellPolicyRefusal(
                "\(quoted(name)) is uid \(userID), the node's own or root's: tasks would keep every "
                + "privilege of the node; name an unprivileged user"))
        }
        guard let switcher = switcherCandidates.first(where: { access($0, X_OK) == 0 }) else {
            return .failure(ShellPolicyRefusal(
                "switching to \(quoted(name)) needs util-linux's setpriv, which is not at "
                + switcherCandidates.joined(separator: " or ") + ": install util-linux (apt-get install util-linux), or remove run_as"))
        }
        // A system user often has a home that was never created (useradd --no-create-home).
        let home = found.pointee.pw_dir.map { String(cString: $0) } ?? ""
        return .success(RunAsAccount(name: name, userID: userID, groupID: found.pointee.pw_gid,
                                     home: !home.isEmpty && access(home, F_OK) == 0 ? home : "/", switcher: switcher))
    }
}
