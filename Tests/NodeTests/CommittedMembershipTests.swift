import Logging
import Node
import RaftCore
import RaftStorage
import Synchronization
import Testing

/// `RaftDriver.Options.onMembershipCommitted`: what a member may treat as final (a removal it
/// answers with a removal notice, docs/raft.md "Removal").
@Suite("RaftDriver reports a configuration as committed only once it is, and once")
struct CommittedMembershipTests {
    @Test("a single voter: the learner's add and removal are each reported committed once, with their index; an add that cannot commit is reported changed but never committed")
    func committedOnce() async throws {
        let changed = Mutex<[Raft.Membership]>([])
        let committed = Mutex<[(Raft.Membership, Raft.LogIndex)]>([])
        let driver = try RaftDriver(
            config: Raft.Config(id: "n1", electionTicks: 10, heartbeatTicks: 1),
            bootstrapMembership: Raft.Membership(voters: ["n1"]), store: InMemoryLogStore(), stateMachine: RecordingStateMachine(),
            messenger: InMemoryNetwork().messenger(for: "n1"),
            options: RaftDriver.Options(tickInterval: .milliseconds(5), readTimeoutTicks: 200, proposalOutcomeTicks: 200,
                                        onMembershipChanged: { membership in changed.withLock { $0.append(membership) } },
                                        onMembershipCommitted: { membership, index in committed.withLock { $0.append((membership, index)) } }),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), seed: 1)
        let running = Task { try await driver.run() }
        defer { running.cancel() }
        // A membership change waits for an entry of the leader's term to commit (its no-op).
        try await waitUntil("n1 leads and committed an entry of its term") {
            let status = await driver.status
            return status.leader == "n1" && status.commitIndex > .zero
        }

        let added = try await driver.changeMembership(.addLearner("n2"))
        try await waitUntil("the add reported committed") { committed.withLock { $0.contains { $0.1 == added } } }
        let removed = try await driver.changeMembership(.remove("n2"))
        try await waitUntil("the removal reported committed") { committed.withLock { $0.contains { $0.1 == removed } } }
        let reports = committed.withLock { $0 }
        #expect(reports.filter { $0.1 == added }.count == 1, "\(reports)")
        let removal = try #require(reports.first { $0.1 == removed })
        #expect(removal.0.removed == ["n2"])

        // A second voter that never answers: the change is appended (and reported as the
        // configuration in use) but cannot commit, so it is never reported committed.
        let stuck = Task { try? await driver.changeMembership(.addVoter("n3")) }
        defer { stuck.cancel() }
        try await waitUntil("the stuck add is the configuration in use") {
            changed.withLock { $0.last?.voters.contains("n3") ?? false }
        }
        // The report is made in the same batch of actions as the change, so an ungated one
        // would already be here.
        #expect(!committed.withLock { $0.contains { $0.0.voters.contains("n3") } }, "\(committed.withLock { $0 })")
    }
}
