import Logging
import NodeRuntime
import RaftCore
import SchedulerCore
import Testing

@Suite("EventHub: the state machine feeds the node's event window")
struct EventHubTests {
    let t0 = Timestamp(1_800_000_000_000)
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func entry(_ index: UInt64, _ id: String) -> Raft.Entry {
        let command = Command.submitJob(SubmitJob(jobID: JobID(id), spec: JobSpec(name: id), runID: RunID("r-" + id)))
        return Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(index), data: CommandCodec.encode(command, at: t0))
    }

    func readAll(_ hub: EventHub, _ cursor: inout EventCursor) -> [ChangeEvent] {
        var all: [ChangeEvent] = []
        while case .events(let events, let next) = hub.read(cursor, limit: 100, clientBuffer: 1_000), next.next != cursor.next {
            all += events
            cursor = next
        }
        return all
    }

    @Test("applied entries become numbered events stamped with the entry's time; two replicas number them alike")
    func appliedEntriesAreNumbered() async throws {
        let hubs = [EventHub(capacity: 100), EventHub(capacity: 100)]
        var cursors: [EventCursor] = []
        for hub in hubs {
            cursors.append(hub.open(lastEventID: nil).cursor)
            let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, eventHub: hub, logger: logger) { _ in }
            try await machine.apply([entry(1, "a"), entry(2, "b")])
        }
        let first = readAll(hubs[0], &cursors[0])
        let second = readAll(hubs[1], &cursors[1])
        #expect(first == second)
        #expect(first.first?.id == 1_000_000 && first.first?.kind == .job && first.first?.jobID == "a")
        #expect(first.contains { $0.id == 2_000_000 && $0.jobID == "b" })
        #expect(first.allSatisfy { $0.at == t0 })
    }

    @Test("a snapshot install resets open clients and old ids; a closed hub ends every stream")
    func restoreResets() async throws {
        let hub = EventHub(capacity: 100)
        let source = SchedulerStateMachine(executorID: "n1", replayThrough: .zero, logger: logger) { _ in }
        try await source.apply([entry(1, "a"), entry(2, "b")])
        let snapshot = await source.snapshot()
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, eventHub: hub, logger: logger) { _ in }
        try await machine.apply([entry(1, "a")])
        let open = hub.open(lastEventID: 1_000_000).cursor
        try await machine.restore(snapshot, through: Raft.LogIndex(2))
        guard case .reset = hub.read(open, limit: 10, clientBuffer: 10) else {
            Issue.record("a client open across a snapshot install must get a reset")
            return
        }
        #expect(hub.open(lastEventID: 1_000_000).opening == .reset)
        #expect(hub.open(lastEventID: 2_999_999).opening == .resumed)
        let wakes = hub.wakes()
        #expect(hub.clients == 1)
        hub.close()
        for await _ in wakes {}
        for await _ in hub.wakes() {}
        #expect(hub.clients == 0)
    }
}
