import Logging
@testable import NodeRuntime
import Testing

/// Reads run on a thread of their own at low CPU priority (issue #12), so that when writes need
/// the CPU they get it and reads use what is idle.
@Suite("ReadExecutor: the low-priority reader thread")
struct ReadExecutorTests {
    @Test("work pinned to the reader executor runs on a thread whose nice value is 19 (Linux)")
    func readerThreadIsNiced() async throws {
        let onReader = await withTaskExecutorPreference(ReadExecutor.lists) { ReadExecutor.currentThreadNice() }
        let here = ReadExecutor.currentThreadNice()
        #if os(Linux)
        #expect(onReader == ReadExecutor.niceValue, "the reader thread runs at nice \(String(describing: onReader))")
        #expect(here != ReadExecutor.niceValue, "the caller's thread was lowered too")
        #else
        #expect(onReader == nil && here == nil)
        #endif
    }

    @Test("a state machine read runs on the reader thread only when its caller asks for it (list reads), never otherwise")
    func stateMachineReadsFollowTheCaller() async throws {
        let machine = SchedulerStateMachine(executorID: "n1", replayThrough: .zero, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) { _ in }
        let listed = await withTaskExecutorPreference(ReadExecutor.lists) {
            await machine.read { _ in ReadExecutor.currentThreadNice() }
        }
        let other = await machine.read { _ in ReadExecutor.currentThreadNice() }
        #if os(Linux)
        #expect(listed == ReadExecutor.niceValue)
        #expect(other != ReadExecutor.niceValue, "a read outside the gate (a write's read-back, a leader duty) ran at low priority")
        #endif
    }
}
