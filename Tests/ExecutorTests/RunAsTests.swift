import Executor
import Foundation
import SchedulerCore
import Testing

/// Real processes, real users: needs root to create the test user and to switch to it.
@Suite("run_as: shell tasks run as an unprivileged user and cannot read the node's secrets")
struct RunAsTests {
    static let userName = "quorum-task-test"

    /// Creates the test user if it is missing (`useradd --system --no-create-home`).
    private static func ensureUser() throws -> RunAsAccount {
        if case .success(let account) = RunAsAccount.lookup(userName) { return account }
        let useradd = Process()
        useradd.executableURL = URL(fileURLWithPath: "/usr/sbin/useradd")
        useradd.arguments = ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", userName]
        try useradd.run()
        useradd.waitUntilExit()
        return try RunAsAccount.lookup(userName).get()
    }

    /// A node-like layout: `certs/n1.key` (0600) and `data/` (0700) under a searchable directory.
    private static func makeNodeFiles() throws -> (root: String, key: String, data: String) {
        let made = try makeTemporaryDirectory()
        let root = try #require(ShellPolicy.realPath(made.path))
        let files = FileManager.default
        try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root)
        try files.createDirectory(atPath: "\(root)/certs", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try files.createDirectory(atPath: "\(root)/data", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try "PRIVATE KEY MATERIAL\n".write(toFile: "\(root)/certs/n1.key", atomically: true, encoding: .utf8)
        try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: "\(root)/certs/n1.key")
        try "wal\n".write(toFile: "\(root)/data/wal-0001", atomically: true, encoding: .utf8)
        return (root, "\(root)/certs/n1.key", "\(root)/data")
    }

    private func run(_ configuration: ExecutorConfiguration, _ argv: [String]) async -> ExecutionResult {
        await AttemptRunner(configuration: configuration, logger: silentLogger)
            .run(ExecutionRequest(runID: "run-1", attempt: 1, task: .shell(ShellTask(argv: argv)), timeout: .seconds(20)))
    }

    @Test("as run_as a task cannot read a 0600 key or list a 0700 data directory; as the node it can")
    func secretsUnreadable() async throws {
        guard getuid() == 0 else {
            print("RunAsTests skipped: not root (uid \(getuid())), so no user can be created or switched to")
            return
        }
        let account = try Self.ensureUser()
        let node = try Self.makeNodeFiles()
        defer { try? FileManager.default.removeItem(atPath: node.root) }
        let policy = ShellPolicy(allowedExecutables: ["/bin/*", "/usr/bin/*"])
        let asNode = ExecutorConfiguration(allowShell: true, shellPolicy: policy)
        let asTask = ExecutorConfiguration(allowShell: true, shellPolicy: policy, runAs: account)

        let nodeReadsKey = await run(asNode, ["/bin/cat", node.key])
        #expect(nodeReadsKey.report.outcome == .succeeded)
        #expect(nodeReadsKey.report.outputTail == "PRIVATE KEY MATERIAL\n")
        let nodeListsData = await run(asNode, ["/bin/ls", node.data])
        #expect(nodeListsData.report.outputTail == "wal-0001\n")

        let taskReadsKey = await run(asTask, ["/bin/cat", node.key])
        #expect(taskReadsKey.report.outcome == .failed)
        #expect(taskReadsKey.report.exitCode == 1)
        #expect(taskReadsKey.report.outputTail.contains("Permission denied"))
        #expect(!taskReadsKey.report.outputTail.contains("PRIVATE KEY"))
        let taskListsData = await run(asTask, ["/bin/ls", node.data])
        #expect(taskListsData.report.outcome == .failed)
        #expect(taskListsData.report.outputTail.contains("Permission denied"))
        #expect(!taskListsData.report.outputTail.contains("wal-0001"))

        // Its own uid and primary gid only (the node's supplementary groups dropped), HOME its own,
        // and still a session of its own (the process-group kill depends on it).
        let identity = await run(asTask, ["/bin/sh", "-c",
                                          "id -u; id -G; echo \"$HOME\"; [ \"$(cut -d' ' -f6 /proc/$$/stat)\" = \"$$\" ] && echo session-leader"])
        #expect(identity.report.outputTail == "\(account.userID)\n\(account.groupID)\n\(account.home)\nsession-leader\n")

        // A missing program is named as without run_as, not left to setpriv's exit 127.
        let unrestricted = ExecutorConfiguration(allowShell: true, runAs: account)
        let missing = await run(unrestricted, ["/no/such/program"])
        #expect(missing.report.outcome == .failed && missing.report.error == "no such executable: /no/such/program", "\(missing.report)")
        let missingName = await run(unrestricted, ["quorum-no-such-program"])
        #expect(missingName.report.error == "no such executable: quorum-no-such-program", "\(missingName.report)")
    }

    @Test("run_as is refused for a missing user, for root, when the node is not root, and without setpriv")
    func lookupRefusals() throws {
        let missing = try #require(RunAsAccount.lookup("quorum-no-such-user-xyz", processUserID: 0).failure)
        #expect(missing.reason.contains("there is no user \"quorum-no-such-user-xyz\" on this machine"))
        let root = try #require(RunAsAccount.lookup("root", processUserID: 0).failure)
        #expect(root.reason.contains("\"root\" is uid 0, the node's own or root's"))
        let unprivileged = try #require(RunAsAccount.lookup("nobody", processUserID: 1000).failure)
        #expect(unprivileged.reason.contains("\"nobody\" needs the node to run as root to switch users, but it runs as uid 1000"))
        let noSwitcher = try #require(RunAsAccount.lookup("nobody", processUserID: 0, switcherCandidates: ["/nonexistent/setpriv"]).failure)
        #expect(noSwitcher.reason.contains("needs util-linux's setpriv, which is not at /nonexistent/setpriv"))
    }

    /// Before the fix the task's child switched users itself in a raw clone of this
    /// multithreaded process; a thread created or exiting at that instant left the child waiting
    /// forever before `exec` (glibc's set*id calls wait for every thread the parent had). With
    /// threads churning, that hung within a few starts; the churn makes the rare case common.
    @Test("run_as starts never hang while other threads are created and exit")
    func startsWhileThreadsComeAndGo() async throws {
        guard getuid() == 0 else {
            print("RunAsTests skipped: not root (uid \(getuid())), so no user can be switched to")
            return
        }
        let account = try Self.ensureUser()
        let asTask = ExecutorConfiguration(allowShell: true, runAs: account)
        let churn = ThreadChurn()
        churn.start(threads: 2)
        defer { churn.stop() }
        for start in 1...40 {
            let finished = try? await value(of: Task {
                await AttemptRunner(configuration: asTask, logger: silentLogger)
                    .run(ExecutionRequest(runID: RunID(rawValue: "run-\(start)"), attempt: 1, task: .shell(ShellTask(argv: ["/bin/true"])),
                                          timeout: .seconds(10)))
            }, within: .seconds(15))
            let result = try #require(finished, "start \(start) as \(account.name) did not finish within 15 s: the child hung before exec")
            #expect(result.report.outcome == .succeeded, "start \(start): \(result.report)")
        }
    }
}

/// Threads that keep starting and finishing short-lived threads, until stopped.
private final class ThreadChurn: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private var churners: [Thread] = []

    func start(threads: Int) {
        for _ in 0..<threads {
            let churner = Thread { [self] in
                while lock.withLock({ running }) {
                    let done = DispatchSemaphore(value: 0)
                    Thread { done.signal() }.start()
                    done.wait()
                }
            }
            churners.append(churner)
            churner.start()
        }
    }

    func stop() { lock.withLock { running = false } }
}
