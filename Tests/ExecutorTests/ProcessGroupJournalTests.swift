import Executor
import SchedulerCore
import Foundation
import Testing

@Suite("ProcessGroupJournal: shell attempts a crashed node left running are killed on restart")
struct ProcessGroupJournalTests {
    @Test("a running attempt's group is recorded; a new journal on the same directory kills it; an ended one is forgotten")
    func leftoversAreKilled() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let journalPath = directory.appendingPathComponent("groups").path
        let journal = try ProcessGroupJournal(directory: journalPath)
        let runner = AttemptRunner(configuration: ExecutorConfiguration(allowShell: true), logger: silentLogger,
                                   processGroups: journal)
        let pidFile = directory.appendingPathComponent("child.pid")
        let attempt = Task {
            await runner.run(ExecutionRequest(
                runID: "r1", attempt: 1,
                task: .shell(ShellTask(argv: ["/bin/sh", "-c", "echo $$ > '\(pidFile.path)'; exec sleep 100"])),
                timeout: .seconds(120)))
        }
        let child = try await readPID(from: pidFile)
        try await waitUntil("the group to be recorded") {
            ((try? FileManager.default.contentsOfDirectory(atPath: journalPath)) ?? []).contains(String(child))
        }
        // What a restarted node does before anything else.
        let killed = try ProcessGroupJournal(directory: journalPath).killLeftovers()
        #expect(killed == [child])
        let result = try await value(of: attempt)
        #expect(result.report.outcome == .failed)
        try await waitUntil("child \(child) to be gone") { !processIsAlive(child) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: journalPath).isEmpty)
    }

    @Test("a recorded id whose process is gone or started at another time is never signalled")
    func reusedIDsAreSpared() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = try ProcessGroupJournal(directory: directory.path)
        // This test process's own group, recorded with a start time it does not have.
        let own = getpgrp()
        _ = FileManager.default.createFile(atPath: directory.path + "/\(own)", contents: Data("1".utf8))
        _ = FileManager.default.createFile(atPath: directory.path + "/999999999", contents: Data("1".utf8))
        _ = FileManager.default.createFile(atPath: directory.path + "/not-a-pid", contents: Data())
        #expect(journal.killLeftovers().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["not-a-pid"])
    }
}
