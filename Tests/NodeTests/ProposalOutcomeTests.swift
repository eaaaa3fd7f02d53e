import Node
import RaftCore
import RaftStorage
import Testing

@Suite("Proposal outcomes across leader changes, and persist batching", .timeLimit(.minutes(1)))
struct ProposalOutcomeTests {
    private func waitForNewLeader(_ cluster: TestCluster, otherThan old: Raft.NodeID) async throws -> Raft.NodeID {
        var found: Raft.NodeID?
        try await waitUntil("a leader other than \(old)") {
            for id in cluster.ids where id != old {
                if try await cluster.driver(id).status.role == .leader {
                    found = id
                    return true
                }
            }
            return false
        }
        return try #require(found)
    }

    @Test("a proposal on a cut-off leader is overwritten by the new leader's entry at its index")
    func overwritten() async throws {
        let cluster = try TestCluster(electionTicks: 40)
        let old = try await cluster.waitForLeader()
        cluster.network.isolate(old)
        let driver = try cluster.driver(old)
        async let outcome = proposalOutcome(driver, "lost")
        let new = try await waitForNewLeader(cluster, otherThan: old)
        _ = try await cluster.driver(new).propose(Array("kept".utf8))
        cluster.network.heal(old)
        let result = await outcome
        switch result {
        case .success(let index):
            Issue.record("the cut-off leader's proposal was acknowledged at \(index)")
        case .failure(let error):
            #expect(error.code == .entryOverwritten, "\(error)")
        }
        let applied = try await cluster.waitForCommands(count: 1)
        for id in cluster.ids { #expect(applied[id] == ["kept"], "node \(id)") }
        try await cluster.stopAll()
    }

    @Test("a proposal on a leader that stays cut off fails with leadership-lost once it steps down")
    func leadershipLost() async throws {
        let cluster = try TestCluster(electionTicks: 40)
        let old = try await cluster.waitForLeader()
        cluster.network.isolate(old)
        let result = await proposalOutcome(try cluster.driver(old), "unknown")
        switch result {
        case .success(let index):
            Issue.record("the cut-off leader's proposal was acknowledged at \(index)")
        case .failure(let error):
            #expect(error.code == .leadershipLost, "\(error)")
            #expect(error.isRetriable)
        }
        try await cluster.stopAll()
    }

    @Test("proposals arriving during a slow fsync are written together, not one fsync each")
    func persistBatching() async throws {
        let stores: [Raft.NodeID: SlowStore] = ["n1": SlowStore(latency: .milliseconds(3)),
                                                "n2": SlowStore(latency: .milliseconds(3)),
                                                "n3": SlowStore(latency: .milliseconds(3))]
        let cluster = try TestCluster(stores: stores)
        let leader = try await cluster.waitForLeader()
        let store = try #require(stores[leader])
        let driver = try cluster.driver(leader)
        let before = store.persistCalls
        let count = 200
        try await withThrowingTaskGroup(of: Raft.LogIndex.self) { group in
            for i in 0..<count { group.addTask { try await driver.propose(Array("b\(i)".utf8)) } }
            for try await _ in group {}
        }
        let calls = store.persistCalls - before
        print("persist batching: \(count) concurrent proposals took \(calls) persist calls on the leader")
        #expect(calls < count / 4, "\(calls) persist calls for \(count) proposals")
        _ = try await cluster.waitForCommands(count: count)
        try await cluster.stopAll()
    }
}
