import Logging
import NodeCore
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

    func entry(_ index: UInt64, _ command: Command, at time: Timestamp? = nil) -> Raft.Entry {
        Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(index), data: CommandCodec.encode(command, at: time ?? t0))
    }

    func submit(_ id: String) -> Command {
        .submitJob(SubmitJob(jobID: JobID(id), spec: JobSpec(name: id), runID: RunID("r-" + id)))
    }

    func assign(_ id: String, to executor: String) -> Command {
        .assignAttempt(AssignAttempt(runID: RunID("r-" + id), executor: ExecutorID(executor), attempt: 1,
                                     deadline: t0.adding(milliseconds: 60_000)))
    }

    @Test("a proposer learns its entry's events, also when it asks before the entry is applied")
    func eventsByIndex() async throws {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        let first = machine.claimEvents()
        try await machine.apply([entry(1, submit("a"))])
        #expect(await machine.events(at: Raft.LogIndex(1), claim: first)?.contains(.jobSubmitted("a")) == true)
        let second = machine.claimEvents()
        async let waiting = machine.events(at: Raft.LogIndex(2), claim: second)
        try await machine.apply([entry(2, submit("a"))])
        let events = await waiting
        #expect(events?.contains { if case .rejected = $0 { true } else { false } } == true)
    }

    @Test("an assignment to this node applied live is an order to start; to another node it is not")
    func liveOrders() async throws {
        let log = ChangeLog()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { log.append($0) }
        try await machine.apply([entry(1, submit("a")), entry(2, submit("b"))])
        try await machine.apply([entry(3, assign("a", to: "n2")), entry(4, assign("b", to: "n3"))])
        let starts = log.all.flatMap(\.starts)
        #expect(starts.map(\.runID) == ["r-a"])
        #expect(starts.first?.attempt == 1)
        #expect(log.all.last?.isReplay == false)
    }

    @Test("assignments replayed from the log at start-up are not started (they are reported lost instead)")
    func replayedAssignments() async throws {
        let log = ChangeLog()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: Raft.LogIndex(2), logger: logger) { log.append($0) }
        try await machine.apply([entry(1, submit("a")), entry(2, assign("a", to: "n2"))])
        #expect(log.all.flatMap(\.starts).isEmpty)
        #expect(log.all.first?.isReplay == true)
        let running = await machine.read { $0.activeAttempts(on: "n2").map(\.runID) }
        #expect(running == ["r-a"])
    }

    @Test("cancelling a job running here is an order to stop it")
    func stopOrder() async throws {
        let log = ChangeLog()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { log.append($0) }
        try await machine.apply([entry(1, submit("a")), entry(2, assign("a", to: "n2"))])
        try await machine.apply([entry(3, .cancelJob("a"))])
        #expect(log.all.flatMap(\.starts).map(\.runID) == ["r-a"])
        #expect(log.all.flatMap(\.stops) == [AttemptKey(runID: "r-a", attempt: 1)])
    }

    /// A node catching up applies an assignment to it together with the entry that ended that
    /// attempt: handling stops before starts used to start an attempt already over (a
    /// duplicate execution, `forbid` broken).
    @Test("an attempt assigned and then expired or cancelled within one applied batch is never started",
          arguments: ["expire", "cancel", "expire-then-reassign"])
    func staleStartInOneBatch(ending: String) async throws {
        let log = ChangeLog()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { log.append($0) }
        var entries = [entry(1, submit("a")), entry(2, assign("a", to: "n2"))]
        switch ending {
        case "cancel":
            entries.append(entry(3, .cancelJob("a")))
        default:
            entries.append(entry(3, .expireAttempt(ExpireAttempt(runID: "r-a", attempt: 1, reason: .executorLost))))
        }
        try await machine.apply(entries)
        #expect(log.all.flatMap(\.starts).isEmpty)
        #expect(log.all.flatMap(\.stops).isEmpty)
        if ending == "expire-then-reassign" {
            // The retry comes back to this node later: attempt 2 starts, attempt 1 never did.
            let reassign = Command.assignAttempt(AssignAttempt(runID: "r-a", executor: "n2", attempt: 2,
                                                               deadline: t0.adding(milliseconds: 60_000)))
            let later = t0.adding(milliseconds: 3_600_000)  // past any backoff
            try await machine.apply([entry(4, .tick, at: later), entry(5, reassign, at: later)])
            #expect(log.all.flatMap(\.starts).map(\.attempt) == [2])
        }
    }

    @Test("an assignment and its stop in different batches: started, then stopped, in that order")
    func startThenStopAcrossBatches() async throws {
        let log = ChangeLog()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { log.append($0) }
        try await machine.apply([entry(1, submit("a")), entry(2, assign("a", to: "n2"))])
        try await machine.apply([entry(3, .expireAttempt(ExpireAttempt(runID: "r-a", attempt: 1, reason: .deadlinePassed)))])
        #expect(log.all.map(\.starts.count) == [1, 0])
        #expect(log.all.map(\.stops.count) == [0, 1])
    }

    /// Issue #15 (`wipe`): a node that lost its log applies the whole history live and proves
    /// its lease long before it has caught up; the batch that applied its previous incarnation's
    /// assignment ended before the entry that finished it, and the attempt ran a second time.
    @Test("a node started without a log, lease proven, never starts an attempt assigned before it started")
    func startedWithoutLogSkipsOldAssignments() async throws {
        let log = ChangeLog()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, startedWall: t0.adding(milliseconds: 30_000),
                                            leaseProven: { true }, logger: logger) { log.append($0) }
        try await machine.apply([entry(1, submit("a")), entry(2, assign("a", to: "n2"))])
        #expect(log.all.flatMap(\.starts).isEmpty)
        let fresh = t0.adding(milliseconds: 30_500)
        try await machine.apply([entry(3, submit("b"), at: fresh), entry(4, assign("b", to: "n2"), at: fresh)])
        #expect(log.all.flatMap(\.starts).map(\.runID) == ["r-b"])
    }

    @Test("an undecodable entry stops the node: the entries before it apply, it and those after it never do")
    func undecodable() async throws {
        let log = ChangeLog()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { log.append($0) }
        let bad = Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(2), data: [99, 1, 2])
        await #expect(throws: UndecodableEntry.self) {
            try await machine.apply([entry(1, submit("a")), bad, entry(3, submit("b"))])
        }
        #expect(await machine.read { $0.job("a") != nil })
        #expect(await machine.read { $0.job("b") == nil })
        #expect(await machine.appliedIndex == Raft.LogIndex(1))
        #expect(log.all.last?.throughIndex == Raft.LogIndex(1))
        let error = UndecodableEntry(index: Raft.LogIndex(2), reason: "unknown command tag 99")
        #expect(error.description.contains("index 2") && error.description.contains("upgrade"))
    }

    @Test("snapshot and restore carry the whole state; old events are forgotten, waiters are released")
    func snapshotRestore() async throws {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        try await machine.apply([entry(1, submit("a")), entry(2, submit("b"))])
        let image = await machine.snapshot()
        let other = SchedulerStateMachine(executorID: "n3", replayThrough: .zero, logger: logger) { _ in }
        let claim = other.claimEvents()
        async let waiting = other.events(at: Raft.LogIndex(2), claim: claim)
        try await other.restore(image, through: Raft.LogIndex(2))
        #expect(await waiting == nil)
        #expect(await other.read { $0.jobCount } == 2)
        #expect(await other.appliedIndex == Raft.LogIndex(2))
    }

    @Test("events are kept only while a proposer's claim covers them, and a dropped entry reads nil, never []")
    func eventsKeptWhileClaimed() async throws {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, recentLimit: 4, logger: logger) { _ in }
        // Nobody proposing: nothing kept (before claims, every entry's events were, up to 16,384).
        for i in 1...10 { try await machine.apply([entry(UInt64(i), .tick)]) }
        #expect(machine.keptEventEntries == 0)
        // A claim covers the entries applied after it; a second claim only the later ones.
        let early = machine.claimEvents()
        for i in 11...12 { try await machine.apply([entry(UInt64(i), .tick)]) }
        let late = machine.claimEvents()
        try await machine.apply([entry(13, .tick)])
        #expect(machine.keptEventEntries == 3)
        #expect(await machine.events(at: Raft.LogIndex(11), claim: early) != nil)
        #expect(machine.keptEventEntries == 1, "11 and 12 are covered by no open claim any more")
        #expect(await machine.events(at: Raft.LogIndex(13), claim: late) != nil)
        #expect(machine.keptEventEntries == 0)
        // The ceiling: a claim held over more entries than `recentLimit` loses the oldest, which read nil.
        let held = machine.claimEvents()
        for i in 14...23 { try await machine.apply([entry(UInt64(i), .tick)]) }
        #expect(machine.keptEventEntries == 4)
        #expect(await machine.events(at: Raft.LogIndex(14), claim: held) == nil)
        #expect(machine.keptEventEntries == 0)
        // A released claim (failed proposal) frees what it covered.
        let failed = machine.claimEvents()
        try await machine.apply([entry(24, .tick)])
        machine.releaseEvents(failed)
        #expect(machine.keptEventEntries == 0)
    }
}

