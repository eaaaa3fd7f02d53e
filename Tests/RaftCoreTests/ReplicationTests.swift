import Testing
@testable import RaftCore

@Suite("§5.3–§5.4 log replication and safety")
struct ReplicationTests {
    @Test("§5.3 a proposal is replicated, committed and applied on every node in order")
    func replicatesAndApplies() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        for text in ["a", "b", "c"] { _ = try cluster.propose(n1, text) }
        cluster.stabilize()
        cluster.tickAll()
        cluster.stabilize()
        for id in [n1, n2, n3] {
            #expect(cluster.appliedData(id) == ["a", "b", "c"])
            #expect(cluster[id].commitIndex == Raft.LogIndex(4))
        }
    }

    @Test("§5.3 a follower refuses proposals and names the leader")
    func followerRefusesProposal() {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        #expect(throws: Raft.RaftError(code: .notLeader, leaderHint: n1,
                                       message: "n2 is not the leader (follower t1 leader=n1); forward to n1")) {
            _ = try cluster.propose(n2, "x")
        }
    }

    @Test("§5.3 a follower with a conflicting suffix truncates it at the first conflict")
    func conflictingSuffixTruncated() throws {
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.checkQuorum = false }
        cluster.elect(n1)
        cluster.isolated = [n1]
        _ = try cluster.propose(n1, "lost-1")
        _ = try cluster.propose(n1, "lost-2")
        cluster.network = []
        cluster.isolated = []
        cluster.isolated = [n1]
        cluster.elect(n2)
        _ = try cluster.propose(n2, "kept")
        cluster.stabilize()
        cluster.isolated = []
        cluster.tick(n2)
        cluster.stabilize()
        cluster.tickAll()
        cluster.stabilize()
        #expect(cluster.log(n1) == cluster.log(n2))
        #expect(cluster.appliedData(n1) == ["kept"])
        #expect(!cluster.log(n1).contains { String(decoding: $0.data, as: UTF8.self).hasPrefix("lost") })
    }

    @Test("§5.3 a stale, shorter AppendEntries delivered late truncates nothing (etcd TestLogReplicationWithReorderedMessage)")
    func reorderedAppend() {
        var follower = Raft.Instance(config: Raft.Config(id: n2), membership: Raft.Membership(voters: [n1, n2, n3]), seed: 1)
        let long = Raft.Append(prevLogIndex: .zero, prevLogTerm: .zero, entries: [entry(1, 1, "a"), entry(1, 2, "b"), entry(1, 3, "c")],
                               leaderCommit: .zero)
        let short = Raft.Append(prevLogIndex: .zero, prevLogTerm: .zero, entries: [entry(1, 1, "a")], leaderCommit: .zero)
        var actions = follower.receive(Raft.Message(from: n1, to: n2, term: Raft.Term(1), body: .append(long)))
        actions += follower.persisted(through: Raft.LogIndex(3), term: Raft.Term(1))
        actions += follower.persisted(hardState: follower.hardState)
        actions = follower.receive(Raft.Message(from: n1, to: n2, term: Raft.Term(1), body: .append(short)))
        #expect(follower.lastLogIndex == Raft.LogIndex(3))
        #expect(!actions.contains { if case .truncateLog = $0 { true } else { false } })
        // It acknowledges what the short message covered, which the leader treats as stale.
        #expect(actions.contains(.send(Raft.Message(from: n2, to: n1, term: Raft.Term(1),
                                                    body: .appendResponse(.success(matchIndex: Raft.LogIndex(1)))))))
    }

    @Test("§5.3 duplicated and reordered acknowledgements never lower matchIndex")
    func matchIndexOnlyGrows() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        for text in ["a", "b", "c"] { _ = try cluster.propose(n1, text) }
        cluster.stabilize()
        let match = try #require(cluster[n1].replicationState(of: n2)).match
        #expect(match == Raft.LogIndex(4))
        let old = Raft.Message(from: n2, to: n1, term: Raft.Term(1), body: .appendResponse(.success(matchIndex: Raft.LogIndex(1))))
        cluster.input(n1) { $0.receive(old) }
        cluster.input(n1) { $0.receive(old) }
        #expect(cluster[n1].replicationState(of: n2)?.match == match)
        #expect(cluster[n1].replicationState(of: n2)?.next == match + 1)
    }

    @Test("§5.4.2 a leader never commits an entry of an earlier term by counting (Figure 8, etcd TestLeaderOnlyCommitsLogFromCurrentTerm)")
    func onlyCommitsCurrentTerm() {
        // n1 leads term 3 with a log [t1, t2]; the followers hold only [t1].
        let membership = Raft.Membership(voters: [n1, n2, n3])
        let leaderState = Raft.PersistedState(hardState: Raft.HardState(term: Raft.Term(2), vote: n1, commit: Raft.LogIndex(1)),
                                              entries: [entry(1, 1), entry(2, 2, "old")], bootstrapMembership: membership)
        var leader = Raft.Instance(config: Raft.Config(id: n1, preVote: false), restoring: leaderState, seed: 1)
        // Become candidate and leader of term 3 with n2's vote.
        var actions: [Raft.Action] = []
        for _ in 0..<leader.randomizedElectionTimeout { actions += leader.tick() }
        actions += leader.persisted(hardState: leader.hardState)
        #expect(leader.role == .candidate)
        actions = leader.receive(Raft.Message(from: n2, to: n1, term: Raft.Term(3),
                                              body: .voteResponse(Raft.VoteResponse(granted: true, isPreVote: false))))
        #expect(leader.role == .leader)
        // The no-op of term 3 is index 3. n2 acknowledges only index 2 (the term-2 entry).
        actions += leader.persisted(through: Raft.LogIndex(3), term: Raft.Term(3))
        actions += leader.receive(Raft.Message(from: n2, to: n1, term: Raft.Term(3), body: .appendResponse(.success(matchIndex: Raft.LogIndex(2)))))
        #expect(leader.commitIndex == Raft.LogIndex(1), "a term-2 entry on a majority must not commit in term 3")
        // Once the term-3 entry is on a majority, everything up to it commits.
        actions += leader.receive(Raft.Message(from: n2, to: n1, term: Raft.Term(3), body: .appendResponse(.success(matchIndex: Raft.LogIndex(3)))))
        #expect(leader.commitIndex == Raft.LogIndex(3))
    }

    @Test("§5.3 fast backtracking finds the match in one round trip per conflicting term (etcd TestFastLogRejection)",
          arguments: [
              // leader terms, follower terms, maximum rejections
              ([1, 1, 2, 2, 4, 4, 4, 5, 5, 5], [1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3], 2),
              ([1, 1, 1, 1, 1, 1, 1, 1, 9, 9], [1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], 2),
              ([1, 2, 3, 4, 5, 6, 7, 8, 9, 9], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2),
              ([1, 1, 1, 1, 5, 5, 5, 5, 5, 5], [1, 1, 1, 1, 2, 2, 3, 3, 4, 4], 2),
          ])
    func fastRejection(leaderTerms: [Int], followerTerms: [Int], maxRejections: Int) {
        func log(_ terms: [Int]) -> [Raft.Entry] {
            terms.enumerated().map { entry(UInt64($0.element), UInt64($0.offset + 1)) }
        }
        let leaderTerm = UInt64(max(leaderTerms.last ?? 0, followerTerms.last ?? 0))
        var cluster = TestCluster(voters: [n1, n2, n3]) { $0.preVote = false }
        cluster.storage[n1] = .init(hardState: Raft.HardState(term: Raft.Term(leaderTerm)), entries: log(leaderTerms))
        cluster.storage[n2] = .init(hardState: Raft.HardState(term: Raft.Term(leaderTerm)), entries: log(followerTerms))
        cluster.storage[n3] = .init(hardState: Raft.HardState(term: Raft.Term(leaderTerm)), entries: log(leaderTerms))
        for id in [n1, n2, n3] { cluster.crash(id); cluster.restart(id) }
        cluster.isolated = [n2]
        cluster.elect(n1)
        #expect(cluster[n1].role == .leader)
        cluster.isolated = []
        cluster.tick(n1)
        var rejections = 0
        while !cluster.network.isEmpty {
            let message = cluster.network[0]
            if case .appendResponse(.rejected) = message.body { rejections += 1 }
            cluster.deliverNext()
        }
        #expect(cluster.log(n2) == cluster.log(n1))
        #expect(rejections <= maxRejections)
    }

    @Test("§5.3 appends are batched by count and bytes, with a bounded number in flight")
    func batchingAndPipelining() throws {
        var cluster = TestCluster(voters: [n1, n2]) {
            $0.maxEntriesPerAppend = 4
            $0.maxBytesPerAppend = 1 << 20
            $0.maxInflightAppends = 2
        }
        cluster.elect(n1)
        cluster.cutLinks = [[n2, n1]]  // acknowledgements are lost: the window must fill
        for index in 0..<20 { _ = try cluster.propose(n1, "p\(index)") }
        let appends = cluster.network.filter { $0.isAppend && $0.to == n2 }
        let sizes = appends.map { message -> Int in
            if case .append(let append) = message.body { return append.entries.count }
            return 0
        }
        #expect(sizes.allSatisfy { $0 <= 4 })
        #expect(cluster[n1].replicationState(of: n2)?.inflightAppends == 2)
        #expect(appends.filter { message in
            if case .append(let append) = message.body { return !append.entries.isEmpty }
            return false
        }.count == 2)
        cluster.stabilize()
        cluster.cutLinks = []
        // A heartbeat round resumes replication; once acknowledged, the backlog drains in batches.
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster[n2].lastLogIndex == Raft.LogIndex(21))
        let bigAppends = cluster.sent.filter { $0.isAppend && $0.to == n2 }.map { message -> Int in
            if case .append(let append) = message.body { return append.entries.count }
            return 0
        }
        #expect(bigAppends.contains(4))
    }

    @Test("§5.3 the byte limit bounds a batch but always sends at least one entry")
    func byteLimit() throws {
        var cluster = TestCluster(voters: [n1, n2]) { $0.maxBytesPerAppend = 100; $0.maxInflightAppends = 1 }
        cluster.elect(n1)
        cluster.cutLinks = [[n2, n1]]
        _ = try cluster.propose(n1, String(repeating: "x", count: 300))
        _ = try cluster.propose(n1, "small")
        cluster.cutLinks = []
        cluster.network = []
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster[n2].lastLogIndex == Raft.LogIndex(3))
        let counts = cluster.sent.filter { $0.isAppend && $0.to == n2 }.compactMap { message -> Int? in
            if case .append(let append) = message.body, !append.entries.isEmpty { return append.entries.count }
            return nil
        }
        #expect(counts.allSatisfy { $0 == 1 })
    }

    @Test("§5.3 the in-flight byte bound pauses replication until acknowledgements free it")
    func inflightBytes() throws {
        var cluster = TestCluster(voters: [n1, n2]) { $0.maxInflightBytes = 200; $0.maxEntriesPerAppend = 1 }
        cluster.elect(n1)
        cluster.cutLinks = [[n2, n1]]
        for _ in 0..<10 { _ = try cluster.propose(n1, String(repeating: "x", count: 76)) }
        let state = try #require(cluster[n1].replicationState(of: n2))
        #expect(state.inflightAppends == 2, "two 100-byte appends reach the 200-byte bound")
        #expect(state.inflightBytes == 200)
        cluster.stabilize()
        cluster.cutLinks = []
        for _ in 0..<3 {
            cluster.tick(n1)
            cluster.stabilize()
        }
        #expect(cluster[n2].lastLogIndex == Raft.LogIndex(11))
        #expect(cluster[n1].replicationState(of: n2)?.inflightBytes == 0)
    }

    @Test("§5.3 probe, replicate and back: a rejection drops a follower to probe and the window refills after the match")
    func progressStates() throws {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        #expect(cluster[n1].replicationState(of: n2)?.mode == "replicate")
        let reject = Raft.Message(from: n2, to: n1, term: Raft.Term(1),
                                  body: .appendResponse(.rejected(rejectedIndex: Raft.LogIndex(5), hintIndex: Raft.LogIndex(1), hintTerm: Raft.Term(1))))
        cluster.input(n1) { $0.receive(reject) }
        #expect(cluster[n1].replicationState(of: n2)?.mode == "probe")
        cluster.stabilize()
        #expect(cluster[n1].replicationState(of: n2)?.mode == "replicate")
        let state = try #require(cluster[n1].replicationState(of: n2))
        #expect(state.match < state.next)
    }
}

