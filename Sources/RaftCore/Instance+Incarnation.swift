/// What a node with a new incarnation (`Config.incarnationIsNew`) learned from the first message
/// that tells whether the cluster already has history.
enum NewcomerStanding: Hashable, Sendable {
    /// No telling message yet.
    case undecided
    /// A leader with nothing committed sent it an append from the start of the log: it is a
    /// founding member of a brand-new cluster, with no vote or acknowledgement to have lost.
    case founding
    /// The cluster had history when it arrived (a candidate or leader with a non-empty log, a
    /// commit index above 0, a snapshot): it may be a wiped voter.
    case joinedHistory
}

extension Raft.Instance {
    // MARK: Incarnations (docs/raft.md, "Incarnations")

    /// Whether this node must neither vote nor campaign now, even as a voter:
    /// `Config.abstainsFromElections`, or the configuration records an incarnation for it that is
    /// not its own (its data directory was wiped since), or its incarnation is new, it arrived in
    /// a cluster with history, and no committed configuration records its incarnation yet.
    public var abstainsFromElections: Bool {
        if mutated("wiped-voter-votes") { return false }
        if config.abstainsFromElections { return true }
        let mine = config.incarnation
        guard mine != 0 else { return false }
        let recorded = membership.incarnation(of: id)
        if recorded != 0 && recorded != mine { return true }
        return config.incarnationIsNew && newcomerStanding == .joinedHistory && !incarnationRecordCommitted
    }

    /// Latches `incarnationRecordCommitted` once a committed configuration (a snapshot's, or an
    /// entry at or below the commit index) records this node's incarnation. Only a committed
    /// record ends a newcomer's abstention: an uncommitted one may still be truncated away. Each
    /// entry is looked at once (`incarnationCheckedThrough`), so catching up stays linear.
    mutating func noteCommittedIncarnationRecord() {
        let mine = config.incarnation
        guard config.incarnationIsNew, mine != 0, !incarnationRecordCommitted else { return }
        if baseMembership.incarnation(of: id) == mine {
            incarnationRecordCommitted = true
            return
        }
        let through = min(commitIndex, log.lastIndex)
        var index = max(incarnationCheckedThrough, log.snapshotIndex) + 1
        while index <= through {
            if let recorded = log.entry(at: index)?.membership, recorded.incarnation(of: id) == mine {
                incarnationRecordCommitted = true
                return
            }
            index = index + 1
        }
        incarnationCheckedThrough = max(incarnationCheckedThrough, through)
    }

    /// Whether a grant or an acknowledgement `voter` sent as `incarnation` may count: its
    /// recorded incarnation is 0 (unrecorded) or that one. A wiped voter's replacement neither
    /// elects nor commits until the leader recorded it again.
    func counts(_ voter: Raft.NodeID, incarnation: UInt64) -> Bool {
        if mutated("ignore-incarnation") || mutated("wiped-voter-votes") { return true }
        let recorded = membership.incarnation(of: voter)
        return recorded == 0 || recorded == incarnation
    }

    /// The incarnation `member` runs as far as this node knows (its own, or the latest a peer's
    /// message carried); 0 when unknown. The leader names it in assignments, so a wiped
    /// executor's new directory never starts what its predecessor was given.
    public func knownIncarnation(of member: Raft.NodeID) -> UInt64 {
        member == id ? config.incarnation : peerIncarnations[member] ?? 0
    }

    /// Notes the sender's incarnation and, for a new incarnation, whether the cluster has history.
    mutating func observeIncarnation(of message: Raft.Message) {
        let stamp = message.fromIncarnation
        if stamp == 0 {
            peersWithoutIncarnation.insert(message.from)
        } else {
            peersWithoutIncarnation.remove(message.from)
            let previous = peerIncarnations.updateValue(stamp, forKey: message.from)
            if let previous, previous != stamp, role == .leader, var follower = progress[message.from],
               !mutated("ignore-reject-hint")
            {
                // Another data directory answers under this id: what the old one acknowledged
                // says nothing about the new one. Forget its match and probe from the start
                // (a late message of the old directory only causes one more probe round). The
                // ignore-reject-hint bug ignores this evidence of a lost log too.
                follower.restartAfterLogLoss(followerLastIndex: .zero)
                progress[message.from] = follower
            }
        }
        guard config.incarnationIsNew, newcomerStanding == .undecided else { return }
        switch message.body {
        case .voteRequest(let request) where request.lastLogIndex > .zero:
            newcomerStanding = .joinedHistory
        case .append(let append):
            // A leader's append from the very start of the log with nothing committed: a
            // brand-new cluster. (A leader repairing a wiped node sends its real commit index.)
            newcomerStanding = append.prevLogIndex > .zero || append.leaderCommit > .zero ? .joinedHistory : .founding
        case .heartbeat(let heartbeat) where heartbeat.commit > .zero:
            newcomerStanding = .joinedHistory
        case .installSnapshot:
            newcomerStanding = .joinedHistory
        case .appendResponse(.success(let matchIndex)) where matchIndex > .zero:
            newcomerStanding = .joinedHistory
        default:
            break
        }
    }

    /// Leader: proposes the next incarnation change, if one is due and no change is pending:
    /// demote a voter that runs another incarnation than the recorded one; promote such a
    /// learner again, with its new incarnation, once it holds every committed entry; record the
    /// incarnations of unrecorded voters that hold every committed entry (in one entry).
    mutating func maintainIncarnations() {
        guard role == .leader, transferTarget == nil, log.term(at: commitIndex) == term,
              membershipIndex <= commitIndex, let change = nextIncarnationChange(),
              let next = try? membership.applying(change)
        else { return }
        appendAsLeader([Raft.Entry(term: term, index: log.lastIndex + 1, kind: .configChange, data: next.encoded)])
    }

    /// The change `maintainIncarnations` would propose now.
    func nextIncarnationChange() -> Raft.MembershipChange? {
        // Rolling upgrades: record nothing while a member's latest message carried no
        // incarnation (a build that cannot read configurations with incarnations, format
        // version 3). Members not heard from yet do not hold recording up.
        guard peersWithoutIncarnation.isDisjoint(with: membership.members), config.incarnation != 0 else { return nil }
        func holdsEveryCommittedEntry(_ member: Raft.NodeID) -> Bool {
            let match = member == id ? ownMatch : progress[member]?.match ?? .zero
            return match >= commitIndex && match > .zero
        }
        for voter in membership.voters.sorted() where voter != id {
            let recorded = membership.incarnation(of: voter)
            let running = knownIncarnation(of: voter)
            if recorded != 0 && running != 0 && running != recorded && membership.voters.count > 1 {
                return .demote(voter)
            }
        }
        for learner in membership.learners.sorted() {
            let recorded = membership.incarnation(of: learner)
            let running = knownIncarnation(of: learner)
            // Only a learner that was a voter under another incarnation (demoted for repair);
            // learners an operator added carry no record and are left to the operator.
            if recorded != 0 && running != 0 && running != recorded && holdsEveryCommittedEntry(learner) {
                return .promoteWithIncarnation(learner, incarnation: running)
            }
        }
        var unrecorded: [Raft.NodeID: UInt64] = [:]
        for voter in membership.voters where membership.incarnation(of: voter) == 0 && holdsEveryCommittedEntry(voter) {
            let running = knownIncarnation(of: voter)
            if running != 0 { unrecorded[voter] = running }
        }
        return unrecorded.isEmpty ? nil : .recordIncarnations(unrecorded)
    }
}
