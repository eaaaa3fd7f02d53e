import Testing
@testable import RaftCore

@Suite("Thesis §4 membership changes and learners")
struct MembershipTests {
    func change(_ cluster: inout TestCluster, _ leader: Raft.NodeID, _ change: Raft.MembershipChange) throws(Raft.RaftError) {
        guard var node = cluster.nodes[leader] else { return }
        let proposal = try node.proposeMembershipChange(change)
        cluster.nodes[leader] = node
        cluster.perform(proposal.actions, on: leader)
    }

    func settle(_ cluster: inout TestCluster, rounds: Int = 3) {
        for _ in 0..<rounds {
            cluster.tickAll()
            cluster.stabilize()
        }
    }

    @Test("§4.2.1 a learner replicates the log but neither votes nor counts toward commit")
    func learnerDoesNotCount() throws {
        var cluster = TestCluster(voters: [n1, n2], learners: [n3])
        cluster.elect(n1)
        cluster.isolated = [n2]
        _ = try cluster.propose(n1, "x")
        cluster.stabilize()
        #expect(cluster[n3].lastLogIndex == Raft.LogIndex(2))
        #expect(cluster[n1].commitIndex == Raft.LogIndex(1), "a learner's copy must not commit")
        // A learner never campaigns.
        for _ in 0..<50 { cluster.tick(n3) }
        #expect(cluster[n3].role == .follower)
        #expect(cluster[n3].term == Raft.Term(1))
    }

