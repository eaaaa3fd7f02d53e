import Testing
@testable import RaftCore

/// Peers are checked, not trusted: each rule of docs/raft.md ("Dropped messages") drops the
/// message before it changes anything and reports it as `.droppedMessage`. Several of these
/// inputs trapped before the rules existed (non-contiguous entries, a negative snapshot offset).
@Suite("Dropped messages: peers are checked, not trusted")
struct DroppedMessageTests {
    /// n1 leads term `term`; every node holds and has committed entries 1...4.
    func committedCluster() throws -> TestCluster {
        var cluster = TestCluster(voters: [n1, n2, n3])
        cluster.elect(n1)
        for index in 0..<3 { _ = try cluster.propose(n1, "e\(index)") }
        cluster.stabilize()
        cluster.tick(n1)
        cluster.stabilize()
        #expect(cluster[n2].commitIndex == Raft.LogIndex(4))
        #expect(cluster.droppedMessages.isEmpty, "honest traffic is never dropped")
        return cluster
    }

    /// Feeds `body` from `from` to `node` and checks that it was dropped for `reason` with no
    /// other effect than the report (and, for a stale snapshot, its acknowledgement).
    func expectDropped(_ cluster: TestCluster, at node: Raft.NodeID = n2, from: Raft.NodeID = n1, term: Raft.Term? = nil,
                       _ body: Raft.Body, reason: Raft.DropReason, sourceLocation: SourceLocation = #_sourceLocation)
    {
        var instance = cluster[node]
        let before = (instance.term, instance.role, instance.leader, instance.commitIndex, instance.lastLogIndex, instance.lastLogTerm)
        let actions = instance.receive(Raft.Message(from: from, to: node, term: term ?? instance.term, body: body))
        let dropped = actions.compactMap { if case .droppedMessage(let d) = $0 { d } else { nil } }
        #expect(dropped.map(\.reason) == [reason], "actions: \(actions)", sourceLocation: sourceLocation)
        #expect(dropped.first?.from == from, sourceLocation: sourceLocation)
        let after = (instance.term, instance.role, instance.leader, instance.commitIndex, instance.lastLogIndex, instance.lastLogTerm)
        #expect(before == after, "the dropped message changed state", sourceLocation: sourceLocation)
        let writes = actions.filter {
            switch $0 {
            case .truncateLog, .appendLog, .installSnapshot, .apply: true
            default: false
            }
        }
        #expect(writes.isEmpty, "the dropped message wrote: \(writes)", sourceLocation: sourceLocation)
    }

    @Test("forged_sender: a message whose from differs from the authenticated peer")
    func forgedSender() {
        let message = Raft.Message(from: n1, to: n2, term: Raft.Term(3), body: .timeoutNow)
        let forged = message.senderMismatch(authenticatedAs: n3)
        #expect(forged?.reason == .forgedSender)
        #expect(forged?.from == n3)
        #expect(forged?.kind == "timeoutNow")
        #expect(message.senderMismatch(authenticatedAs: n1) == nil)
    }

    @Test("term_out_of_range: a term above 2^63 - 1 (its + 1 would overflow) is not adopted")
    func termOutOfRange() throws {
        let cluster = try committedCluster()
        expectDropped(cluster, term: Raft.Term(UInt64.max), .heartbeat(Raft.Heartbeat(commit: .zero)), reason: .termOutOfRange)
        let request = Raft.VoteRequest(lastLogIndex: Raft.LogIndex(9), lastLogTerm: Raft.Term(UInt64.max), isPreVote: false)
        expectDropped(cluster, from: n3, .voteRequest(request), reason: .termOutOfRange)
        // The largest allowed term is still adopted, and the next election cannot overflow.
        var instance = cluster[n2]
        let maximum = Raft.Term(Raft.maximumTermOrIndex)
        _ = instance.receive(Raft.Message(from: n1, to: n2, term: maximum, body: .heartbeat(Raft.Heartbeat(commit: .zero))))
        #expect(instance.term == maximum)
    }

    @Test("index_out_of_range: indexes above 2^63 - 1, and appends ending beyond it")
    func indexOutOfRange() throws {
        let cluster = try committedCluster()
        let term = cluster[n2].term
        expectDropped(cluster, .heartbeat(Raft.Heartbeat(commit: Raft.LogIndex(UInt64.max))), reason: .indexOutOfRange)
        let beyond = Raft.Append(prevLogIndex: Raft.LogIndex(Raft.maximumTermOrIndex), prevLogTerm: term,
                                 entries: [Raft.Entry(term: term, index: Raft.LogIndex(Raft.maximumTermOrIndex + 1))],
                                 leaderCommit: .zero)
        expectDropped(cluster, .append(beyond), reason: .indexOutOfRange)
        expectDropped(cluster, at: n1, from: n2, .appendResponse(.success(matchIndex: Raft.LogIndex(UInt64.max))),
                      reason: .indexOutOfRange)
        expectDropped(cluster, at: n1, from: n2,
                      .appendResponse(.rejected(rejectedIndex: Raft.LogIndex(3), hintIndex: Raft.LogIndex(UInt64.max), hintTerm: .zero)),
                      reason: .indexOutOfRange)
    }

    @Test("entries_not_contiguous: an append with a gap, a repeat, or a wrong start (corrupted the log, or trapped in RaftLog.append)")
    func entriesNotContiguous() throws {
        let cluster = try committedCluster()
        let term = cluster[n2].term.rawValue
        for entries in [[entry(term, 5), entry(term, 7)], [entry(term, 5), entry(term, 5)], [entry(term, 6)], [entry(term, 3)]] {
            let append = Raft.Append(prevLogIndex: Raft.LogIndex(4), prevLogTerm: Raft.Term(term), entries: entries,
                                     leaderCommit: Raft.LogIndex(4))
            expectDropped(cluster, .append(append), reason: .entriesNotContiguous)
        }
    }

    @Test("entry_term_above_sender: entries, prevLogTerm or a snapshot newer than the message's term")
    func entryTermAboveSender() throws {
        let cluster = try committedCluster()
        let term = cluster[n2].term.rawValue
        let newer = Raft.Append(prevLogIndex: Raft.LogIndex(4), prevLogTerm: Raft.Term(term), entries: [entry(term + 1, 5)],
                                leaderCommit: Raft.LogIndex(4))
        expectDropped(cluster, .append(newer), reason: .entryTermAboveSender)
        let newerPrevious = Raft.Append(prevLogIndex: Raft.LogIndex(4), prevLogTerm: Raft.Term(term + 1), entries: [],
                                        leaderCommit: Raft.LogIndex(4))
        expectDropped(cluster, .append(newerPrevious), reason: .entryTermAboveSender)
        let metadata = Raft.SnapshotMetadata(index: Raft.LogIndex(9), term: Raft.Term(term + 1), membership: Raft.Membership(voters: [n1, n2, n3]))
        expectDropped(cluster, .installSnapshot(Raft.InstallSnapshot(metadata: metadata, offset: 0, chunk: [1], isLast: true)),
                      reason: .entryTermAboveSender)
    }

    @Test("truncates_committed: an append that would remove committed entries (was a precondition)")
    func truncatesCommitted() throws {
        let cluster = try committedCluster()
        var instance = cluster[n2]
        let term = instance.term
        // handleAppend answers appends below the commit index before this check, so drive the
        // follower-side acceptance directly, as a faulty path into it would.
        let accepted = instance.appendFromLeader([Raft.Entry(term: term, index: Raft.LogIndex(3)), entry(term.rawValue, 4)],
                                                 from: n1, term: term)
        #expect(accepted)
        let conflicting = instance.appendFromLeader([Raft.Entry(term: Raft.Term(term.rawValue + 1), index: Raft.LogIndex(3))],
                                                    from: n1, term: Raft.Term(term.rawValue + 1))
        #expect(!conflicting)
        #expect(instance.commitIndex == Raft.LogIndex(4))
        #expect(instance.lastLogIndex == Raft.LogIndex(4))
        let actions = instance.finish()
        let dropped = actions.compactMap { if case .droppedMessage(let d) = $0 { d.reason } else { nil } }
        #expect(dropped == [.truncatesCommitted])
        #expect(!actions.contains { if case .truncateLog = $0 { true } else { false } })
    }

    /// Dropping it (an earlier rule) hid the one signal that a follower lost its log.
    @Test("a heartbeat committing past the follower's last entry is not dropped: the follower commits what it holds and reports the loss")
    func commitBeyondLogIsTheLostLogSignal() throws {
        let cluster = try committedCluster()
        var instance = cluster[n2]
        let last = instance.lastLogIndex
        let actions = instance.receive(Raft.Message(from: n1, to: n2, term: instance.term,
                                                    body: .heartbeat(Raft.Heartbeat(commit: Raft.LogIndex(100)))))
        #expect(!actions.contains { if case .droppedMessage = $0 { true } else { false } })
        #expect(instance.commitIndex <= last)
        let reported = actions.contains { action in
            guard case .send(let message) = action, case .heartbeatResponse(let response) = message.body else { return false }
            return response.lostEntriesAfter == last
        }
        #expect(reported)
    }

    @Test("snapshot_older_than_applied: not installed, answered with the commit index")
    func snapshotOlderThanApplied() throws {
        let cluster = try committedCluster()
        let term = cluster[n2].term
        let old = Raft.SnapshotMetadata(index: Raft.LogIndex(2), term: term, membership: Raft.Membership(voters: [n1, n2, n3]))
        let body = Raft.Body.installSnapshot(Raft.InstallSnapshot(metadata: old, offset: 0, chunk: [1, 2, 3], isLast: true))
        expectDropped(cluster, body, reason: .snapshotOlderThanApplied)
        var instance = cluster[n2]
        let actions = instance.receive(Raft.Message(from: n1, to: n2, term: term, body: body))
        #expect(actions.contains(.send(Raft.Message(from: n2, to: n1, term: term, body: .appendResponse(.success(matchIndex: Raft.LogIndex(4)))))))
    }

    @Test("malformed_snapshot_transfer: negative offsets and counts (the leader sliced its snapshot with them)")
    func malformedSnapshotTransfer() throws {
        var cluster = try SnapshotTests().clusterWithCompactedLeader(chunkBytes: 2)
        cluster.isolated = []
        cluster.tick(n1)
        while cluster[n1].replicationState(of: n3)?.mode != "snapshot", !cluster.network.isEmpty { cluster.deliverNext() }
        // n3 is now being sent the snapshot chunk by chunk.
        #expect(cluster[n1].replicationState(of: n3)?.mode == "snapshot")
        expectDropped(cluster, at: n1, from: n3,
                      .snapshotResponse(Raft.SnapshotResponse(index: Raft.LogIndex(6), receivedBytes: -5)),
                      reason: .malformedSnapshotTransfer)
        let metadata = try #require(cluster[n1].snapshotMetadata)
        expectDropped(cluster, at: n3, term: cluster[n1].term,
                      .installSnapshot(Raft.InstallSnapshot(metadata: metadata, offset: -1, chunk: [1], isLast: false)),
                      reason: .malformedSnapshotTransfer)
        expectDropped(cluster, at: n3, term: cluster[n1].term,
                      .installSnapshot(Raft.InstallSnapshot(metadata: metadata, offset: Int.max, chunk: [1], isLast: false)),
                      reason: .malformedSnapshotTransfer)
    }

    @Test("ack_beyond_log: a follower acknowledging entries the leader does not have")
    func ackBeyondLog() throws {
        let cluster = try committedCluster()
        expectDropped(cluster, at: n1, from: n2, .appendResponse(.success(matchIndex: Raft.LogIndex(100))), reason: .ackBeyondLog)
        #expect(cluster[n1].replicationState(of: n2)?.match == Raft.LogIndex(4))
    }

    @Test("a stale-term message is answered as before, not counted as dropped")
    func staleTermIsNotADrop() throws {
        let cluster = try committedCluster()
        var instance = cluster[n2]
        let actions = instance.receive(Raft.Message(from: n3, to: n2, term: .zero, body: .heartbeat(Raft.Heartbeat(commit: Raft.LogIndex(100)))))
        #expect(!actions.contains { if case .droppedMessage = $0 { true } else { false } })
    }
}
