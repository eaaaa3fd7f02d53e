import Testing
@testable import RaftCore

/// Issue #10: a voter whose data directory was wiped comes back with a new incarnation. It must
/// not vote (it may have voted in this term, and acknowledged committed entries it no longer
/// holds) until the leader demoted it and promoted it again with the new incarnation.
@Suite("Incarnations: a wiped voter never votes twice")
struct IncarnationTests {
    static let founding: [Raft.NodeID: UInt64] = [n1: 0xA1, n2: 0xA2, n3: 0xA3]
    static let wiped: UInt64 = 0xB3

    /// n1 leads a cluster whose nodes all started on new data directories; three entries are
    /// committed and applied everywhere; with `recorded`, the leader has recorded every
    /// incarnation (index 5) and everybody applied it.
    func incarnatedCluster(recorded: Bool = true, configure: @escaping (inout Raft.Config) -> Void = { _ in }) throws -> TestCluster {
        var cluster = TestCluster(voters: [n1, n2, n3]) { config in
            config.incarnation = Self.founding[config.id] ?? 0
            config.incarnationIsNew = true
            configure(&config)
        }
        cluster.elect(n1)
        // The first appends came from a leader with nothing committed: founding members.
        #expect(!cluster[n2].abstainsFromElections && !cluster[n3].abstainsFromElections)
        for index in 0..<3 { _ = try cluster.propose(n1, "e\(index)") }
        cluster.stabilize()
        if recorded {
            settle(&cluster)
            #expect(cluster[n1].membership.incarnations == Self.founding)
            #expect(cluster[n3].membership.incarnations == Self.founding)
            #expect(cluster[n3].appliedIndex == Raft.LogIndex(5))
        }
        return cluster
    }

    /// Ticks the leader and delivers everything, `rounds` times.
    func settle(_ cluster: inout TestCluster, leader: Raft.NodeID = n1, rounds: Int = 12) {
        for _ in 0..<rounds {
            cluster.tick(leader)
            cluster.stabilize()
        }
    }

    /// The configurations n1's log holds, in order.
    func configurations(_ cluster: TestCluster, _ id: Raft.NodeID = n1) -> [Raft.Membership] {
        cluster.log(id).compactMap(\.membership)
    }

    func voteRequest(from candidate: Raft.NodeID, to voter: Raft.NodeID, term: UInt64, lastLogIndex: UInt64) -> Raft.Message {
        Raft.Message(from: candidate, to: voter, term: Raft.Term(term),
                     body: .voteRequest(Raft.VoteRequest(lastLogIndex: Raft.LogIndex(lastLogIndex), lastLogTerm: Raft.Term(1), isPreVote: false)),
                     fromIncarnation: Self.founding[candidate] ?? 0)
    }

    // MARK: Configuration

    @Test("configurations with incarnations round-trip as version 3; without, version 2 as before")
    func encoding() throws {
        let plain = Raft.Membership(voters: [n1, n2], learners: [n3], removed: [n4])
        #expect(plain.encoded.first == 2)
        #expect(Raft.Membership(encoded: plain.encoded) == plain)
        let recorded = Raft.Membership(voters: [n1, n2], learners: [n3], removed: [n4],
                                       incarnations: [n1: 1, n2: UInt64.max, n3: 0x1234, n4: 9, n5: 7])
        // Only members' non-zero incarnations are kept.
        #expect(recorded.incarnations == [n1: 1, n2: UInt64.max, n3: 0x1234])
        #expect(recorded.encoded.first == 3)
        #expect(Raft.Membership(encoded: recorded.encoded) == recorded)
        // Every cut of a version-3 configuration is refused, never misread.
        for length in 0..<recorded.encoded.count {
            #expect(Raft.Membership(encoded: Array(recorded.encoded.prefix(length))) == nil)
        }
    }

    @Test("the previous formats (versions 1 and 2) decode with every voter unrecorded")
    func previousFormats() throws {
        // Written by hand as the previous builds wrote them: version, then length-prefixed groups.
        func group(_ ids: [String]) -> [UInt8] {
            [0, 0, 0, UInt8(ids.count)] + ids.flatMap { [0, 0, 0, UInt8($0.utf8.count)] + Array($0.utf8) }
        }
        let version1 = [1] + group(["n1", "n2"]) + group(["n3"])
        let version2 = [2] + group(["n1", "n2"]) + group(["n3"]) + group(["n4"])
        let decoded1 = try #require(Raft.Membership(encoded: version1))
        let decoded2 = try #require(Raft.Membership(encoded: version2))
        #expect(decoded1 == Raft.Membership(voters: [n1, n2], learners: [n3]))
        #expect(decoded2 == Raft.Membership(voters: [n1, n2], learners: [n3], removed: [n4]))
        #expect(decoded2.incarnation(of: n1) == 0 && decoded2.incarnations.isEmpty)
    }

