import Testing
@testable import RaftCore

/// A follower that lost acknowledged entries (its data directory wiped, or acknowledged writes
/// lost) is detected by the leader, which forgets its match index and repairs the follower.
@Suite("Log repair: a follower that lost its log")
struct LogRepairTests {
    /// n1 leads; every node holds and has applied the no-op and e0…e2 (index 4).
    func replicatedCluster(configure: @escaping (inout Raft.Config) -> Void = { _ in }) throws -> TestCluster {
        var cluster = TestCluster(voters: [n1, n2, n3], configure: configure)
        cluster.elect(n1)
        for index in 0..<3 { _ = try cluster.propose(n1, "e\(index)") }
        cluster.stabilize()
        cluster.tick(n1, times: 2)
        cluster.stabilize()
        #expect(cluster[n1].replicationState(of: n3)?.match == Raft.LogIndex(4))
        #expect(cluster[n3].commitIndex == Raft.LogIndex(4))
        return cluster
    }

    func lostEntriesReports(_ cluster: TestCluster) -> [Raft.LogIndex] {
        cluster.sent.compactMap { message in
            if case .heartbeatResponse(let response) = message.body { response.lostEntriesAfter } else { nil }
        }
    }

    @Test("a follower that lost its log is reset to probe and repaired by append")
    func repairedByAppend() throws {
        var cluster = try replicatedCluster()
        cluster.wipe(n3)
        #expect(cluster[n3].lastLogIndex == .zero)
        // The leader still believes n3 holds index 4; its heartbeat says commit 4.
        cluster.tick(n1, times: 2)
        cluster.stabilize()
        // Both heartbeats sent before delivery come back with the report: the log ends at 0.
        #expect(lostEntriesReports(cluster) == [.zero, .zero])
        #expect(cluster.log(n3) == cluster.log(n1))
        #expect(cluster[n1].replicationState(of: n3)?.match == Raft.LogIndex(4))
        #expect(cluster[n1].replicationState(of: n3)?.mode == "replicate")
        #expect(cluster.storage[n3]?.entries.map(\.index.rawValue) == [1, 2, 3, 4])
        #expect(cluster.appliedData(n3) == ["e0", "e1", "e2"])
        // And it keeps replicating.
        _ = try cluster.propose(n1, "after")
        cluster.stabilize()
        cluster.tick(n1, times: 2)
        cluster.stabilize()
        #expect(cluster.appliedData(n3) == ["e0", "e1", "e2", "after"])
    }

    @Test("a follower that lost its log is repaired by snapshot when the log is compacted")
    func repairedBySnapshot() throws {
        var cluster = try replicatedCluster()
        let state = Array(cluster.appliedData(n1).joined(separator: ",").utf8)
        try cluster.takeSnapshot(n1, through: Raft.LogIndex(4), data: state)
        #expect(cluster[n1].firstLogIndex == Raft.LogIndex(5))
        cluster.wipe(n3)
        cluster.tick(n1, times: 2)
        cluster.stabilize()
        // Both heartbeats sent before delivery come back with the report: the log ends at 0.
        #expect(lostEntriesReports(cluster) == [.zero, .zero])
        #expect(cluster.storage[n3]?.snapshot?.metadata.index == Raft.LogIndex(4))
        #expect(cluster.storage[n3]?.snapshot.map { String(decoding: $0.data, as: UTF8.self) } == "e0,e1,e2")
        #expect(cluster[n1].replicationState(of: n3)?.match == Raft.LogIndex(4))
        _ = try cluster.propose(n1, "after")
        cluster.stabilize()
        cluster.tick(n1, times: 2)
        cluster.stabilize()
        #expect(cluster[n3].commitIndex == Raft.LogIndex(5))
        #expect(cluster.appliedData(n3) == ["after"])
    }

    @Test("a follower whose heartbeat commit is within its log reports nothing")
    func healthyFollowerReportsNothing() throws {
        var cluster = try replicatedCluster()
        cluster.tick(n1, times: 4)
        cluster.stabilize()
        #expect(lostEntriesReports(cluster).isEmpty)
        #expect(cluster[n1].replicationState(of: n3)?.match == Raft.LogIndex(4))
    }

