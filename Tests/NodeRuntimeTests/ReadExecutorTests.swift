#if canImport(Glibc)
import Glibc
#endif
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

    @Test("the reader thread's CPU clock counts the work run on it (the list reads' CPU budget reads it)")
    func cpuTimeCountsWorkOnTheThread() async throws {
        // Starts the thread if no test did yet, so the clock exists.
        _ = await withTaskExecutorPreference(ReadExecutor.lists) { 0 }
        let before = ReadExecutor.lists.cpuTime()
        // Spin on the reader thread until that thread itself has used 20 ms of CPU (its own
        // clock), however busy the machine: then the executor's clock must show at least that.
        let used = await withTaskExecutorPreference(ReadExecutor.lists) { () async -> Duration in
            let start = Self.threadCPU()
            let deadline = ContinuousClock.now + .seconds(60)
            while Self.threadCPU() - start < .milliseconds(20), ContinuousClock.now < deadline {}
            return Self.threadCPU() - start
        }
        let after = ReadExecutor.lists.cpuTime()
        #if os(Linux)
        #expect(used >= .milliseconds(20))
        #expect(after - before >= used, "the reader thread's CPU grew by \(after - before), its work used \(used)")
        #else
        #expect(after == .zero)
        #endif
    }

    /// The calling thread's CPU time.
    private static func threadCPU() -> Duration {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return .zero }
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }
}
