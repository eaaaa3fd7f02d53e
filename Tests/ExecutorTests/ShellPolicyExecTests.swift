import Executor
import Foundation
import SchedulerCore
import Testing

@Suite("shell policy at exec: the executor decides again and never starts a refused program")
struct ShellPolicyExecTests {
    private func runner(_ policy: ShellPolicy) -> AttemptRunner {
        AttemptRunner(configuration: ExecutorConfiguration(allowShell: true, shellPolicy: policy), logger: silentLogger)
    }

    private func run(_ runner: AttemptRunner, _ argv: [String], workdir: String? = nil) async -> ExecutionResult {
        await runner.run(ExecutionRequest(runID: "run-1", attempt: 1,
                                          task: .shell(ShellTask(argv: argv, workingDirectory: workdir)), timeout: .seconds(20)))
    }

    @Test("a symlink swapped after submission is judged by its new target, and that program never runs")
    func swappedSymlink() async throws {
        let made = try makeTemporaryDirectory()
        let root = try #require(ShellPolicy.realPath(made.path))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = FileManager.default
        try files.createDirectory(atPath: "\(root)/allowed", withIntermediateDirectories: true)
        try files.createDirectory(atPath: "\(root)/other", withIntermediateDirectories: true)
        let marker = "\(root)/ran"
        for (program, body) in [("allowed/tool", "echo tool"), ("other/evil", "touch \(marker)")] {
            try "#!/bin/sh\n\(body)\n".write(toFile: "\(root)/\(program)", atomically: true, encoding: .utf8)
            try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(root)/\(program)")
        }
        let link = "\(root)/allowed/job"
        try files.createSymbolicLink(atPath: link, withDestinationPath: "\(root)/allowed/tool")
        let policy = ShellPolicy(allowedExecutables: ["\(root)/allowed/*"])
        // What the API saw at submission:
        #expect(policy.executable(link, existence: .lexicalFallback) == .success("\(root)/allowed/tool"))
        let allowed = await run(runner(policy), [link])
        #expect(allowed.report.outcome == .succeeded)
        #expect(allowed.report.outputTail == "tool\n")

        try files.removeItem(atPath: link)
        try files.createSymbolicLink(atPath: link, withDestinationPath: "\(root)/other/evil")
        let refused = await run(runner(policy), [link])
        #expect(refused.report.outcome == .failed)
        #expect(refused.report.exitCode == nil)
        #expect(refused.report.error == "refused by the node's shell policy: \"\(link)\" (resolved to \(root)/other/evil) is not allowed "
            + "by [executor] shell_allow (\(root)/allowed/*): run an allowed program, or ask the operator to add a pattern")
        #expect(!files.fileExists(atPath: marker))
    }

    @Test("a bare name or a program outside the list is refused before anything starts")
    func refusedBeforeStart() async throws {
        let policy = ShellPolicy(allowedExecutables: ["/usr/bin/e*"])
        let bare = await run(runner(policy), ["echo", "hi"])
        #expect(bare.report.outcome == .failed)
        #expect(bare.report.error?.hasPrefix("refused by the node's shell policy: \"echo\" is not an absolute path") == true)
        let outside = await run(runner(policy), ["/bin/sh", "-c", "echo ran"])
        #expect(outside.report.outcome == .failed)
        #expect(outside.report.outputTail == "")
        #expect(outside.report.error?.contains("is not allowed by [executor] shell_allow (/usr/bin/e*)") == true)
    }

    @Test("the resolved program runs, and it still sees argv[0] as submitted")
    func argvZeroKept() async throws {
        let result = await run(runner(ShellPolicy(allowedExecutables: ["/usr/bin/*", "/bin/*"])), ["/bin/cat", "/proc/self/cmdline"])
        #expect(result.report.outcome == .succeeded)
        #expect(result.report.outputTail == "/bin/cat\u{0}/proc/self/cmdline\u{0}")
    }

    @Test("with workdir_root, a task without workdir runs in the root and one outside it never runs")
    func workdirRoot() async throws {
        let made = try makeTemporaryDirectory()
        let root = try #require(ShellPolicy.realPath(made.path))
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/jobs/a", withIntermediateDirectories: true)
        let policy = ShellPolicy(allowedExecutables: ["/bin/*", "/usr/bin/*"], workdirRoot: "\(root)/jobs")
        let inRoot = await run(runner(policy), ["/bin/pwd"])
        #expect(inRoot.report.outputTail == "\(root)/jobs\n")
        let inside = await run(runner(policy), ["/bin/pwd"], workdir: "a")
        #expect(inside.report.outputTail == "\(root)/jobs/a\n")
        let outside = await run(runner(policy), ["/usr/bin/touch", "\(root)/ran"], workdir: root)
        #expect(outside.report.outcome == .failed)
        #expect(outside.report.error?.contains("is outside [executor] workdir_root \(root)/jobs") == true)
        #expect(!FileManager.default.fileExists(atPath: "\(root)/ran"))
    }
}
