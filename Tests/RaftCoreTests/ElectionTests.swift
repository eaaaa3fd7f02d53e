import Testing
@testable import RaftCore

@Suite("§5.1–§5.2 terms and leader election")
struct ElectionTests {
    @Test("§5.2 a follower that hears nothing campaigns and wins a three-node election")
    func electsLeader() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        #expect(cluster.leaders == [n1])
        #expect(cluster[n1].term == Raft.Term(1))
        #expect(cluster[n2].leader == n1)
        #expect(cluster[n3].leader == n1)
        // The leader's no-op of term 1 commits everywhere.
        for id in [n1, n2, n3] { #expect(cluster[id].commitIndex == Raft.LogIndex(1)) }
    }

    @Test("§5.2 election timeouts are randomized in [election, 2×election) and reproducible from the seed")
    func randomizedTimeouts() {
        var seen: Set<Int> = []
        for seed in 0..<50 as Range<UInt64> {
            let first = Raft.Instance(config: Raft.Config(id: n1), membership: Raft.Membership(voters: [n1, n2, n3]), seed: seed)
            let again = Raft.Instance(config: Raft.Config(id: n1), membership: Raft.Membership(voters: [n1, n2, n3]), seed: seed)
            #expect(first.randomizedElectionTimeout == again.randomizedElectionTimeout)
            #expect((10..<20).contains(first.randomizedElectionTimeout))
            seen.insert(first.randomizedElectionTimeout)
        }
        #expect(seen.count > 3)
    }

