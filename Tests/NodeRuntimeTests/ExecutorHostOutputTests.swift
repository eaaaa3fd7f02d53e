import Executor
import Foundation
import Logging
import NodeCore
@testable import NodeRuntime
import SchedulerCore
import Synchronization
import Testing

/// The executor host keeps an attempt's full output on disk before reporting its finish, and the
/// finish carries only the last 4 KiB into the replicated state.
@Suite("ExecutorHost: full output kept locally, short tail reported")
struct ExecutorHostOutputTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("a 10 KiB output: the store holds all of it when the finish is reported; the report holds its last 4 KiB")
    func shortTailReported() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("host-outputs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try AttemptOutputStore(directory: directory)
        let key = AttemptOutputStore.Key(runID: "r1", attempt: 1)
        // What the store held at the moment each finish was reported.
        let storedAtReport = Mutex<[String?]>([])
        let log = ReportLog()
        let host = ExecutorHost(slots: 1, runner: AttemptRunner(configuration: ExecutorConfiguration(allowShell: true), logger: logger),
                                clock: .system(), logger: logger, outputs: store) { command in
            storedAtReport.withLock { $0.append(store.output(of: key)) }
            return log.report(command)
        }
        // 200 lines of 51 bytes = 10,200 bytes.
        let script = #"i=0; while [ $i -lt 200 ]; do printf 'line %04d 0123456789012345678901234567890123456789\n' $i; i=$((i+1)); done"#
        let expected = (0..<200).map { String(format: "line %04d 0123456789012345678901234567890123456789\n", $0) }.joined()
        host.accept(AppliedChanges(throughIndex: .zero, isReplay: false, events: [], starts: [
            AttemptOrder(runID: "r1", attempt: 1, task: .shell(ShellTask(argv: ["/bin/sh", "-c", script])), timeoutMs: 60_000),
        ], stops: []))
        try await waitUntil("the report") { !log.reports.isEmpty && host.busy == 0 }
        let report = try #require(log.reports.first?.report)
        #expect(report.outcome == .succeeded)
        #expect(report.outputTail.utf8.count == ReplicatedOutputTail.limit)
        #expect(expected.hasSuffix(report.outputTail))
        #expect(storedAtReport.withLock { $0 } == [expected], "the full output is on disk before the finish is reported")
        #expect(store.output(of: key) == expected)
    }

    @Test("a short output is reported whole and gets no file (a file per noop attempt cost a third of a node's CPU per job)")
    func shortOutputGetsNoFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("host-outputs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try AttemptOutputStore(directory: directory)
        let log = ReportLog()
        let host = ExecutorHost(slots: 2, runner: AttemptRunner(configuration: ExecutorConfiguration(allowShell: true), logger: logger),
                                clock: .system(), logger: logger, outputs: store) { log.report($0) }
        host.accept(AppliedChanges(throughIndex: .zero, isReplay: false, events: [], starts: [
            AttemptOrder(runID: "r1", attempt: 1, task: .shell(ShellTask(argv: ["/bin/echo", "hi"])), timeoutMs: 60_000),
            AttemptOrder(runID: "r2", attempt: 1, task: .noop, timeoutMs: 60_000),
        ], stops: []))
        try await waitUntil("both reports") { log.reports.count == 2 && host.busy == 0 }
        #expect(Set(log.reports.map(\.report.outputTail)) == ["hi\n", ""])
        #expect(store.output(of: AttemptOutputStore.Key(runID: "r1", attempt: 1)) == nil)
        #expect(store.output(of: AttemptOutputStore.Key(runID: "r2", attempt: 1)) == nil)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        #expect(files.filter { !$0.hasPrefix(".") }.isEmpty, "\(files)")
    }
}
