import Logging
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import Testing

/// A downgrade below a recorded build is refused (docs/upgrades.md, "Recorded builds"): a node
/// whose state records a newer format for it than its build stops, from the log or a snapshot.
@Suite("recorded builds: a node refuses to run below its own record")
struct BuildBelowRecordTests {
    let t0 = Timestamp(1_800_000_000_000)
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    var newer: UInt32 { CommandCodec.buildFormatVersion + 1 }

    func record(_ member: String, _ format: UInt32) -> Command {
        .recordMemberFormats([MemberFormat(member: member, format: format)])
    }

    @Test("a record above this build for this node stops it with a message naming both formats; another node's, or an equal one, does not")
    func fromTheLog() async throws {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        try await machine.apply([Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(1),
                                            data: CommandCodec.encode(record("n2", CommandCodec.buildFormatVersion), at: t0))])
        try await machine.apply([Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(2), data: CommandCodec.encode(record("n3", newer), at: t0))])
        do {
            try await machine.apply([Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(3), data: CommandCodec.encode(record("n2", newer), at: t0))])
            Issue.record("a node ran below its own record")
        } catch let refusal as BuildBelowRecord {
            #expect(refusal.node == "n2" && refusal.recorded == newer && refusal.build == CommandCodec.buildFormatVersion)
            #expect(refusal.description.contains("format \(newer)") && refusal.description.contains("docs/upgrades.md"))
        }
    }

    @Test("the same from a snapshot")
    func fromASnapshot() async throws {
        var state = SchedulerState()
        var events: [SchedulerEvent] = []
        state.apply(record("n2", newer), at: t0, index: 1, into: &events)
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        await #expect(throws: BuildBelowRecord.self) { try await machine.restore(state.snapshot(), through: Raft.LogIndex(1)) }
        let other = SchedulerStateMachine(executorID: "n1", replayThrough: .zero, logger: logger) { _ in }
        try await other.restore(state.snapshot(), through: Raft.LogIndex(1))
    }
}