    @Test("recording refuses non-voters, 0 and overwriting; demote keeps the record, remove drops it")
    func changes() throws {
        let base = Raft.Membership(voters: [n1, n2, n3], learners: [n4], incarnations: [n1: 5])
        #expect(throws: Raft.RaftError.self) { try base.applying(.recordIncarnations([n4: 1])) }
        #expect(throws: Raft.RaftError.self) { try base.applying(.recordIncarnations([n2: 0])) }
        #expect(throws: Raft.RaftError.self) { try base.applying(.recordIncarnations([n1: 6])) }
        #expect(throws: Raft.RaftError.self) { try base.applying(.promoteWithIncarnation(n2, incarnation: 3)) }
        #expect(throws: Raft.RaftError.self) { try base.applying(.promoteWithIncarnation(n4, incarnation: 0)) }
        let recorded = try base.applying(.recordIncarnations([n2: 2, n3: 3]))
        #expect(recorded.incarnations == [n1: 5, n2: 2, n3: 3])
        let demoted = try recorded.applying(.demote(n3))
        #expect(demoted.learners == [n3, n4] && demoted.incarnation(of: n3) == 3)
        let promoted = try demoted.applying(.promoteWithIncarnation(n3, incarnation: 33))
        #expect(promoted.voters == [n1, n2, n3] && promoted.incarnation(of: n3) == 33)
        let removed = try promoted.applying(.remove(n3))
        #expect(removed.incarnation(of: n3) == 0 && removed.removed == [n3])
    }

    // MARK: The leader records, demotes and promotes

    @Test("the leader records every founding voter's incarnation in one entry once they hold every committed entry")
    func foundingVotersRecorded() throws {
        let cluster = try incarnatedCluster()
        let recorded = configurations(cluster)
        #expect(recorded.count == 1)
        #expect(cluster.log(n1).last?.kind == .configChange)
        for id in [n1, n2, n3] { #expect(!cluster[id].abstainsFromElections) }
    }

    @Test("a founding node that missed the first leader's first append abstains only until it is recorded")
    func lateFoundingNodeRecorded() throws {
        var cluster = TestCluster(voters: [n1, n2, n3]) { config in
            config.incarnation = Self.founding[config.id] ?? 0
            config.incarnationIsNew = true
        }
        cluster.isolated = [n3]
        cluster.elect(n1)
        _ = try cluster.propose(n1, "e0")
        cluster.stabilize()
        cluster.tick(n1, times: 2)
        cluster.stabilize()
        #expect(cluster[n1].commitIndex >= Raft.LogIndex(2))
        cluster.isolated = []
        // Its first telling message (an append from after the start, with a commit index) shows
        // history: it cannot tell itself from a wiped voter, so it waits to be recorded.
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster[n3].abstainsFromElections)
        #expect(cluster[n3].lastLogIndex == cluster[n1].lastLogIndex)
        settle(&cluster)
        #expect(cluster[n1].membership.incarnation(of: n3) == 0xA3)
        #expect(!cluster[n3].abstainsFromElections)
    }

    @Test("a wiped recorded voter refuses votes, is demoted, caught up and promoted with its new incarnation")
    func wipedVoterRepaired() throws {
        var cluster = try incarnatedCluster()
        cluster.wipe(n3, incarnation: Self.wiped)
        // It may have voted for n1 in term 1: a candidate of that term must not get a vote.
        cluster.input(n3) { $0.receive(voteRequest(from: n2, to: n3, term: 1, lastLogIndex: 5)) }
        let answer = try #require(cluster.network.last { $0.from == n3 && $0.isVoteResponse })
        #expect(answer.body == .voteResponse(Raft.VoteResponse(granted: false, isPreVote: false)))
        #expect(answer.fromIncarnation == Self.wiped)
        cluster.network.removeAll()
        // Cut off for many election timeouts, it never campaigns.
        cluster.isolated = [n3]
        cluster.tick(n3, times: 100)
        #expect(cluster[n3].role == .follower && cluster.network.allSatisfy { !$0.isVoteRequest })
        cluster.isolated = []
        cluster.network.removeAll()
        settle(&cluster, rounds: 20)
        let history = configurations(cluster)
        #expect(history.count == 3, "record, demote, promote: \(history)")
        #expect(history.dropFirst().first?.learners == [n3])
        #expect(history.last?.voters == [n1, n2, n3])
        #expect(cluster[n1].membership.incarnation(of: n3) == Self.wiped)
        #expect(cluster[n3].membership.incarnation(of: n3) == Self.wiped)
        #expect(!cluster[n3].abstainsFromElections)
        #expect(cluster.log(n3) == cluster.log(n1))
        // n2 down: n1 and the repaired n3 commit together.
        cluster.crash(n2)
        let proposal = try cluster.propose(n1, "with n3")
        cluster.stabilize()
        settle(&cluster, rounds: 2)
        #expect(cluster[n1].commitIndex >= proposal.index)
    }

