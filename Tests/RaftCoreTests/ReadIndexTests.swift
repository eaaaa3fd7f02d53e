import Testing
@testable import RaftCore

@Suite("Thesis §6.4 ReadIndex")
struct ReadIndexTests {
    @Test("§6.4 a leader confirms leadership with a heartbeat round before releasing a read")
    func leaderRead() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        _ = try cluster.propose(n1, "a")
        cluster.stabilize()
        cluster.input(n1) { try! $0.readIndex(context: Raft.ReadContext(7)) }
        #expect(cluster.readsReady[n1] == nil, "no read before a quorum answered the heartbeat")
        let heartbeats = cluster.network.filter(\.isHeartbeat)
        #expect(heartbeats.count == 2)
        cluster.stabilize()
        #expect(cluster.readsReady[n1] == [Raft.ReadState(context: Raft.ReadContext(7), index: Raft.LogIndex(2))])
    }

    @Test("§6.4 a partitioned leader cannot confirm a read")
    func partitionedLeaderRead() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.isolated = [n1]
        cluster.input(n1) { try! $0.readIndex(context: Raft.ReadContext(1)) }
        for _ in 0..<5 {
            cluster.tick(n1)
            cluster.stabilize()
        }
        #expect(cluster.readsReady[n1] == nil)
        // When CheckQuorum deposes it, the read fails so the client retries elsewhere.
        for _ in 0..<30 {
            cluster.tick(n1)
            cluster.stabilize()
        }
        #expect(cluster[n1].role != .leader)
        #expect(cluster.readsFailed[n1] == [Raft.ReadContext(1)])
    }

    @Test("§6.4 a new leader serves no read until it commits an entry of its term (etcd TestReadOnlyForNewLeader)")
    func newLeaderWaitsForCommit() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.tick(n1, times: cluster[n1].randomizedElectionTimeout)
        while cluster[n1].role != .leader { cluster.deliverNext() }
        // Drop the no-op's appends so it does not commit yet.
        cluster.network = []
        #expect(cluster[n1].commitIndex == .zero)
        cluster.input(n1) { try! $0.readIndex(context: Raft.ReadContext(1)) }
        #expect(!cluster.network.contains { $0.isHeartbeat })
        #expect(cluster.readsReady[n1] == nil)
        cluster.tick(n1)
        cluster.stabilize()
        cluster.stabilize()
        #expect(cluster[n1].commitIndex == Raft.LogIndex(1))
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster.readsReady[n1] == [Raft.ReadState(context: Raft.ReadContext(1), index: Raft.LogIndex(1))])
    }

    @Test("§6.4 duplicate read contexts and delayed heartbeat answers cannot release a read early (etcd TestReadOnlyDuplicateRequest, raft #397)")
    func duplicateContextsAndDelayedAcks() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        cluster.tick(n1)
        cluster.stabilize()
        // Round 1: capture the heartbeat answers instead of delivering them.
        cluster.input(n1) { try! $0.readIndex(context: Raft.ReadContext(5)) }
        cluster.deliver(cluster.take(where: \.isHeartbeat))
        let firstAnswers = cluster.take(where: \.isHeartbeatResponse)
        #expect(firstAnswers.count == 2)
        // Round 2 with the same context: old answers confirm only round 1.
        cluster.input(n1) { try! $0.readIndex(context: Raft.ReadContext(5)) }
        cluster.deliver(cluster.take(where: \.isHeartbeat))
        let secondAnswers = cluster.take(where: \.isHeartbeatResponse)
        cluster.deliver(firstAnswers)
        #expect(cluster.readsReady[n1]?.count == 1)
        cluster.deliver(firstAnswers)  // duplicated delivery changes nothing
        #expect(cluster.readsReady[n1]?.count == 1)
        cluster.deliver(secondAnswers)
        #expect(cluster.readsReady[n1]?.count == 2)
    }

    @Test("§6.4 a deposed leader's heartbeat answers from an earlier term confirm nothing in a new term")
    func oldTermAcksIgnored() throws {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.checkQuorum = false }
        cluster.elect(n1)
        cluster.input(n1) { try! $0.readIndex(context: Raft.ReadContext(1)) }
        cluster.deliver(cluster.take(where: \.isHeartbeat))
        let staleAnswers = cluster.take(where: \.isHeartbeatResponse)
        // n1 loses and regains leadership in a later term.
        cluster.elect(n2)
        cluster.elect(n1)
        #expect(cluster[n1].role == .leader)
        #expect(cluster.readsFailed[n1] == [Raft.ReadContext(1)])
        cluster.input(n1) { try! $0.readIndex(context: Raft.ReadContext(2)) }
        let heartbeats = cluster.take(where: \.isHeartbeat)
        cluster.deliver(staleAnswers)
        #expect(cluster.readsReady[n1] == nil)
        cluster.deliver(heartbeats)
        cluster.stabilize()
        #expect(cluster.readsReady[n1]?.map(\.context) == [Raft.ReadContext(2)])
    }

    @Test("§6.4 a follower forwards a read to the leader and receives the read index")
    func followerRead() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        _ = try cluster.propose(n1, "a")
        cluster.stabilize()
        cluster.input(n2) { try! $0.readIndex(context: Raft.ReadContext(3)) }
        cluster.stabilize()
        #expect(cluster.readsReady[n2] == [Raft.ReadState(context: Raft.ReadContext(3), index: Raft.LogIndex(2))])
    }

    @Test("§6.4 a follower without a leader refuses a read as retriable")
    func followerWithoutLeader() {
        var node = Raft.Instance(config: Raft.Config(id: n2), membership: Raft.Membership(voters: [n1, n2, n3]), seed: 1)
        #expect(throws: Raft.RaftError.self) { _ = try node.readIndex(context: Raft.ReadContext(1)) }
        do {
            _ = try node.readIndex(context: Raft.ReadContext(1))
        } catch {
            #expect(error.code == .notLeader)
            #expect(error.isRetriable)
        }
    }

    @Test("§6.4 a follower's forwarded read fails when its leader changes")
    func forwardedReadFailsOnLeaderChange() {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.checkQuorum = false }
        cluster.elect(n1)
        cluster.input(n2) { try! $0.readIndex(context: Raft.ReadContext(9)) }
        cluster.network = []
        cluster.elect(n3)
        #expect(cluster.readsFailed[n2] == [Raft.ReadContext(9)])
    }

    @Test("§6.4 a single voter confirms reads alone")
    func singleVoterRead() {
        var cluster = TestCluster(voters: [n1])
        cluster.elect(n1)
        cluster.input(n1) { try! $0.readIndex(context: Raft.ReadContext(1)) }
        #expect(cluster.readsReady[n1] == [Raft.ReadState(context: Raft.ReadContext(1), index: Raft.LogIndex(1))])
    }

    @Test("§6.4 a read through a restarted follower sees every write acknowledged before the restart (raft-bugs 5d)")
    func readAfterRestart() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        for text in ["a", "b"] { _ = try cluster.propose(n1, text) }
        cluster.stabilize()
        let acknowledged = cluster[n1].commitIndex
        cluster.crash(n2)
        cluster.restart(n2)
        cluster.tick(n1)
        cluster.stabilize()
        cluster.input(n2) { try! $0.readIndex(context: Raft.ReadContext(4)) }
        cluster.stabilize()
        let read = try #require(cluster.readsReady[n2]?.first)
        #expect(read.index >= acknowledged)
    }
}
