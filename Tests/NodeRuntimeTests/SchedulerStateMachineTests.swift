import Logging
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import Synchronization
import Testing

/// Collects what the state machine hands to the node's reactions.
final class ChangeLog: Sendable {
    private let changes = Mutex<[AppliedChanges]>([])
    func append(_ change: AppliedChanges) { changes.withLock { $0.append(change) } }
    var all: [AppliedChanges] { changes.withLock { $0 } }
}

@Suite("SchedulerStateMachine: entries in, events and executor orders out")
struct SchedulerStateMachineTests {
    let t0 = Timestamp(1_800_000_000_000)
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func entry(_ index: UInt64, _ command: Command) -> Raft.Entry {
        Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(index), data: CommandCodec.encode(command, at: t0))
    }

    func submit(_ id: String) -> Command {
        .submitJob(SubmitJob(jobID: JobID(id), spec: JobSpec(name: id), runID: RunID("r-" + id)))
    }

    func assign(_ id: String, to executor: String) -> Command {
        .assignAttempt(AssignAttempt(runID: RunID("r-" + id), executor: ExecutorID(executor), attempt: 1,
                                     deadline: t0.adding(milliseconds: 60_000)))
    }

    @Test("a proposer learns its entry's events, also when it asks before the entry is applied")
    func eventsByIndex() async {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        await machine.apply([entry(1, submit("a"))])
        #expect(await machine.events(at: Raft.LogIndex(1))?.contains(.jobSubmitted("a")) == true)
        async let waiting = machine.events(at: Raft.LogIndex(2))
        await machine.apply([entry(2, submit("a"))])
        let events = await waiting
        #expect(events?.contains { if case .rejected = $0 { true } else { false } } == true)
    }

    @Test("an assignment to this node applied live is an order to start; to another node it is not")
    func liveOrders() async {
        let log = ChangeLog()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { log.append($0) }
        await machine.apply([entry(1, submit("a")), entry(2, submit("b"))])
        await machine.apply([entry(3, assign("a", to: "n2")), entry(4, assign("b", to: "n3"))])
        let starts = log.all.flatMap(\.starts)
        #expect(starts.map(\.runID) == ["r-a"])
        #expect(starts.first?.attempt == 1)
        #expect(log.all.last?.isReplay == false)
    }

    @Test("assignments replayed from the log at start-up are not started (they are reported lost instead)")
    func replayedAssignments() async {
        let log = ChangeLog()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: Raft.LogIndex(2), logger: logger) { log.append($0) }
        await machine.apply([entry(1, submit("a")), entry(2, assign("a", to: "n2"))])
        #expect(log.all.flatMap(\.starts).isEmpty)
        #expect(log.all.first?.isReplay == true)
        let running = await machine.read { $0.activeAttempts(on: "n2").map(\.runID) }
        #expect(running == ["r-a"])
    }

    @Test("cancelling a job running here is an order to stop it")
    func stopOrder() async {
        let log = ChangeLog()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { log.append($0) }
        await machine.apply([entry(1, submit("a")), entry(2, assign("a", to: "n2")), entry(3, .cancelJob("a"))])
        #expect(log.all.flatMap(\.stops) == [AttemptKey(runID: "r-a", attempt: 1)])
    }

    @Test("an undecodable entry is skipped with a rejection on every replica; the next applies")
    func undecodable() async {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        await machine.apply([Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(1), data: [99, 1, 2]), entry(2, submit("a"))])
        let first = await machine.events(at: Raft.LogIndex(1))
        #expect(first?.count == 1)
        #expect(await machine.read { $0.job("a") != nil })
    }

    @Test("snapshot and restore carry the whole state; old events are forgotten, waiters are released")
    func snapshotRestore() async throws {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        await machine.apply([entry(1, submit("a")), entry(2, submit("b"))])
        let image = await machine.snapshot()
        let other = SchedulerStateMachine(executorID: "n3", replayThrough: .zero, logger: logger) { _ in }
        async let waiting = other.events(at: Raft.LogIndex(2))
        try await other.restore(image, through: Raft.LogIndex(2))
        #expect(await waiting == nil)
        #expect(await other.read { $0.jobCount } == 2)
        #expect(await other.appliedIndex == Raft.LogIndex(2))
    }

    @Test("only the most recent entries' events are kept")
    func boundedMemory() async {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, recentLimit: 4, logger: logger) { _ in }
        for i in 1...20 { await machine.apply([entry(UInt64(i), .tick)]) }
        #expect(await machine.events(at: Raft.LogIndex(1)) == nil)
        #expect(await machine.events(at: Raft.LogIndex(20)) != nil)
    }
}