    @Test("a wiped voter wiped before anything was recorded abstains once it sees history, until recorded")
    func unrecordedWipedVoter() throws {
        var cluster = try incarnatedCluster(recorded: false)
        #expect(cluster[n1].membership.incarnations.isEmpty)
        cluster.wipe(n3, incarnation: Self.wiped)
        #expect(!cluster[n3].abstainsFromElections)  // nothing seen yet
        cluster.input(n3) { $0.receive(voteRequest(from: n2, to: n3, term: 1, lastLogIndex: 4)) }
        #expect(cluster[n3].abstainsFromElections)
        let answer = try #require(cluster.network.last { $0.from == n3 && $0.isVoteResponse })
        #expect(answer.body == .voteResponse(Raft.VoteResponse(granted: false, isPreVote: false)))
        cluster.network.removeAll()
        settle(&cluster, rounds: 20)
        #expect(cluster[n1].membership.incarnation(of: n3) == Self.wiped)
        #expect(cluster[n1].membership.voters == [n1, n2, n3])
        #expect(!cluster[n3].abstainsFromElections)
        // A restart does not make it new again, nor abstain.
        cluster.crash(n3)
        cluster.restart(n3)
        #expect(!cluster[n3].abstainsFromElections)
    }

    // MARK: Counting

    @Test("a candidate counts no grant sent by another incarnation than the recorded one")
    func grantFromOtherIncarnationNotCounted() throws {
        for restamp in [false, true] {
            var cluster = try incarnatedCluster { $0.preVote = false; $0.checkQuorum = false }
            cluster.crash(n1)
            cluster.network.removeAll()
            while cluster[n2].role != .candidate { cluster.tick(n2) }
            cluster.deliver(cluster.take { $0.to == n3 })
            var grants = cluster.take { $0.from == n3 && $0.isVoteResponse }
            #expect(grants.count == 1)
            if restamp { grants[0].fromIncarnation = Self.wiped }
            cluster.deliver(grants)
            #expect((cluster[n2].role == .leader) == !restamp, "restamped: \(restamp)")
        }
    }

    @Test("a wiped voter restarted again before its record arrived votes, but its grant does not count")
    func restartedTwiceIsNotCounted() throws {
        var cluster = try incarnatedCluster { $0.preVote = false; $0.checkQuorum = false }
        cluster.wipe(n3, incarnation: Self.wiped)
        cluster.crash(n3)
        cluster.restart(n3)
        // Not new any more and holding no configuration that records it: the gap in its own
        // abstention (docs/raft.md, "Gaps and costs").
        #expect(!cluster[n3].abstainsFromElections)
        cluster.crash(n1)
        cluster.network.removeAll()
        while cluster[n2].role != .candidate { cluster.tick(n2) }
        cluster.deliver(cluster.take { $0.to == n3 })
        let grants = cluster.take { $0.from == n3 && $0.isVoteResponse }
        #expect(grants.map(\.body) == [.voteResponse(Raft.VoteResponse(granted: true, isPreVote: false))])
        cluster.deliver(grants)
        #expect(cluster[n2].role != .leader)
    }

    @Test("a leader counts no acknowledgement sent by another incarnation than the recorded one")
    func ackFromOtherIncarnationNotCounted() throws {
        var cluster = try incarnatedCluster()
        cluster.crash(n2)
        let proposal = try cluster.propose(n1, "needs n3")
        cluster.deliver(cluster.take { $0.to == n3 })
        var acks = cluster.take { $0.from == n3 }
        #expect(!acks.isEmpty)
        for index in acks.indices { acks[index].fromIncarnation = Self.wiped }
        cluster.deliver(acks)
        #expect(cluster[n1].commitIndex < proposal.index)
    }

    @Test("rolling upgrade: while a member reports no incarnation (an older build), nothing is recorded")
    func olderMemberBlocksRecording() throws {
        var cluster = TestCluster(voters: [n1, n2, n3]) { config in
            config.incarnation = config.id == n3 ? 0 : Self.founding[config.id] ?? 0
        }
        cluster.elect(n1)
        _ = try cluster.propose(n1, "e")
        cluster.stabilize()
        settle(&cluster)
        #expect(configurations(cluster).isEmpty)
        #expect(cluster[n1].membership.incarnations.isEmpty)
        #expect(cluster[n1].commitIndex == Raft.LogIndex(2))
    }

    #if QUORUM_SIM_MUTATIONS
    @Test("mutation ignore-incarnation: a grant from a wiped voter's new incarnation counts")
    func mutationCountsAnyIncarnation() throws {
        var cluster = try incarnatedCluster { $0.preVote = false; $0.checkQuorum = false; $0.mutation = .ignoreIncarnation }
        cluster.crash(n1)
        cluster.network.removeAll()
        while cluster[n2].role != .candidate { cluster.tick(n2) }
        cluster.deliver(cluster.take { $0.to == n3 })
        var grants = cluster.take { $0.from == n3 && $0.isVoteResponse }
        for index in grants.indices { grants[index].fromIncarnation = Self.wiped }
        cluster.deliver(grants)
        #expect(cluster[n2].role == .leader)
    }
    #endif
}
