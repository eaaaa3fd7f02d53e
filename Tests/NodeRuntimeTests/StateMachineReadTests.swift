import Dispatch
import Logging
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import Testing

/// Reads run off the applying actor (issue #12): a reader scanning the state never holds up an
/// apply, it keeps the view it started with, and a read that starts after an apply sees it.
@Suite("SchedulerStateMachine: reads off the apply path")
struct StateMachineReadTests {
    let t0 = Timestamp(1_800_000_000_000)
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func entry(_ index: UInt64, _ id: String) -> Raft.Entry {
        let command = Command.submitJob(SubmitJob(jobID: JobID(id), spec: JobSpec(name: id), runID: RunID("r-" + id)))
        return Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(index), data: CommandCodec.encode(command, at: t0))
    }

    @Test("an apply completes while a read is still running, and the read keeps the view it started with")
    func applyDoesNotWaitForAReader() async throws {
        let machine = SchedulerStateMachine(executorID: "n1", replayThrough: .zero, logger: logger) { _ in }
        try await machine.apply([entry(1, "a")])
        let (started, startedSignal) = AsyncStream.makeStream(of: Void.self)
        let applied = DispatchSemaphore(value: 0)
        let reader = Task.detached {
            // On the reader thread, as list reads run (the read admission gate puts them there):
            // blocking it holds no thread of the concurrency pool the applier needs.
            await withTaskExecutorPreference(ReadExecutor.lists) {
                await machine.read { state in
                    startedSignal.yield()
                    // Blocks this reader (not the actor) until the apply below is done, or 20 s: on the
                    // old actor-bound read the apply could not run, and this gave up.
                    let appliedMeanwhile = applied.wait(timeout: .now() + 20) == .success
                    return (jobs: state.jobCount, appliedMeanwhile: appliedMeanwhile)
                }
            }
        }
        for await _ in started { break }
        try await machine.apply([entry(2, "b"), entry(3, "c")])
        applied.signal()
        let seen = await reader.value
        #expect(seen.appliedMeanwhile, "the apply waited for the reader to finish")
        #expect(seen.jobs == 1, "the reader's view changed under it")
        #expect(await machine.read { $0.jobCount } == 3, "a read after the apply must see it")
    }

    @Test("every read started after an apply returned sees that apply, also with readers racing the applier")
    func readsAfterApplySeeIt() async throws {
        let machine = SchedulerStateMachine(executorID: "n1", replayThrough: .zero, logger: logger) { _ in }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    var last = 0
                    for _ in 0..<300 {
                        let count = await machine.read { $0.jobCount }
                        #expect(count >= last, "a later read saw an older state")
                        last = count
                    }
                }
            }
            for i in 1...200 {
                try await machine.apply([entry(UInt64(i), "j\(i)")])
                #expect(await machine.read { $0.jobCount } == i)
            }
            try await group.waitForAll()
        }
    }
}
