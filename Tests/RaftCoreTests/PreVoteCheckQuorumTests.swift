import Testing
@testable import RaftCore

@Suite("Thesis §9.6 PreVote and §6.2 CheckQuorum")
struct PreVoteCheckQuorumTests {
    @Test("PreVote: an isolated node does not raise its term, and rejoining causes no leader change")
    func isolatedNodeDoesNotDisrupt() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n3]
        for _ in 0..<60 {
            cluster.tickAll()
            cluster.stabilize()
        }
        #expect(cluster[n3].term == Raft.Term(1))
        #expect(cluster[n3].role == .preCandidate)
        cluster.isolated = []
        for _ in 0..<30 {
            cluster.tickAll()
            cluster.stabilize()
        }
        #expect(cluster.leaders == [n1])
        #expect(cluster[n1].term == Raft.Term(1))
        #expect(cluster[n3].leader == n1)
    }

    /// Both survivors of a dead leader time out before either hears the other's pre-vote.
    static func simultaneousPreCandidates(_ configure: (inout Raft.Config) -> Void = { _ in }) -> TestCluster {
        var cluster = TestCluster(voters: [n1, n2, n3], configure: configure)
        cluster.elect(n1)
        cluster.crashed = [n1]
        for survivor in [n2, n3] {
            while cluster[survivor].role != .preCandidate { cluster.tick(survivor) }
        }
        return cluster
    }

    @Test("PreVote: two pre-candidates that time out together do not both stand: one leader in the next term, no split vote")
    func simultaneousPreCandidatesElectOne() {
        var cluster = Self.simultaneousPreCandidates()
        cluster.stabilize()
        #expect(cluster.leaders.count == 1, "\(cluster.leaders)")
        #expect(cluster.leaders.first == n2, "equal logs: the lower id stands")
        #expect(cluster[n2].term == Raft.Term(2) && cluster[n3].term == Raft.Term(2))
        #expect(cluster[n3].role == .follower && cluster[n3].leader == n2)
    }

    @Test("PreVote: between two pre-candidates the more up-to-date log stands, whatever the ids")
    func simultaneousPreCandidatesPreferTheLongerLog() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        // n3 gets an entry n2 does not.
        cluster.cutLinks = [[n1, n2]]
        _ = try cluster.propose(n1, "only-n3")
        cluster.stabilize()
        cluster.crashed = [n1]
        cluster.cutLinks = []
        for survivor in [n2, n3] {
            while cluster[survivor].role != .preCandidate { cluster.tick(survivor) }
        }
        cluster.stabilize()
        #expect(cluster.leaders == [n3], "\(cluster.leaders)")
        #expect(cluster[n3].term == Raft.Term(2))
    }

    @Test("PreVote: a pre-vote changes neither the voter's term nor its vote")
    func preVoteIsStateless() {
        var node = Raft.Instance(config: Raft.Config(id: n1), membership: Raft.Membership(voters: [n1, n2, n3]), seed: 1)
        let request = Raft.VoteRequest(lastLogIndex: .zero, lastLogTerm: .zero, isPreVote: true)
        let actions = node.receive(Raft.Message(from: n2, to: n1, term: Raft.Term(1), body: .voteRequest(request)))
        #expect(node.term == .zero)
        #expect(node.vote == nil)
        #expect(actions == [.send(Raft.Message(from: n1, to: n2, term: Raft.Term(1),
                                               body: .voteResponse(Raft.VoteResponse(granted: true, isPreVote: true))))])
    }

    @Test("CheckQuorum: a leader that hears from no quorum for an election timeout steps down")
    func leaderStepsDownWithoutQuorum() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n1]
        for _ in 0..<(2 * cluster[n1].config.electionTicks) {
            cluster.tick(n1)
            cluster.stabilize()
        }
        #expect(cluster[n1].role != .leader)
        #expect(cluster[n1].term == Raft.Term(1))
    }

    @Test("CheckQuorum: a leader that hears from a quorum keeps leading")
    func leaderKeepsQuorum() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n3]
        for _ in 0..<50 {
            cluster.tick(n1)
            cluster.stabilize()
        }
        #expect(cluster[n1].role == .leader)
    }

    @Test("Th §4.2.3 a follower that heard from its leader within the timeout ignores a higher-term vote request")
    func leaseIgnoresVotes() {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.preVote = false }
        cluster.elect(n1)
        let request = Raft.VoteRequest(lastLogIndex: Raft.LogIndex(5), lastLogTerm: Raft.Term(9), isPreVote: false)
        cluster.input(n2) { $0.receive(Raft.Message(from: n3, to: n2, term: Raft.Term(7), body: .voteRequest(request))) }
        #expect(cluster[n2].term == Raft.Term(1))
        #expect(cluster.network.isEmpty)
    }

    @Test("CheckQuorum without PreVote frees a stuck candidate (etcd TestFreeStuckCandidateWithCheckQuorum)")
    func freeStuckCandidate() {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.preVote = false }
        cluster.elect(n1)
        cluster.isolated = [n1]
        // n3 times out twice; n2 still has a lease from n1 and ignores it.
        for _ in 0..<40 {
            cluster.tick(n3)
            cluster.stabilize()
        }
        let stuckTerm = cluster[n3].term
        #expect(cluster[n3].role == .candidate)
        #expect(stuckTerm > cluster[n1].term)
        cluster.isolated = []
        // n1's heartbeat reaches n3, which answers with its higher term: n1 steps down.
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster[n1].role == .follower)
        #expect(cluster[n1].term == stuckTerm)
        // Now an election can complete.
        for _ in 0..<60 where cluster.leaders.isEmpty {
            cluster.tickAll()
            cluster.stabilize()
        }
        #expect(cluster.leaders.count == 1)
    }

    @Test("Without PreVote a rejoining follower with a higher term forces an election (etcd TestDisruptiveFollower)")
    func disruptiveFollowerWithoutPreVote() {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.preVote = false }
        cluster.elect(n1)
        cluster.isolated = [n3]
        for _ in 0..<30 {
            cluster.tick(n3)
            cluster.stabilize()
        }
        #expect(cluster[n3].term > Raft.Term(1))
        cluster.isolated = []
        cluster.tick(n1)
        cluster.stabilize()
        // The leader learns the higher term from n3's answer and steps down.
        #expect(cluster[n1].role == .follower)
    }

    @Test("With PreVote the same rejoin is harmless (etcd TestDisruptiveFollowerPreVote)")
    func disruptiveFollowerWithPreVote() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n3]
        for _ in 0..<30 {
            cluster.tick(n3)
            cluster.stabilize()
        }
        cluster.isolated = []
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster[n1].role == .leader)
        #expect(cluster[n1].term == Raft.Term(1))
        #expect(cluster[n3].role == .follower)
    }

    @Test("A leader is elected after the whole cluster restarts, within two election timeouts of ticks")
    func fullRestart() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        _ = try cluster.propose(n1, "a")
        cluster.stabilize()
        for id in [n1, n2, n3] { cluster.crash(id) }
        for id in [n1, n2, n3] { cluster.restart(id) }
        var ticks = 0
        while cluster.leaders.isEmpty, ticks < 2 * 2 * cluster[n1].config.electionTicks {
            cluster.tickAll()
            cluster.stabilize()
            ticks += 1
        }
        #expect(cluster.leaders.count == 1)
        let leader = try #require(cluster.leaders.first)
        cluster.tickAll()
        cluster.stabilize()
        #expect(cluster.appliedData(leader) == ["a"])
    }
}
