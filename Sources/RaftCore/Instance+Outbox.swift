/// A log position a message depends on: it may leave only once the log is durable through
/// `index` and still holds `term` there.
struct LogRequirement: Hashable, Sendable {
    var index: Raft.LogIndex
    var term: Raft.Term
}

/// A message held until the state it reports is durable.
struct PendingMessage: Hashable, Sendable {
    var message: Raft.Message
    /// The sender's term must be durable (etcd: no message leaves before the HardState).
    var term: Raft.Term
    /// The vote this message reports must be durable (vote grants).
    var vote: Raft.NodeID?
    var log: LogRequirement?
    /// For a snapshot chunk: how many bytes of the image the shell reads into it when it leaves.
    var chunkLength: Int?
}

extension Raft.Instance {
    /// Queues a message in the current term.
    mutating func send(to peer: Raft.NodeID, _ body: Raft.Body, requiresVote: Bool = false, requiresLog: LogRequirement? = nil,
                       chunkLength: Int? = nil) {
        send(to: peer, term: term, body, requiresVote: requiresVote, requiresLog: requiresLog, chunkLength: chunkLength)
    }

    /// Queues a message; it leaves (as `.send`) once what it depends on is durable.
    mutating func send(to peer: Raft.NodeID, term messageTerm: Raft.Term, _ body: Raft.Body,
                       requiresVote: Bool = false, requiresLog: LogRequirement? = nil, chunkLength: Int? = nil)
    {
        guard peer != id else { return }
        let message = Raft.Message(from: id, to: peer, term: messageTerm, body: body, fromIncarnation: config.incarnation)
        outbox.append(PendingMessage(message: message, term: term, vote: requiresVote ? vote : nil, log: requiresLog,
                                     chunkLength: chunkLength))
    }

    /// The hard state to hand to storage. Its commit index never exceeds the durable log, so a
    /// restart never trusts a commit index over entries that storage may not hold yet (whatever
    /// order the shell's writes reach the disk in), and it never goes backwards.
    /// The double-vote mutation "forgets" the vote.
    var hardStateForStorage: Raft.HardState {
        var state = hardState
        state.commit = max(lastEmittedHardState.commit, min(commitIndex, durableIndex))
        if mutated("double-vote") { state.vote = nil }
        return state
    }

    func isDurable(_ pending: PendingMessage) -> Bool {
        let storedTerm = durableHardState.term
        guard storedTerm >= pending.term else { return false }
        if let vote = pending.vote, storedTerm == pending.term, durableHardState.vote != vote { return false }
        if let requirement = pending.log {
            if requirement.index < log.snapshotIndex { return true }
            guard durableIndex >= requirement.index else { return false }
        }
        return true
    }

    /// Whether a held message became meaningless: its term passed, or the log entry it
    /// acknowledges was truncated.
    func isObsolete(_ pending: PendingMessage) -> Bool {
        if pending.term < term { return true }
        if let requirement = pending.log, requirement.index >= log.snapshotIndex,
           log.term(at: requirement.index) != requirement.term
        {
            return true
        }
        return false
    }

    /// Ends every input: records the hard state, releases durable messages, hands out newly
    /// committed durable entries, and reports role changes. Returns the actions in order.
    mutating func finish() -> [Raft.Action] {
        noteCommittedIncarnationRecord()
        let current = hardStateForStorage
        if current != lastEmittedHardState {
            lastEmittedHardState = current
            actions.append(.persistHardState(current))
        }
        if membership != lastReportedMembership {
            lastReportedMembership = membership
            actions.append(.membershipChanged(membership))
        }
        var held: [PendingMessage] = []
        for pending in outbox where !isObsolete(pending) {
            if isDurable(pending) {
                if let length = pending.chunkLength {
                    actions.append(.sendSnapshotChunk(Raft.SnapshotChunkRead(message: pending.message, length: length)))
                } else {
                    actions.append(.send(pending.message))
                }
            } else {
                held.append(pending)
            }
        }
        outbox = held
        // etcd #14370: apply only entries that are both committed and durable here.
        let applyThrough = min(commitIndex, durableIndex)
        if applyThrough > applyCursor, let entries = log.entries(from: applyCursor + 1, through: applyThrough), !entries.isEmpty {
            applyCursor = applyThrough
            actions.append(.apply(entries))
        }
        let leadership = leadershipState
        if leadership != lastReportedLeadership {
            lastReportedLeadership = leadership
            actions.append(.leadershipChanged(leadership))
        }
        let result = actions
        actions = []
        return result
    }
}