    /// n3 acknowledged index 4 but kept only index 2 (acknowledged writes lost, as with the
    /// `send-before-persist` bug or a damaged disk), while nothing beyond index 1 was committed,
    /// so no heartbeat can show it. The leader's probe at the match index is refused.
    @Test("a probe refused at the match index resets the follower instead of repeating forever (the healing storm)")
    func probeRefusedAtMatchResets() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        #expect(cluster[n1].commitIndex == Raft.LogIndex(1))
        // n1's own writes stay unsynced and n2 is cut off: n3's acknowledgements commit nothing.
        cluster.autoPersist.remove(n1)
        cluster.isolated = [n2]
        for index in 0..<3 { _ = try cluster.propose(n1, "e\(index)") }
        cluster.stabilize()
        #expect(cluster[n1].replicationState(of: n3)?.match == Raft.LogIndex(4))
        #expect(cluster[n1].commitIndex == Raft.LogIndex(1))
        // n3 restarts holding only the no-op and e0.
        cluster.crash(n3)
        cluster.storage[n3]?.entries.removeAll { $0.index > Raft.LogIndex(2) }
        cluster.restart(n3)
        _ = try cluster.propose(n1, "e3")
        cluster.tick(n1, times: 2)
        let drained = cluster.settle(within: 1_000)
        #expect(drained, "leader and follower kept exchanging the same probe and rejection")
        #expect(cluster.log(n3).map(\.index.rawValue) == [1, 2, 3, 4, 5])
        #expect(cluster[n1].replicationState(of: n3)?.match == Raft.LogIndex(5))
        // Once the leader's disk syncs, the repaired follower completes a quorum.
        cluster.autoPersist.insert(n1)
        cluster.flush(n1)
        cluster.stabilize()
        cluster.tick(n1, times: 2)
        cluster.stabilize()
        #expect(cluster[n1].commitIndex == Raft.LogIndex(5))
        #expect(cluster.appliedData(n3) == ["e0", "e1", "e2", "e3"])
    }

    @Test("a duplicated lost-log report after the repair only costs one more probe")
    func duplicatedReportIsHarmless() throws {
        var cluster = try replicatedCluster()
        cluster.wipe(n3)
        cluster.tick(n1, times: 2)
        cluster.stabilize()
        let report = try #require(cluster.sent.last { message in
            if case .heartbeatResponse(let response) = message.body { response.lostEntriesAfter != nil } else { false }
        })
        cluster.deliver([report])
        #expect(cluster[n1].replicationState(of: n3)?.mode == "probe")
        cluster.stabilize()
        #expect(cluster[n1].replicationState(of: n3)?.match == Raft.LogIndex(4))
        #expect(cluster[n1].replicationState(of: n3)?.mode == "replicate")
        #expect(cluster.log(n3) == cluster.log(n1))
    }

    @Test("a wiped voter that abstains grants no vote and never campaigns, but is repaired and counted")
    func abstainingVoter() throws {
        var cluster = try replicatedCluster()
        cluster.wipe(n3, abstaining: true)
        // It forgot its vote of term 1: a candidate of that very term must not get it.
        let request = Raft.VoteRequest(lastLogIndex: .zero, lastLogTerm: .zero, isPreVote: false)
        cluster.input(n3) { $0.receive(Raft.Message(from: n2, to: n3, term: Raft.Term(1), body: .voteRequest(request))) }
        let answer = try #require(cluster.network.last { $0.from == n3 && $0.isVoteResponse })
        #expect(answer.body == .voteResponse(Raft.VoteResponse(granted: false, isPreVote: false)))
        cluster.network.removeAll()
        // Cut off from the leader for many election timeouts, it never campaigns.
        cluster.isolated = [n3]
        cluster.tick(n3, times: 100)
        #expect(cluster[n3].role == .follower)
        #expect(cluster.network.allSatisfy { !$0.isVoteRequest })
        cluster.isolated = []
        cluster.network.removeAll()
        cluster.tick(n1, times: 2)
        cluster.stabilize()
        #expect(cluster.log(n3) == cluster.log(n1))
        // n2 down: n1 and the repaired n3 still commit.
        cluster.crash(n2)
        _ = try cluster.propose(n1, "with n3")
        cluster.stabilize()
        #expect(cluster[n1].commitIndex == Raft.LogIndex(5))
    }

    #if QUORUM_SIM_MUTATIONS
    @Test("mutation ignore-reject-hint: the wiped follower is never repaired")
    func mutationNeverRepairs() throws {
        var cluster = try replicatedCluster { $0.mutation = .ignoreRejectHint }
        cluster.wipe(n3)
        cluster.tick(n1, times: 4)
        cluster.stabilize()
        #expect(cluster[n3].lastLogIndex == .zero)
        #expect(cluster[n1].replicationState(of: n3)?.match == Raft.LogIndex(4))
    }
    #endif
}