/// Claims and waits run off the actor (``ProposerEventsBoard``): a proposer that registers while
/// its entry is being applied must still be resumed, once, with its events.
@Suite("Proposers wait on the board, not the actor")
struct ProposerEventsBoardTests {
    let logger = Logger(label: "board-test")

    @Test("proposers waiting while batches apply concurrently all learn their entries' events", .timeLimit(.minutes(1)))
    func concurrentWaitersAllResumed() async throws {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        let count = 400
        let claims = (1...count).map { _ in machine.claimEvents() }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for (offset, claim) in claims.enumerated() {
                group.addTask { await machine.events(at: Raft.LogIndex(UInt64(offset + 1)), claim: claim) != nil }
            }
            group.addTask {
                // Batches of 7 entries, interleaved with the waiters registering.
                var next: UInt64 = 1
                while next <= UInt64(count) {
                    let last = min(next + 6, UInt64(count))
                    try await machine.apply((next...last).map { Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex($0),
                                                                             data: CommandCodec.encode(.tick, at: Timestamp(1_000))) })
                    next = last + 1
                    await Task.yield()
                }
                return true
            }
            var known = 0
            for try await found in group where found { known += 1 }
            #expect(known == count + 1, "every proposer learned its entry's events")
        }
        #expect(machine.keptEventEntries == 0, "every claim ended")
    }
}
