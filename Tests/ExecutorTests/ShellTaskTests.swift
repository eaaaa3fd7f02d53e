import Executor
import SchedulerCore
import Foundation
import Testing

@Suite("shell tasks")
struct ShellTaskTests {
    private let executor = AttemptRunner(
        configuration: ExecutorConfiguration(allowShell: true, killGracePeriod: .milliseconds(300)),
        logger: silentLogger
    )

    private func run(_ argv: [String], environment: [KeyValue] = [], workingDirectory: String? = nil,
                     timeout: Duration = .seconds(20)) async -> ExecutionResult {
        await executor.run(ExecutionRequest(
            runID: "run-1", attempt: 2,
            task: .shell(ShellTask(argv: argv, environment: environment, workingDirectory: workingDirectory)),
            timeout: timeout
        ))
    }

    @Test("a program that exits 0 succeeds, with its output")
    func success() async {
        let result = await run(["/bin/echo", "hello", "$HOME"])
        #expect(result.report.outcome == .succeeded)
        #expect(result.report.exitCode == 0)
        #expect(result.report.error == nil)
        // No shell: "$HOME" is passed as it is.
        #expect(result.report.outputTail == "hello $HOME\n")
    }

    @Test("a non-zero exit code fails with the code")
    func exitCode() async {
        let result = await run(["/bin/sh", "-c", "echo before; exit 3"])
        #expect(result.report.outcome == .failed)
        #expect(result.report.exitCode == 3)
        #expect(result.report.error == "exit code 3")
        #expect(result.report.outputTail == "before\n")
    }

    @Test("stderr is captured, interleaved with stdout in write order")
    func stderrInterleaved() async {
        let result = await run(["/bin/sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2"])
        #expect(result.report.outcome == .succeeded)
        #expect(result.report.outputTail == "out1\nerr1\nout2\nerr2\n")
    }

    @Test("a large output keeps exactly its last 64 KiB")
    func largeOutputTail() async {
        let result = await run(["/usr/bin/seq", "1", "200000"])
        #expect(result.report.outcome == .succeeded)
        let full = (1...200_000).map { "\($0)\n" }.joined()
        #expect(full.utf8.count > 1_000_000)
        #expect(result.report.outputTail.utf8.count == 64 * 1024)
        #expect(Array(result.report.outputTail.utf8) == Array(full.utf8.suffix(64 * 1024)))
    }

    @Test("output that is not UTF-8 is kept with U+FFFD in place of the bad bytes")
    func invalidUTF8Output() async {
        let result = await run(["/usr/bin/printf", "ok \\377 done"])
        #expect(result.report.outcome == .succeeded)
        #expect(result.report.outputTail == "ok \u{FFFD} done")
    }

    @Test("standard input is empty, so a program reading it does not wait")
    func emptyStandardInput() async {
        let result = await run(["/bin/cat"], timeout: .seconds(10))
        #expect(result.report.outcome == .succeeded)
        #expect(result.report.outputTail.isEmpty)
    }

    @Test("a process killed by a signal fails and names it")
    func killedBySignal() async {
        let result = await run(["/bin/sh", "-c", "kill -SEGV $$"])
        #expect(result.report.outcome == .failed)
        #expect(result.report.exitCode == nil)
        #expect(result.report.error == "killed by SIGSEGV")
    }

