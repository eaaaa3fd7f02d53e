import Testing
@testable import RaftCore

@Suite("Partial partitions and liveness (raft-bugs #6)")
struct PartitionTests {
    /// Cuts both directions of each listed link.
    func cut(_ cluster: inout TestCluster, _ links: [(Raft.NodeID, Raft.NodeID)]) {
        for (a, b) in links {
            cluster.cutLinks.insert([a, b])
            cluster.cutLinks.insert([b, a])
        }
    }

    @Test("five nodes, n4 reaches only n2 and n5 only n3: no leader change while a quorum is connected")
    func partialConnectivity() {
        var cluster = TestCluster(voters: [n1, n2, n3, n4, n5])
        cluster.elect(n1)
        cut(&cluster, [(n4, n1), (n4, n3), (n4, n5), (n5, n1), (n5, n2), (n5, n4)])
        for _ in 0..<200 {
            cluster.tickAll()
            cluster.stabilize()
        }
        #expect(cluster.leaders == [n1])
        #expect(cluster[n1].term == Raft.Term(1))
        #expect(cluster[n2].term == Raft.Term(1))
        #expect(cluster[n3].term == Raft.Term(1))
    }

    @Test("one-way link loss from the leader to a follower: the follower cannot depose the leader")
    func oneWayLoss() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.cutLinks.insert([n1, n3])
        for _ in 0..<200 {
            cluster.tickAll()
            cluster.stabilize()
        }
        #expect(cluster.leaders == [n1])
        #expect(cluster[n1].term == Raft.Term(1))
    }

    @Test("PreVote with a split vote still elects a leader (etcd TestPreVoteWithSplitVote)")
    func preVoteSplitVote() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n1]
        // n2 and n3 time out together and split.
        for _ in 0..<40 where cluster.leaders.filter({ $0 != n1 }).isEmpty {
            cluster.tick(n2)
            cluster.tick(n3)
            cluster.stabilize()
        }
        let leaders = cluster.leaders.filter { $0 != n1 }
        #expect(leaders.count == 1)
    }

    @Test("a node isolated and then healed rejoins without an election")
    func isolatedThenHealed() throws {
        var cluster = TestCluster(voters: [n1, n2, n3, n4, n5])
        cluster.elect(n1)
        cluster.isolated = [n5]
        for index in 0..<5 { _ = try cluster.propose(n1, "w\(index)") }
        for _ in 0..<100 {
            cluster.tickAll()
            cluster.stabilize()
        }
        cluster.isolated = []
        for _ in 0..<50 {
            cluster.tickAll()
            cluster.stabilize()
        }
        #expect(cluster.leaders == [n1])
        #expect(cluster[n1].term == Raft.Term(1))
        #expect(cluster.appliedData(n5) == (0..<5).map { "w\($0)" })
    }
}
