import Testing
@testable import RaftCore

@Suite("A leader proposing a batch of entries at once")
struct BatchProposalTests {
    @Test("a batch is one log append and one AppendEntries per follower, at consecutive indexes; it commits and applies in order everywhere")
    func oneAppendPerBatch() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.tickAll()
        cluster.stabilize()
        guard var leader = cluster.nodes[n1] else {
            Issue.record("no leader")
            return
        }
        let before = leader.lastLogIndex
        let proposal = try leader.propose(batch: ["a", "b", "c"].map { Array($0.utf8) })
        cluster.nodes[n1] = leader
        #expect(proposal.index == before + 1)
        let appends = proposal.actions.compactMap { action -> [Raft.Entry]? in
            if case .appendLog(let entries) = action { entries } else { nil }
        }
        #expect(appends.count == 1)
        #expect(appends.first?.map(\.index) == [before + 1, before + 2, before + 3])
        let sends = proposal.actions.compactMap { action -> Raft.Message? in
            if case .send(let message) = action, case .append(let append) = message.body, !append.entries.isEmpty { message } else { nil }
        }
        #expect(Set(sends.map(\.to)) == [n2, n3])
        #expect(sends.count == 2)
        cluster.perform(proposal.actions, on: n1)
        cluster.stabilize()
        cluster.tickAll()
        cluster.stabilize()
        for id in [n1, n2, n3] { #expect(cluster.appliedData(id).suffix(3) == ["a", "b", "c"]) }
    }

    @Test("a follower refuses a batch as it refuses one proposal; an empty batch appends nothing")
    func refusalsAndEmpty() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        guard var follower = cluster.nodes[n2], var leader = cluster.nodes[n1] else {
            Issue.record("no nodes")
            return
        }
        #expect(throws: Raft.RaftError.self) { _ = try follower.propose(batch: [[1]]) }
        let last = leader.lastLogIndex
        let empty = try leader.propose(batch: [])
        #expect(empty.index == last + 1)
        #expect(leader.lastLogIndex == last)
        #expect(!empty.actions.contains { if case .appendLog = $0 { true } else { false } })
    }
}
