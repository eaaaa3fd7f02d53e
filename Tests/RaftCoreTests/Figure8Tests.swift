import Testing
@testable import RaftCore

/// The Raft paper's Figure 8 hazard, scripted on three nodes: n1 holds an old-term entry that a
/// later leader n2 can still overwrite. Counting replicas of that entry must not commit it.
enum Figure8 {
    /// Runs the script and returns the applied entries of n1 and n2 at the end.
    static func run(configure: @escaping (inout Raft.Config) -> Void = { _ in }) throws -> (n1: [Raft.Entry], n2: [Raft.Entry]) {
        var cluster = TestCluster(voters: [n1, n2, n3]) { config in
            config.preVote = false
            config.checkQuorum = false
            config.maxEntriesPerAppend = 1
            configure(&config)
        }
        // Term 1: n1 leads; its "old" entry at index 2 reaches only itself.
        cluster.elect(n1)
        cluster.isolated = [n1]
        _ = try cluster.propose(n1, "old")
        cluster.network = []
        // Term 2: n2 leads with n3's vote; its no-op at index 2 reaches only itself.
        cluster.isolated = [n1]
        cluster.tick(n2, times: cluster[n2].randomizedElectionTimeout)
        while cluster[n2].role != .leader { cluster.deliverNext() }
        cluster.network = []
        // Term 3: n1 comes back and wins with n3 (its last term 1 at index 2 beats n3's index 1).
        // (n1 restarts first, so it forgets it led term 1.)
        cluster.isolated = [n2]
        cluster.crash(n1)
        cluster.restart(n1)
        while cluster[n1].role != .leader {
            cluster.tick(n1)
            while cluster[n1].role != .leader, !cluster.network.isEmpty { cluster.deliverNext() }
        }
        #expect(cluster[n1].term == Raft.Term(3))
        // n1 sends its entries one per append: deliver until n3 acknowledged index 2 (the
        // old-term entry), then cut n3 off before the term-3 no-op arrives.
        while cluster[n1].replicationState(of: n3).map({ $0.match < Raft.LogIndex(2) }) ?? false, !cluster.network.isEmpty {
            cluster.deliverNext()
        }
        cluster.network = []
        // Term 4: n2 (last term 2) beats n3 (last term 1) and overwrites index 2 everywhere it can.
        // (n2 restarts first, so it forgets it led term 2.)
        cluster.isolated = [n1]
        cluster.crash(n2)
        cluster.restart(n2)
        while cluster[n2].role != .leader {
            cluster.tick(n2)
            cluster.stabilize()
        }
        cluster.tick(n2)
        cluster.stabilize()
        cluster.tick(n2)
        cluster.stabilize()
        return (cluster.applied[n1] ?? [], cluster.applied[n2] ?? [])
    }
}

@Suite("§5.4.2 Figure 8")
struct Figure8Tests {
    @Test("§5.4.2 Figure 8: an old-term entry replicated on a majority is not committed, so no replica applies a different entry")
    func figure8() throws {
        let applied = try Figure8.run()
        let common = min(applied.n1.count, applied.n2.count)
        #expect(Array(applied.n1.prefix(common)) == Array(applied.n2.prefix(common)))
        #expect(!applied.n1.contains { $0.data == Array("old".utf8) })
        #expect(applied.n2.count >= 2)
    }

    #if QUORUM_SIM_MUTATIONS
    @Test("the commit-old-term mutation makes Figure 8 diverge")
    func figure8Mutation() throws {
        let applied = try Figure8.run { $0.mutation = .commitOldTerm }
        let common = min(applied.n1.count, applied.n2.count)
        #expect(Array(applied.n1.prefix(common)) != Array(applied.n2.prefix(common)))
    }
    #endif
}
