extension Raft.Instance {
    /// Dispatches one message after the term checks of Raft §5.1 and the thesis' lease rule.
    mutating func step(_ message: Raft.Message) {
        guard message.to == id, message.from != id else { return }
        if let (reason, detail) = fieldViolation(of: message) {
            drop(message, reason, detail)
            return
        }
        observeIncarnation(of: message)
        if message.term > term {
            if case .voteRequest(let request) = message.body {
                // Thesis §4.2.3: while a leader is active, ignore vote requests so a removed or
                // partitioned server cannot disrupt it — unless the leader itself asked (transfer).
                let inLease = config.checkQuorum && leader != nil && electionElapsed < config.electionTicks
                if inLease && !request.isLeadershipTransfer { return }
                if !request.isPreVote { becomeFollower(term: message.term, leader: nil) }
            } else if case .voteResponse(let response) = message.body, response.isPreVote, response.granted {
                // A granted PreVote carries the term we would campaign in; it changes nothing.
            } else {
                switch message.body {
                case .append, .heartbeat, .installSnapshot, .timeoutNow:
                    becomeFollower(term: message.term, leader: message.from)
                default:
                    becomeFollower(term: message.term, leader: nil)
                }
            }
        } else if message.term < term {
            switch message.body {
            case .append, .heartbeat:
                // A stale leader (or one that missed our term bump): answer with our term so it
                // steps down (etcd TestFreeStuckCandidateWithCheckQuorum / TestDisruptiveFollower).
                if config.checkQuorum || config.preVote {
                    send(to: message.from, .heartbeatResponse(Raft.HeartbeatResponse()))
                }
            case .voteRequest(let request) where request.isPreVote:
                send(to: message.from, .voteResponse(Raft.VoteResponse(granted: false, isPreVote: true)))
            default:
                break
            }
            return
        }
        if let (reason, detail) = stateViolation(of: message) {
            drop(message, reason, detail)
            if reason == .snapshotOlderThanApplied {
                // Not installed; tell the leader how far we are so it stops sending it.
                acknowledge(through: commitIndex, to: message.from)
            }
            return
        }

        switch message.body {
        case .voteRequest(let request):
            handleVoteRequest(request, from: message.from, messageTerm: message.term)
        case .voteResponse(let response):
            handleVoteResponse(response, from: message.from, incarnation: message.fromIncarnation)
        case .append(let append):
            guard acceptLeader(message.from) else { return }
            handleAppend(append, from: message.from)
        case .heartbeat(let heartbeat):
            guard acceptLeader(message.from) else { return }
            handleHeartbeat(heartbeat, from: message.from)
        case .installSnapshot(let chunk):
            guard acceptLeader(message.from) else { return }
            handleSnapshotChunk(chunk, from: message.from)
        case .appendResponse(let response):
            guard role == .leader else { return }
            guard progress[message.from] != nil else {
                // A removed peer answering its farewell: the next part follows.
                if case .success(let matchIndex) = response { continueFarewell(to: message.from, acknowledged: matchIndex) }
                return
            }
            progress[message.from]?.recentActive = true
            handleAppendResponse(response, from: message.from)
        case .heartbeatResponse(let response):
            guard role == .leader, progress[message.from] != nil else { return }
            progress[message.from]?.recentActive = true
            handleHeartbeatResponse(response, from: message.from)
        case .snapshotResponse(let response):
            guard role == .leader else { return }
            guard progress[message.from] != nil else {
                // A removed peer answering a chunk of its farewell snapshot: the next follows.
                return continueFarewellSnapshot(to: message.from, response)
            }
            progress[message.from]?.recentActive = true
            handleSnapshotResponse(response, from: message.from)
        case .readIndexRequest(let context):
            if role == .leader {
                requestRead(context: context, origin: message.from)
            } else {
                send(to: message.from, .readIndexResponse(context: context, index: nil))
            }
        case .readIndexResponse(let context, let index):
            handleReadIndexResponse(context: context, index: index)
        case .timeoutNow:
            // Thesis §3.10: the leader asked us to take over; campaign at once, skipping PreVote.
            if role == .follower, isVoter, !abstainsFromElections { campaign(isLeadershipTransfer: true) }
        }
    }

    /// A message from the leader of our term: follow it. Returns false if we lead this term
    /// ourselves, which election safety rules out.
    mutating func acceptLeader(_ sender: Raft.NodeID) -> Bool {
        guard role != .leader else { return false }
        if role != .follower || leader != sender {
            becomeFollower(term: term, leader: sender)
        }
        electionElapsed = 0
        return true
    }
}
