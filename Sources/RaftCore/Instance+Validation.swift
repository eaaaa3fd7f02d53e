/// Peers are checked, not trusted: every message is validated before it changes anything, and a
/// message that breaks a rule is dropped and reported as `.droppedMessage` (the shell logs and
/// counts it). The rules keep every trap (overflow, out-of-range index, the log's own
/// preconditions) out of reach of a peer's bytes. A Byzantine peer that sends well-formed but
/// false messages (a vote it never cast, entries it never received) is out of scope
/// (docs/security.md).
extension Raft.Instance {
    /// Records that `message` was dropped.
    mutating func drop(_ message: Raft.Message, _ reason: Raft.DropReason, _ detail: String) {
        drop(from: message.from, term: message.term, kind: message.body.kindName, reason, detail)
    }

    /// Records that a message of `kind` from `peer` was dropped.
    mutating func drop(from peer: Raft.NodeID, term messageTerm: Raft.Term, kind: String, _ reason: Raft.DropReason, _ detail: String) {
        actions.append(.droppedMessage(Raft.DroppedMessage(from: peer, term: messageTerm, kind: kind, reason: reason, detail: detail)))
    }

    /// Checks the message's own fields (no state involved): ranges, contiguity, terms no newer
    /// than the sender's. Returns the broken rule with the offending values, or `nil`.
    func fieldViolation(of message: Raft.Message) -> (Raft.DropReason, String)? {
        let limit = Raft.maximumTermOrIndex
        guard message.term.rawValue <= limit else { return (.termOutOfRange, "term \(message.term) exceeds \(limit)") }
        func checkIndex(_ value: Raft.LogIndex, _ name: String) -> (Raft.DropReason, String)? {
            value.rawValue <= limit ? nil : (.indexOutOfRange, "\(name) \(value) exceeds \(limit)")
        }
        func checkTerm(_ value: Raft.Term, _ name: String) -> (Raft.DropReason, String)? {
            value.rawValue <= limit ? nil : (.termOutOfRange, "\(name) \(value) exceeds \(limit)")
        }
        switch message.body {
        case .voteRequest(let request):
            return checkIndex(request.lastLogIndex, "lastLogIndex") ?? checkTerm(request.lastLogTerm, "lastLogTerm")
        case .append(let append):
            if let bad = checkIndex(append.prevLogIndex, "prevLogIndex") ?? checkIndex(append.leaderCommit, "leaderCommit") { return bad }
            if append.prevLogTerm > message.term {
                return (.entryTermAboveSender, "prevLogTerm \(append.prevLogTerm) is newer than the message's \(message.term)")
            }
            // prevLogIndex ≤ 2^63 − 1 and the count < 2^63, so the sum cannot overflow UInt64.
            let last = append.prevLogIndex.rawValue + UInt64(append.entries.count)
            guard last <= limit else {
                return (.indexOutOfRange, "\(append.entries.count) entries after \(append.prevLogIndex) end beyond \(limit)")
            }
            for (offset, entry) in append.entries.enumerated() {
                let expected = append.prevLogIndex.rawValue + UInt64(offset) + 1
                guard entry.index.rawValue == expected else {
                    return (.entriesNotContiguous, "entry \(offset) has index \(entry.index), expected i\(expected)")
                }
                guard entry.term <= message.term else {
                    return (.entryTermAboveSender, "entry \(entry.index) has term \(entry.term), newer than the message's \(message.term)")
                }
            }
            return nil
        case .appendResponse(.success(let matchIndex)):
            return checkIndex(matchIndex, "matchIndex")
        case .appendResponse(.rejected(let rejectedIndex, let hintIndex, let hintTerm)):
            return checkIndex(rejectedIndex, "rejectedIndex") ?? checkIndex(hintIndex, "hintIndex") ?? checkTerm(hintTerm, "hintTerm")
        case .heartbeat(let heartbeat):
            return checkIndex(heartbeat.commit, "commit")
        case .installSnapshot(let chunk):
            if let bad = checkIndex(chunk.metadata.index, "snapshot index") ?? checkTerm(chunk.metadata.term, "snapshot term") { return bad }
            if chunk.metadata.term > message.term {
                return (.entryTermAboveSender, "snapshot term \(chunk.metadata.term) is newer than the message's \(message.term)")
            }
            guard chunk.offset >= 0, chunk.offset <= Int.max - chunk.chunk.count else {
                return (.malformedSnapshotTransfer, "chunk offset \(chunk.offset) with \(chunk.chunk.count) bytes is out of range")
            }
            return nil
        case .snapshotResponse(let response):
            if let bad = checkIndex(response.index, "snapshot index") { return bad }
            guard response.receivedBytes >= 0 else {
                return (.malformedSnapshotTransfer, "received bytes \(response.receivedBytes) is negative")
            }
            return nil
        case .readIndexResponse(_, let readIndex?):
            return checkIndex(readIndex, "read index")
        case .voteResponse, .heartbeatResponse, .readIndexRequest, .readIndexResponse(_, nil), .timeoutNow:
            return nil
        }
    }

    /// Checks a message of the current term against this node's log: what it would make the
    /// core do must be possible without losing committed entries or inventing log positions.
    /// Runs after the term rules (a newer term is adopted first, as from any peer).
    func stateViolation(of message: Raft.Message) -> (Raft.DropReason, String)? {
        switch message.body {
        // A heartbeat committing beyond this follower's log is not dropped: the leader caps the
        // commit at what the follower acknowledged, so it means the follower lost its log — the
        // signal the leader needs to repair it (`handleHeartbeat` commits only what it holds and
        // answers with `lostEntriesAfter`).
        case .installSnapshot(let chunk) where role != .leader:
            guard chunk.metadata.index >= appliedIndex else {
                return (.snapshotOlderThanApplied, "snapshot \(chunk.metadata.index) is older than the applied index \(appliedIndex)")
            }
            return nil
        case .appendResponse(.success(let matchIndex)) where role == .leader:
            guard matchIndex <= log.lastIndex else {
                return (.ackBeyondLog, "acknowledges \(matchIndex) beyond the last log index \(log.lastIndex)")
            }
            return nil
        default:
            return nil
        }
    }
}
