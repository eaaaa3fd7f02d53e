import Logging
import Node
import RaftCore
import RaftStorage
import Synchronization
import Testing

/// The shell's half of "peers are checked, not trusted": a forged sender is dropped before the
/// core sees it, and every drop (the core's too) reaches `Options.onDroppedMessage`.
@Suite("RaftDriver reports dropped peer messages", .timeLimit(.minutes(1)))
struct DroppedMessageReportTests {
    final class Reports: Sendable {
        let dropped = Mutex<[Raft.DroppedMessage]>([])
        var reasons: [Raft.DropReason] { dropped.withLock { $0.map(\.reason) } }
    }

    func driver(reports: Reports) throws -> RaftDriver {
        try RaftDriver(
            config: Raft.Config(id: "n1"), bootstrapMembership: Raft.Membership(voters: ["n1", "n2", "n3"]),
            store: InMemoryLogStore(), stateMachine: RecordingStateMachine(), messenger: InMemoryNetwork().messenger(for: "n1"),
            options: RaftDriver.Options(tickInterval: .milliseconds(5),
                                        onDroppedMessage: { dropped in reports.dropped.withLock { $0.append(dropped) } }),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), seed: 1)
    }

    @Test("a message whose from differs from the authenticated peer is dropped as forged_sender")
    func forgedSenderDropped() throws {
        let reports = Reports()
        let driver = try driver(reports: reports)
        // n3's connection carries a vote request that claims to come from n2.
        let forged = Raft.Message(from: "n2", to: "n1", term: Raft.Term(7),
                                  body: .voteRequest(Raft.VoteRequest(lastLogIndex: .zero, lastLogTerm: .zero, isPreVote: false)))
        driver.receive(forged, authenticatedAs: "n3")
        #expect(reports.reasons == [.forgedSender])
        #expect(reports.dropped.withLock { $0.first?.from } == "n3")
    }

    @Test("a message the core refuses is reported with the core's reason")
    func coreDropReported() async throws {
        let reports = Reports()
        let driver = try driver(reports: reports)
        let task = Task { try await driver.run() }
        defer { task.cancel() }
        let overflowing = Raft.Message(from: "n2", to: "n1", term: Raft.Term(UInt64.max),
                                       body: .heartbeat(Raft.Heartbeat(commit: .zero)))
        driver.receive(overflowing, authenticatedAs: "n2")
        try await waitUntil("the core's drop is reported") { !reports.reasons.isEmpty }
        #expect(reports.reasons == [.termOutOfRange])
        #expect(await driver.status.term < Raft.Term(UInt64.max))
    }
}
