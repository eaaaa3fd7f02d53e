extension Raft.Instance {
    // MARK: Timers

    mutating func resetElectionTimer() {
        electionElapsed = 0
        randomizedElectionTimeout = config.electionTicks + random.below(config.electionTicks)
    }

    mutating func tickElection() {
        electionElapsed += 1
        if isVoter, !abstainsFromElections, electionElapsed >= randomizedElectionTimeout {
            campaign(isLeadershipTransfer: false)
        }
    }

    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if transferTarget != nil {
            transferElapsed += 1
            if transferElapsed >= config.electionTicks {
                // Thesis §3.10: abort a transfer that did not finish within an election timeout,
                // so the old leader accepts proposals again.
                transferTarget = nil
            }
        }
        if electionElapsed >= config.electionTicks {
            electionElapsed = 0
            if config.checkQuorum {
                // Thesis §6.2: a leader that has not heard from a quorum in an election timeout
                // steps down, so clients can find the real leader.
                guard quorumIsActive() else {
                    becomeFollower(term: term, leader: nil)
                    return
                }
                for peer in progress.keys { progress[peer]?.recentActive = false }
            }
        }
        ageSnapshotChunks()
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat(readSequence: reads.latestSequenceInRound)
            repeatFarewells()
        }
        maintainIncarnations()
    }

    /// `linkLost(from:)`: a follower whose leader's connection closed campaigns soon. The delay
    /// stays randomized so survivors rarely stand in the same tick (and when they do, the
    /// pre-candidate yield picks one of them).
    mutating func noticeLinkLost(from peer: Raft.NodeID) {
        guard config.preVote, config.checkQuorum,
              role == .follower, leader == peer, isVoter, !abstainsFromElections else { return }
        failForwardedReads()
        leader = nil
        electionElapsed = 0
        randomizedElectionTimeout = 1 + random.below(max(1, config.electionTicks / 2))
    }

    func quorumIsActive() -> Bool {
        let active = membership.voters.filter { $0 == id || progress[$0]?.recentActive == true }
        return active.count >= membership.quorum
    }

    // MARK: Role changes

    mutating func becomeFollower(term newTerm: Raft.Term, leader newLeader: Raft.NodeID?) {
        if newTerm > term {
            term = newTerm
            vote = nil
        }
        if role == .leader { failLeaderReads() }
        if newLeader != leader || role != .follower { failForwardedReads() }
        role = .follower
        leader = newLeader
        votes = [:]
        progress = [:]
        farewells = [:]
        transferTarget = nil
        resetElectionTimer()
    }

    /// Starts a PreVote round (thesis §9.6) or, for a transfer or without PreVote, an election.
    mutating func campaign(isLeadershipTransfer: Bool) {
        if config.preVote && !isLeadershipTransfer {
            failForwardedReads()
            role = .preCandidate
            leader = nil
            votes = [id: true]
            resetElectionTimer()
            requestVotes(term: term.next, isPreVote: true, isLeadershipTransfer: false)
        } else {
            becomeCandidate(isLeadershipTransfer: isLeadershipTransfer)
        }
        evaluateVotes()
    }

    mutating func becomeCandidate(isLeadershipTransfer: Bool) {
        failForwardedReads()
        term = term.next
        vote = id
        role = .candidate
        leader = nil
        votes = [id: true]
        resetElectionTimer()
        requestVotes(term: term, isPreVote: false, isLeadershipTransfer: isLeadershipTransfer)
    }

    mutating func requestVotes(term requestTerm: Raft.Term, isPreVote: Bool, isLeadershipTransfer: Bool) {
        let request = Raft.VoteRequest(lastLogIndex: log.lastIndex, lastLogTerm: log.lastTerm,
                                       isPreVote: isPreVote, isLeadershipTransfer: isLeadershipTransfer)
        let electorate = mutated("learner-votes") ? membership.members : membership.voters
        for voter in electorate.sorted() where voter != id {
            send(to: voter, term: requestTerm, .voteRequest(request))
        }
    }

    mutating func evaluateVotes() {
        var result = Raft.Quorum.voteResult(voters: membership.voters, votes: votes)
        if mutated("learner-votes"), result == .pending, votes.values.filter({ $0 }).count >= membership.quorum {
            result = .won  // the bug: every member's grant counts toward the voters' quorum
        }
        switch result {
        case .won:
            if role == .preCandidate {
                becomeCandidate(isLeadershipTransfer: false)
                evaluateVotes()
            } else if role == .candidate {
                becomeLeader()
            }
        case .lost:
            becomeFollower(term: term, leader: nil)
        case .pending:
            break
        }
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader (\(leadershipState))")
        role = .leader
        leader = id
        votes = [:]
        heartbeatElapsed = 0
        electionElapsed = 0
        transferTarget = nil
        reads.startTerm()
        progress = [:]
        for member in membership.members where member != id {
            var peer = Progress(next: log.lastIndex + 1, maxInflight: config.maxInflightAppends, maxInflightBytes: config.maxInflightBytes)
            peer.recentActive = true
            progress[member] = peer
        }
        // Raft §8 / thesis §6.4: a new leader commits a no-op of its own term, which also commits
        // everything before it and lets ReadIndex start.
        appendAsLeader([Raft.Entry(term: term, index: log.lastIndex + 1, kind: .noop)])
    }

    // MARK: Votes

    mutating func handleVoteRequest(_ request: Raft.VoteRequest, from candidate: Raft.NodeID, messageTerm: Raft.Term) {
        // Thesis §9.6 / etcd: we may (pre)vote if we already voted for this candidate, have neither
        // voted nor know a leader, or it is a PreVote for a later term.
        let canVote = vote == candidate
            || (vote == nil && leader == nil)
            || (request.isPreVote && messageTerm > term)
        let upToDate = log.isUpToDate(lastIndex: request.lastLogIndex, lastTerm: request.lastLogTerm)
        if canVote && upToDate && !abstainsFromElections && yieldsPreVote(request, to: candidate) {
            if request.isPreVote {
                if role == .preCandidate {
                    // Stands aside: a pre-candidate that granted another and went on to
                    // campaign itself would split the vote of the next term.
                    becomeFollower(term: term, leader: nil)
                }
                send(to: candidate, term: messageTerm, .voteResponse(Raft.VoteResponse(granted: true, isPreVote: true)))
            } else {
                vote = candidate
                resetElectionTimer()
                // Raft §5.1 / cockroach #15648: the vote must be durable before it is answered.
                send(to: candidate, .voteResponse(Raft.VoteResponse(granted: true, isPreVote: false)),
                     requiresVote: !mutated("double-vote"))
            }
        } else {
            send(to: candidate, .voteResponse(Raft.VoteResponse(granted: false, isPreVote: request.isPreVote)))
        }
    }

    /// Whether this node lets `candidate` have its pre-vote as far as its own campaign goes:
    /// always, unless both are pre-candidates. Two nodes that time out within one round trip
    /// (after a leader dies, with two survivors) would otherwise grant each other's pre-votes,
    /// both stand in the same term, each vote for itself and split it — an extra election
    /// timeout, the slow failovers in docs/benchmarks.md. Between two pre-candidates the one
    /// with the more up-to-date log, or on equal logs the lower id, gets the grant, so exactly
    /// one of them stands. Pre-votes change no term and no vote, so this affects only who
    /// campaigns first, never safety (the other still campaigns after its own timeout if the
    /// first fails).
    func yieldsPreVote(_ request: Raft.VoteRequest, to candidate: Raft.NodeID) -> Bool {
        guard request.isPreVote, role == .preCandidate else { return true }
        let theirs = (request.lastLogTerm, request.lastLogIndex), ours = (log.lastTerm, log.lastIndex)
        return theirs > ours || (theirs == ours && candidate < id)
    }

    mutating func handleVoteResponse(_ response: Raft.VoteResponse, from voter: Raft.NodeID, incarnation: UInt64) {
        let expected: Raft.Role = response.isPreVote ? .preCandidate : .candidate
        guard role == expected, membership.voters.contains(voter) || (mutated("learner-votes") && membership.contains(voter)) else { return }
        // A grant from another data directory than the recorded one (a wiped voter that votes
        // anyway) counts as a refusal: its earlier vote in this term may have been lost.
        votes[voter] = response.granted && counts(voter, incarnation: incarnation)
        evaluateVotes()
    }
}