    @Test("§4.1 add a learner, let it catch up, then promote it to voter")
    func addLearnerThenPromote() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        _ = try cluster.propose(n1, "a")
        cluster.stabilize()
        cluster.addBlankNode(n4)
        try change(&cluster, n1, .addLearner(n4))
        cluster.stabilize()
        cluster.tickAll()
        cluster.stabilize()
        #expect(cluster[n4].membership == Raft.Membership(voters: [n1, n2, n3], learners: [n4]))
        #expect(cluster.appliedData(n4) == ["a"])
        try change(&cluster, n1, .promote(n4))
        cluster.stabilize()
        #expect(cluster[n1].membership.voters == [n1, n2, n3, n4])
        #expect(cluster[n4].isVoter)
    }

    @Test("demote: a voter becomes a learner that replicates but no longer counts, and promote brings it back")
    func demoteThenPromote() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        try change(&cluster, n1, .demote(n3))
        cluster.stabilize()
        settle(&cluster)
        #expect(cluster[n1].membership == Raft.Membership(voters: [n1, n2], learners: [n3]))
        #expect(cluster[n3].membership == Raft.Membership(voters: [n1, n2], learners: [n3]))
        #expect(!cluster[n3].isVoter)
        // n3's copy no longer commits anything: with n2 cut off, nothing commits.
        cluster.isolated = [n2]
        _ = try cluster.propose(n1, "x")
        cluster.stabilize()
        #expect(cluster[n3].lastLogIndex == cluster[n1].lastLogIndex)
        #expect(cluster[n1].commitIndex < cluster[n1].lastLogIndex, "a demoted learner's copy must not commit")
        cluster.isolated = []
        settle(&cluster)
        try change(&cluster, n1, .promote(n3))
        settle(&cluster)
        #expect(cluster[n1].membership == Raft.Membership(voters: [n1, n2, n3]))
        #expect(cluster[n3].isVoter)
        #expect(cluster.appliedData(n3) == ["x"])
    }

    @Test("demote refuses the last voter and non-voters; a demoted leader steps down once it commits")
    func demoteRules() throws {
        var single = TestCluster(voters: [n1])
        single.elect(n1)
        #expect(throws: Raft.RaftError.self) { try change(&single, n1, .demote(n1)) }
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        try change(&cluster, n1, .demote(n1))
        cluster.stabilize()
        settle(&cluster)
        #expect(cluster[n1].role != .leader)
        #expect(cluster[n1].membership.learners == [n1])
        do {
            try change(&cluster, n1, .demote(n1))
            Issue.record("a learner was demoted")
        } catch {
            #expect(error.code == .notLeader || error.code == .invalidMembershipChange)
        }
    }

    @Test("§4.1 only one membership change may be uncommitted at a time")
    func oneAtATime() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n2, n3]
        try change(&cluster, n1, .addLearner(n4))
        do {
            try change(&cluster, n1, .addLearner(n5))
            Issue.record("a second uncommitted change was accepted")
        } catch {
            #expect(error.code == .membershipChangePending)
            #expect(error.isRetriable)
        }
    }

    @Test("raft-dev 2015: a new leader changes membership only after committing an entry of its own term")
    func newLeaderMustCommitFirst() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.tick(n1, times: cluster[n1].randomizedElectionTimeout)
        while cluster[n1].role != .leader { cluster.deliverNext() }
        cluster.network = []
        do {
            try change(&cluster, n1, .addLearner(n4))
            Issue.record("change accepted before the no-op committed")
        } catch {
            #expect(error.code == .membershipChangePending)
        }
        cluster.tick(n1)
        cluster.stabilize()
        try change(&cluster, n1, .addLearner(n4))
    }

    @Test("§4.1 invalid changes name the problem")
    func invalidChanges() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        for bad in [Raft.MembershipChange.addLearner(n2), .promote(n3), .remove(n5), .addVoter(n1), .demote(n5)] {
            do {
                try change(&cluster, n1, bad)
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.code == .invalidMembershipChange)
                #expect(!error.isRetriable)
            }
        }
    }

    @Test("§4.1 a removed follower receives no entry after its removal (only the farewell through it)")
    func removedFollowerGetsNothing() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        try change(&cluster, n1, .remove(n3))
        cluster.stabilize()
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster[n1].membership.voters == [n1, n2])
        let removal = cluster[n1].lastLogIndex
        cluster.sent = []
        _ = try cluster.propose(n1, "x")
        settle(&cluster)
        settle(&cluster, rounds: 40)
        let toRemoved = cluster.sent.filter { $0.to == n3 && $0.from == n1 }
        #expect(toRemoved.allSatisfy {
            if case .append(let append) = $0.body { return append.entries.allSatisfy { $0.index <= removal } }
            return false
        }, "only farewell appends through the removal at \(removal): \(toRemoved)")
        #expect(cluster[n3].lastLogIndex <= removal)
        #expect(cluster.appliedData(n2) == ["x"])
    }

    @Test("§4.2.2 a removed leader steps down once the change commits (etcd StepDownOnRemoval)")
    func removedLeaderStepsDown() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        try change(&cluster, n1, .remove(n1))
        cluster.stabilize()
        #expect(cluster[n1].role == .follower)
        #expect(!cluster[n1].isVoter)
        cluster.sent = []
        // The remaining two elect a leader; the old one never campaigns again.
        for _ in 0..<60 where cluster.leaders.isEmpty {
            cluster.tickAll()
            cluster.stabilize()
        }
        #expect(cluster.leaders.count == 1)
        #expect(cluster.leaders.first != n1)
        settle(&cluster, rounds: 40)
        #expect(cluster[n1].role == .follower)
        #expect(!cluster.sent.contains { $0.from == n1 && { if case .voteRequest = $0.body { true } else { false } }($0) })
    }

    @Test("Th §4.2.3 a removed node that never learned of its removal does not disrupt the cluster")
    func removedNodeDoesNotDisrupt() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n3]
        try change(&cluster, n1, .remove(n3))
        cluster.stabilize()
        cluster.tick(n1)
        cluster.stabilize()
        cluster.isolated = []
        let term = cluster[n1].term
        settle(&cluster, rounds: 80)
        #expect(cluster.leaders == [n1])
        #expect(cluster[n1].term == term)
    }

    @Test("a learner restarts as a learner")
    func learnerRestartsAsLearner() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.addBlankNode(n4)
        try change(&cluster, n1, .addLearner(n4))
        settle(&cluster)
        cluster.crash(n4)
        cluster.restart(n4)
        #expect(cluster[n4].membership.learners == [n4])
        #expect(!cluster[n4].isVoter)
    }

    @Test("add then remove across a leader crash keeps one configuration")
    func addRemoveAcrossLeaderCrash() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.addBlankNode(n4)
        try change(&cluster, n1, .addVoter(n4))
        cluster.stabilize()
        cluster.crash(n1)
        for _ in 0..<80 where cluster.leaders.isEmpty {
            cluster.tickAll()
            cluster.stabilize()
        }
        let leader = try #require(cluster.leaders.first)
        settle(&cluster)
        try change(&cluster, leader, .remove(n4))
        settle(&cluster)
        for id in [n2, n3] {
            #expect(cluster[id].membership.voters == [n1, n2, n3])
        }
    }

    @Test("raft-bugs #9: a removed id is never added again")
    func removedIdNotReused() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        try change(&cluster, n1, .remove(n3))
        settle(&cluster)
        #expect(cluster[n1].membership.removed == [n3])
        #expect(cluster[n2].membership.removed == [n3])
        for again in [Raft.MembershipChange.addLearner(n3), .addVoter(n3)] {
            do {
                try change(&cluster, n1, again)
                Issue.record("re-added \(again)")
            } catch {
                #expect(error.code == .invalidMembershipChange)
            }
        }
    }

    @Test("membership payloads round-trip and reject garbage")
    func membershipCodec() {
        let membership = Raft.Membership(voters: [n1, "a-longer-node-id"], learners: [n4], removed: [n5])
        #expect(Raft.Membership(encoded: membership.encoded) == membership)
        // Format 1 (no removed set) still decodes.
        #expect(Raft.Membership(encoded: [1, 0, 0, 0, 1, 0, 0, 0, 2, 110, 49, 0, 0, 0, 0]) == Raft.Membership(voters: [n1]))
        #expect(Raft.Membership(encoded: [1, 0, 0]) == nil)
        #expect(Raft.Membership(encoded: []) == nil)
        #expect(Raft.Membership(encoded: membership.encoded + [0]) == nil)
    }
}
