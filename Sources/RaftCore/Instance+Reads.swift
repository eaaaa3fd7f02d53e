/// The leader's pending ReadIndex requests (thesis §6.4).
///
/// Each round gets a sequence number unique for the life of the instance; a heartbeat carries the
/// latest one, and an acknowledgement of sequence `s` (in the current term) confirms every round
/// `≤ s`. Client contexts are never used to match acknowledgements, so a duplicated context or a
/// delayed acknowledgement from an earlier round cannot release a read early (etcd-io/raft #397).
struct ReadTracker: Hashable, Sendable {
    struct Pending: Hashable, Sendable {
        var sequence: UInt64
        var index: Raft.LogIndex
        var context: Raft.ReadContext
        var origin: Raft.NodeID
    }

    struct Waiting: Hashable, Sendable {
        var context: Raft.ReadContext
        var origin: Raft.NodeID
    }

    private(set) var lastSequence: UInt64 = 0
    /// Reads received before this leader committed an entry of its term (etcd PR #12762).
    var awaitingCommit: [Waiting] = []
    /// Reads waiting for a quorum to acknowledge their heartbeat round, oldest first.
    var inRound: [Pending] = []
    /// The highest sequence each peer acknowledged in this term.
    var acknowledged: [Raft.NodeID: UInt64] = [:]

    var latestSequenceInRound: UInt64 { inRound.last?.sequence ?? 0 }

    mutating func nextSequence() -> UInt64 {
        lastSequence += 1
        return lastSequence
    }

    /// A new term starts with no acknowledgements (sequences keep growing across terms).
    mutating func startTerm() {
        awaitingCommit = []
        inRound = []
        acknowledged = [:]
    }
}

extension Raft.Instance {
    mutating func requestRead(context: Raft.ReadContext, origin: Raft.NodeID) {
        if mutated("stale-read") {
            // Deliberate bug: answer from the local commit index with no confirmation at all.
            releaseRead(context: context, origin: origin, index: commitIndex)
            return
        }
        guard log.term(at: commitIndex) == term else {
            // Thesis §6.4 step 1: until the leader commits an entry of its term it does not know
            // the full commit index; hold the read (etcd #7331, PR #12762).
            reads.awaitingCommit.append(ReadTracker.Waiting(context: context, origin: origin))
            return
        }
        let voters = membership.voters
        if voters == [id] {
            // A sole voter is its own quorum.
            releaseRead(context: context, origin: origin, index: commitIndex)
            return
        }
        let sequence = reads.nextSequence()
        reads.inRound.append(ReadTracker.Pending(sequence: sequence, index: commitIndex, context: context, origin: origin))
        broadcastHeartbeat(readSequence: sequence)
        releaseConfirmedReads()
    }

    mutating func releaseReadsAwaitingCommit() {
        let waiting = reads.awaitingCommit
        reads.awaitingCommit = []
        for read in waiting { requestRead(context: read.context, origin: read.origin) }
    }

    mutating func acknowledgeRead(sequence: UInt64, from peer: Raft.NodeID) {
        reads.acknowledged[peer] = max(reads.acknowledged[peer] ?? 0, sequence)
        releaseConfirmedReads()
    }

    /// Releases every read whose round a quorum of voters acknowledged (the leader counts itself).
    mutating func releaseConfirmedReads() {
        while let first = reads.inRound.first {
            let confirmations = membership.voters.filter { voter in
                voter == id || (reads.acknowledged[voter] ?? 0) >= first.sequence
            }.count
            guard confirmations >= membership.quorum else { return }
            reads.inRound.removeFirst()
            releaseRead(context: first.context, origin: first.origin, index: first.index)
        }
    }

    mutating func releaseRead(context: Raft.ReadContext, origin: Raft.NodeID, index: Raft.LogIndex) {
        if origin == id {
            actions.append(.readReady(Raft.ReadState(context: context, index: index)))
        } else {
            send(to: origin, .readIndexResponse(context: context, index: index))
        }
    }

    mutating func handleReadIndexResponse(context: Raft.ReadContext, index: Raft.LogIndex?) {
        guard let position = forwardedReads.firstIndex(of: context) else { return }
        forwardedReads.remove(at: position)
        if let index {
            actions.append(.readReady(Raft.ReadState(context: context, index: index)))
        } else {
            actions.append(.readFailed(context))
        }
    }

    /// A leader stepping down fails its own pending reads; remote requesters learn through their
    /// own leader change (or their shell's timeout).
    mutating func failLeaderReads() {
        for read in reads.awaitingCommit where read.origin == id { actions.append(.readFailed(read.context)) }
        for read in reads.inRound where read.origin == id { actions.append(.readFailed(read.context)) }
        reads.startTerm()
    }

    /// Reads forwarded to a leader we no longer follow will never be answered: fail them.
    mutating func failForwardedReads() {
        for context in forwardedReads { actions.append(.readFailed(context)) }
        forwardedReads = []
    }
}