    @Test("the timeout terminates the whole process group, grandchildren included")
    func timeoutKillsProcessGroup() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("grandchild.pid")
        let result = await run(["/bin/sh", "-c", "sleep 100 & echo $! > '\(pidFile.path)'; wait"],
                               timeout: .seconds(2))
        #expect(result.report.outcome == .timedOut)
        #expect(result.report.error == "killed by SIGTERM after timeout 2s")
        let grandchild = try await readPID(from: pidFile)
        try await waitUntil("grandchild \(grandchild) to be gone") { !processIsAlive(grandchild) }
    }

    @Test("a group that ignores SIGTERM gets SIGKILL after the grace period")
    func timeoutEscalatesToSIGKILL() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("grandchild.pid")
        let clock = ContinuousClock()
        let started = clock.now
        let result = await run(["/bin/sh", "-c", "trap '' TERM; sleep 100 & echo $! > '\(pidFile.path)'; wait"],
                               timeout: .seconds(2))
        #expect(result.report.outcome == .timedOut)
        #expect(result.report.error == "killed by SIGKILL after timeout 2s")
        // Timeout plus the 300 ms grace period, at least.
        #expect(started.duration(to: clock.now) >= .milliseconds(2300))
        let grandchild = try await readPID(from: pidFile)
        try await waitUntil("grandchild \(grandchild) to be gone") { !processIsAlive(grandchild) }
    }

    @Test("background processes left behind by a finished program are killed")
    func orphansAreKilled() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("orphan.pid")
        let result = await run(["/bin/sh", "-c", "sleep 100 & echo $! > '\(pidFile.path)'"])
        #expect(result.report.outcome == .succeeded)
        #expect(result.duration < .seconds(50))
        let orphan = try await readPID(from: pidFile)
        try await waitUntil("orphan \(orphan) to be gone") { !processIsAlive(orphan) }
    }

    @Test("cancelling the caller stops the process and reports cancelled")
    func cancellation() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("child.pid")
        let executor = executor
        let attempt = Task {
            await executor.run(ExecutionRequest(
                runID: "run-1", attempt: 1,
                task: .shell(ShellTask(argv: ["/bin/sh", "-c", "echo started; echo $$ > '\(pidFile.path)'; exec sleep 100"])),
                timeout: .seconds(60)
            ))
        }
        let child = try await readPID(from: pidFile)
        attempt.cancel()
        let result = try await value(of: attempt)
        #expect(result.report.outcome == .cancelled)
        #expect(result.report.error == "cancelled (killed by SIGTERM)")
        #expect(result.report.outputTail == "started\n")
        try await waitUntil("child \(child) to be gone") { !processIsAlive(child) }
    }

    @Test("shell tasks are refused unless allowed, and nothing starts")
    func refusedWhenNotAllowed() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("ran")
        let executor = AttemptRunner(logger: silentLogger)
        let result = await executor.run(ExecutionRequest(
            runID: "run-1", attempt: 1, task: .shell(ShellTask(argv: ["/usr/bin/touch", marker.path])), timeout: .seconds(5)
        ))
        #expect(result.report.outcome == .failed)
        #expect(result.report.error == "shell tasks are disabled on this cluster: set executor.allow_shell = true")
        #expect(!FileManager.default.fileExists(atPath: marker.path))
    }

    @Test("the task's environment is set on top of the node's, with the run id and attempt")
    func environment() async throws {
        let result = await run(["/usr/bin/env"], environment: [KeyValue("QUORUM_TEST_GREETING", "hello world"), KeyValue("LANG", "C")])
        #expect(result.report.outcome == .succeeded)
        let lines = Set(result.report.outputTail.split(separator: "\n").map(String.init))
        #expect(lines.contains("QUORUM_TEST_GREETING=hello world"))
        #expect(lines.contains("LANG=C"))
        #expect(lines.contains("QUORUM_RUN_ID=run-1"))
        #expect(lines.contains("QUORUM_ATTEMPT=2"))
        let path = try #require(ProcessInfo.processInfo.environment["PATH"])
        #expect(lines.contains("PATH=\(path)"))
    }

    @Test("the program starts in the working directory")
    func workingDirectory() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = await run(["/bin/pwd"], workingDirectory: directory.path)
        #expect(result.report.outcome == .succeeded)
        #expect(result.report.outputTail == directory.resolvingSymlinksInPath().path + "\n")
    }

    @Test("a bare name is looked up in PATH")
    func pathLookup() async {
        let result = await run(["echo", "found"])
        #expect(result.report.outcome == .succeeded)
        #expect(result.report.outputTail == "found\n")
    }

    @Test("a missing executable fails with its name", arguments: ["/nonexistent/quorum-tool", "quorum-no-such-tool"])
    func missingExecutable(name: String) async {
        let result = await run([name, "arg"])
        #expect(result.report.outcome == .failed)
        #expect(result.report.exitCode == nil)
        #expect(result.report.error == "no such executable: \(name)")
    }

    @Test("input the process cannot start with fails with a message naming it", arguments: [
        ([String](), [KeyValue](), String?.none, "shell task has an empty argv: give the executable as argv[0]"),
        (["/bin/true"], [KeyValue("A=B", "x")], nil,
         "environment variable name \"A=B\" is invalid: it must be non-empty and contain neither '=' nor NUL"),
        (["/bin/true"], [], "/nonexistent/dir",
         "cannot use working directory \"/nonexistent/dir\": it does not exist or is not accessible"),
    ])
    func invalidInput(argv: [String], environment: [KeyValue], workingDirectory: String?, message: String) async {
        let result = await run(argv, environment: environment, workingDirectory: workingDirectory)
        #expect(result.report.outcome == .failed)
        #expect(result.report.error == message)
    }
}

@Suite("shell tasks, more")
struct ShellTaskMoreTests {
    private let executor = AttemptRunner(configuration: ExecutorConfiguration(allowShell: true), logger: silentLogger)

    @Test("a relative executable path resolves from the working directory")
    func relativeExecutable() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("hello.sh")
        try "#!/bin/sh\necho from script\n".write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let result = await executor.run(ExecutionRequest(
            runID: "run-1", attempt: 1,
            task: .shell(ShellTask(argv: ["./hello.sh"], workingDirectory: directory.path)),
            timeout: .seconds(20)
        ))
        #expect(result.report.outcome == .succeeded)
        #expect(result.report.outputTail == "from script\n")
    }

    @Test("concurrent attempts keep their own output and exit codes")
    func concurrentAttempts() async {
        let executor = executor
        let results = await withTaskGroup(of: (Int, ExecutionResult).self) { group in
            for index in 0..<8 {
                group.addTask {
                    let result = await executor.run(ExecutionRequest(
                        runID: RunID("run-\(index)"), attempt: 1,
                        task: .shell(ShellTask(argv: ["/bin/sh", "-c", "echo $QUORUM_RUN_ID; exit \(index)"])),
                        timeout: .seconds(20)
                    ))
                    return (index, result)
                }
            }
            var results: [Int: ExecutionResult] = [:]
            for await (index, result) in group { results[index] = result }
            return results
        }
        for index in 0..<8 {
            #expect(results[index]?.report.outputTail == "run-\(index)\n")
            #expect(results[index]?.report.exitCode == Int32(index))
            #expect(results[index]?.report.outcome == (index == 0 ? .succeeded : .failed))
        }
    }
}
