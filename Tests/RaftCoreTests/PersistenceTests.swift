import Testing
@testable import RaftCore

@Suite("Persistence before acknowledgement (Figure 2, etcd #14370, cockroach #15648)")
struct PersistenceTests {
    @Test("§5.3 a follower acknowledges entries only after they are durable")
    func ackAfterPersist() {
        var follower = Raft.Instance(config: Raft.Config(id: n2), membership: Raft.Membership(voters: [n1, n2]), seed: 1)
        let append = Raft.Append(prevLogIndex: .zero, prevLogTerm: .zero, entries: [entry(1, 1, "a")], leaderCommit: .zero)
        var actions = follower.receive(Raft.Message(from: n1, to: n2, term: Raft.Term(1), body: .append(append)))
        #expect(actions == [.appendLog([entry(1, 1, "a")]), .persistHardState(Raft.HardState(term: Raft.Term(1))),
                            .leadershipChanged(Raft.LeaderState(leader: n1, term: Raft.Term(1), role: .follower))])
        actions = follower.persisted(hardState: Raft.HardState(term: Raft.Term(1)))
        #expect(actions.isEmpty, "the ack still waits for the entry")
        actions = follower.persisted(through: Raft.LogIndex(1), term: Raft.Term(1))
        #expect(actions == [.send(Raft.Message(from: n2, to: n1, term: Raft.Term(1), body: .appendResponse(.success(matchIndex: Raft.LogIndex(1)))))])
    }

    @Test("a report for an entry that was since truncated is ignored")
    func persistedStaleTerm() {
        var follower = Raft.Instance(config: Raft.Config(id: n2), membership: Raft.Membership(voters: [n1, n2]), seed: 1)
        let append = Raft.Append(prevLogIndex: .zero, prevLogTerm: .zero, entries: [entry(1, 1, "a")], leaderCommit: .zero)
        _ = follower.receive(Raft.Message(from: n1, to: n2, term: Raft.Term(1), body: .append(append)))
        _ = follower.persisted(through: Raft.LogIndex(1), term: Raft.Term(7))
        #expect(follower.durableIndex == .zero)
    }

    @Test("etcd #14370: a single voter applies an entry only once it is durable; a crash before that loses it unacknowledged")
    func singleVoterAppliesOnlyDurable() throws {
        var cluster = TestCluster(voters: [n1])
        cluster.elect(n1)
        cluster.autoPersist = []
        _ = try cluster.propose(n1, "w")
        #expect(cluster[n1].commitIndex == Raft.LogIndex(1))
        #expect(cluster.appliedData(n1).isEmpty)
        cluster.crash(n1)
        cluster.restart(n1)
        #expect(cluster[n1].lastLogIndex == Raft.LogIndex(1))
        #expect(cluster.appliedData(n1).isEmpty)
    }

    @Test("etcd #14370 with a learner: one voter plus a learner still waits for the voter's own fsync")
    func singleVoterWithLearner() throws {
        var cluster = TestCluster(voters: [n1], learners: [n2])
        cluster.elect(n1)
        cluster.stabilize()
        cluster.autoPersist = [n2]
        _ = try cluster.propose(n1, "w")
        cluster.stabilize()
        #expect(cluster[n1].commitIndex == Raft.LogIndex(1))
        #expect(cluster.appliedData(n1).isEmpty)
        cluster.flush(n1)
        #expect(cluster[n1].commitIndex == Raft.LogIndex(2))
        #expect(cluster.appliedData(n1) == ["w"])
    }

    @Test("a restarted node's log and hard state are exactly what was flushed")
    func restartFromDurableState() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        _ = try cluster.propose(n1, "a")
        cluster.stabilize()
        cluster.autoPersist.remove(n2)
        _ = try cluster.propose(n1, "b")
        cluster.stabilize()
        cluster.crash(n2)
        cluster.restart(n2)
        #expect(cluster[n2].lastLogIndex == Raft.LogIndex(2))
        #expect(cluster[n2].term == Raft.Term(1))
        // It catches up again.
        cluster.autoPersist.insert(n2)
        cluster.tick(n1)
        cluster.stabilize()
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster[n2].lastLogIndex == Raft.LogIndex(3))
        #expect(cluster.appliedData(n2) == ["a", "b"])
    }
}