    @Test("§5.1 a message with a stale term is rejected and answered with the current term")
    func staleTermRejected() {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.checkQuorum = false }
        cluster.elect(n1)
        cluster.elect(n2)
        #expect(cluster[n2].role == .leader)
        #expect(cluster[n2].term == Raft.Term(2))
        // An append from the deposed term-1 leader is refused with term 2.
        let stale = Raft.Message(from: n1, to: n3, term: Raft.Term(1),
                                 body: .append(Raft.Append(prevLogIndex: Raft.LogIndex(1), prevLogTerm: Raft.Term(1),
                                                           entries: [entry(1, 2, "stale")], leaderCommit: Raft.LogIndex(2))))
        cluster.input(n3) { $0.receive(stale) }
        #expect(cluster[n3].lastLogIndex == Raft.LogIndex(2))
        #expect(cluster[n3].entry(at: Raft.LogIndex(2))?.term == Raft.Term(2))
        let replies = cluster.take { $0.from == n3 && $0.to == n1 }
        #expect(replies.map(\.term) == [Raft.Term(2)])
    }

    @Test("§5.1 a higher term makes a leader step down to follower")
    func higherTermStepsDown() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        let newer = Raft.Message(from: n2, to: n1, term: Raft.Term(5), body: .heartbeatResponse(Raft.HeartbeatResponse()))
        cluster.input(n1) { $0.receive(newer) }
        #expect(cluster[n1].role == .follower)
        #expect(cluster[n1].term == Raft.Term(5))
        #expect(cluster[n1].vote == nil)
    }

    @Test("§5.2 each node grants at most one vote per term")
    func oneVotePerTerm() {
        var node = Raft.Instance(config: Raft.Config(id: n1, preVote: false, checkQuorum: false),
                                 membership: Raft.Membership(voters: [n1, n2, n3]), seed: 1)
        let request = Raft.VoteRequest(lastLogIndex: .zero, lastLogTerm: .zero, isPreVote: false)
        var actions = node.receive(Raft.Message(from: n2, to: n1, term: Raft.Term(1), body: .voteRequest(request)))
        // The grant is held until the vote is durable.
        #expect(actions.contains(.persistHardState(Raft.HardState(term: Raft.Term(1), vote: n2, commit: .zero))))
        #expect(!actions.contains { if case .send = $0 { true } else { false } })
        actions = node.persisted(hardState: Raft.HardState(term: Raft.Term(1), vote: n2, commit: .zero))
        #expect(actions.contains(.send(Raft.Message(from: n1, to: n2, term: Raft.Term(1),
                                                    body: .voteResponse(Raft.VoteResponse(granted: true, isPreVote: false))))))
        actions = node.receive(Raft.Message(from: n3, to: n1, term: Raft.Term(1), body: .voteRequest(request)))
        #expect(actions.contains(.send(Raft.Message(from: n1, to: n3, term: Raft.Term(1),
                                                    body: .voteResponse(Raft.VoteResponse(granted: false, isPreVote: false))))))
    }

    @Test("§5.2 a restarted node remembers its vote")
    func voteSurvivesRestart() {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.preVote = false; $0.checkQuorum = false }
        let request = Raft.VoteRequest(lastLogIndex: .zero, lastLogTerm: .zero, isPreVote: false)
        cluster.input(n3) { $0.receive(Raft.Message(from: n1, to: n3, term: Raft.Term(1), body: .voteRequest(request))) }
        cluster.crash(n3)
        cluster.restart(n3)
        #expect(cluster[n3].vote == n1)
        cluster.network = []
        cluster.input(n3) { $0.receive(Raft.Message(from: n2, to: n3, term: Raft.Term(1), body: .voteRequest(request))) }
        let replies = cluster.take { $0.from == n3 }
        #expect(replies.map(\.body) == [.voteResponse(Raft.VoteResponse(granted: false, isPreVote: false))])
    }

    @Test("§5.2 a candidate that loses to a majority of refusals returns to follower")
    func candidateLoses() {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.preVote = false }
        // n2 and n3 have a longer log of term 1 than n1.
        cluster.elect(n2)
        cluster.isolated = [n1]
        _ = try? cluster.propose(n2, "x")
        cluster.stabilize()
        cluster.isolated = []
        cluster.elect(n1)
        #expect(cluster[n1].role != .leader)
        #expect(cluster.leaders.count <= 1)
    }

    @Test("§5.2 a single-voter cluster elects itself once its vote is durable")
    func singleVoter() {
        var cluster = TestCluster(voters: [n1])
        cluster.elect(n1)
        #expect(cluster.leaders == [n1])
        #expect(cluster[n1].commitIndex == Raft.LogIndex(1))
    }

    @Test("Th §3.6.1 up-to-date check: higher last term wins regardless of length; equal term needs a log at least as long",
          arguments: [
              // (candidate last index, candidate last term, granted) against a voter log [t1, t2] (last index 2, term 2)
              (UInt64(2), UInt64(2), true), (3, 2, true), (1, 2, false),
              (1, 3, true), (5, 3, true), (3, 1, false), (9, 1, false), (0, 0, false),
          ])
    func upToDate(candidateIndex: UInt64, candidateTerm: UInt64, granted: Bool) {
        // Port of etcd TestVoter / TestRecvMsgVote.
        let state = Raft.PersistedState(hardState: Raft.HardState(term: Raft.Term(2)),
                                        entries: [entry(1, 1), entry(2, 2)],
                                        bootstrapMembership: Raft.Membership(voters: [n1, n2]))
        var voter = Raft.Instance(config: Raft.Config(id: n1, preVote: false, checkQuorum: false), restoring: state, seed: 3)
        let request = Raft.VoteRequest(lastLogIndex: Raft.LogIndex(candidateIndex), lastLogTerm: Raft.Term(candidateTerm),
                                       isPreVote: false)
        var actions = voter.receive(Raft.Message(from: n2, to: n1, term: Raft.Term(3), body: .voteRequest(request)))
        actions += voter.persisted(hardState: voter.hardState)
        let responses = actions.compactMap { action -> Raft.VoteResponse? in
            if case .send(let message) = action, case .voteResponse(let response) = message.body { return response }
            return nil
        }
        #expect(responses == [Raft.VoteResponse(granted: granted, isPreVote: false)])
    }
}
