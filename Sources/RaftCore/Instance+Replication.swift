extension Raft.Instance {
    // MARK: Leader side

    /// Appends entries created by this leader and replicates them.
    mutating func appendAsLeader(_ entries: [Raft.Entry]) {
        log.append(entries)
        actions.append(.appendLog(entries))
        if entries.contains(where: { $0.kind == .configChange }) { recomputeMembership() }
        _ = maybeCommit()
        broadcastAppend()
    }

    /// This leader's own match: only what is durable locally (etcd #14370), and only once its
    /// term is durable.
    var ownMatch: Raft.LogIndex { durableHardState.term == term ? durableIndex : .zero }

    /// Raft §5.3–§5.4.2: advance the commit index to what a majority of voters holds, but only
    /// by counting an entry of the current term (Figure 8).
    ///
    /// The matches are gathered in a loop, not in a closure passed to `Quorum`: a closure that
    /// reads `self` inside a mutating method copies the whole instance (every table retained and
    /// released) on each call, and this runs on every acknowledgement (docs/benchmarks.md).
    mutating func maybeCommit() -> Bool {
        var matches: [Raft.LogIndex] = []
        matches.reserveCapacity(membership.voters.count)
        for voter in membership.voters {
            // Acknowledgements of a data directory other than the recorded one do not count
            // (docs/raft.md, "Incarnations").
            guard counts(voter, incarnation: knownIncarnation(of: voter)) else {
                matches.append(.zero)
                continue
            }
            matches.append(voter == id ? ownMatch : (progress[voter]?.match ?? .zero))
        }
        var candidate = Raft.Quorum.committedIndex(matches: matches)
        if mutated("learner-acks"), !membership.voters.isEmpty {
            // The bug: learners' acknowledgements count toward the voters' quorum.
            let all = (matches + membership.learners.map { progress[$0]?.match ?? .zero }).sorted(by: >)
            candidate = all[min(membership.quorum, all.count) - 1]
        }
        guard candidate > commitIndex else { return false }
        guard log.term(at: candidate) == term || mutated("commit-old-term") else { return false }
        commitIndex = candidate
        leaderCommitted()
        return true
    }

    /// Bookkeeping after the leader's commit index moved.
    mutating func leaderCommitted() {
        if log.term(at: commitIndex) == term { releaseReadsAwaitingCommit() }
        broadcastAppend()
        // Thesis §4.2.2: a leader removed from the configuration steps down once that
        // configuration is committed.
        if role == .leader, !isVoter, membershipIndex <= commitIndex {
            becomeFollower(term: term, leader: nil)
        }
    }

    mutating func broadcastAppend() {
        for peer in progress.keys.sorted() { sendAppend(to: peer) }
    }

    mutating func broadcastHeartbeat(readSequence: UInt64) {
        for peer in progress.keys.sorted() {
            guard let follower = progress[peer] else { continue }
            let heartbeat = Raft.Heartbeat(commit: min(follower.match, commitIndex), readSequence: readSequence)
            progress[peer]?.sentCommit = max(follower.sentCommit, heartbeat.commit)
            send(to: peer, .heartbeat(heartbeat))
        }
    }

    /// Sends the next batch to `peer` if its flow control allows (etcd maybeSendAppend).
    /// Returns whether a message was sent.
    @discardableResult
    mutating func sendAppend(to peer: Raft.NodeID, sendIfEmpty: Bool = true) -> Bool {
        guard var follower = progress[peer] else { return false }
        if follower.state == .snapshot { return false }
        if follower.isPaused { return false }
        let prevIndex = follower.next - 1
        guard let prevTerm = log.term(at: prevIndex),
              var entries = log.entries(from: follower.next, maxCount: config.maxEntriesPerAppend,
                                        maxBytes: config.maxBytesPerAppend)
        else {
            sendSnapshot(to: peer)
            return false
        }
        if mutated("commit-old-term"), let first = entries.first, let cut = entries.firstIndex(where: { $0.term != first.term }) {
            // Widen the deliberate bug's window: old-term entries travel (and are acknowledged)
            // on their own, before the new leader's entries.
            entries.removeSubrange(cut...)
        }
        if entries.isEmpty && !sendIfEmpty { return false }
        let append = Raft.Append(prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries: entries, leaderCommit: commitIndex)
        send(to: peer, .append(append))
        follower.sentCommit = max(follower.sentCommit, min(commitIndex, prevIndex + UInt64(entries.count)))
        if let last = entries.last {
            follower.sentEntries(through: last.index, bytes: entries.reduce(0) { $0 + $1.byteCount })
        } else if follower.state == .probe {
            follower.probeSent = true
        }
        progress[peer] = follower
        return true
    }

    mutating func handleAppendResponse(_ response: Raft.AppendResponse, from peer: Raft.NodeID) {
        guard var follower = progress[peer] else { return }
        switch response {
        case .success(let matchIndex):
            let advanced = follower.acknowledge(through: matchIndex)
            switch follower.state {
            case .probe:
                if advanced || follower.match + 1 >= follower.next { follower.becomeReplicate() }
            case .snapshot:
                if follower.match >= follower.pendingSnapshot { follower.becomeReplicate() }
            case .replicate:
                follower.inflights.free(through: follower.match)
            }
            progress[peer] = follower
            if advanced { _ = maybeCommit() }
            while sendAppend(to: peer, sendIfEmpty: false) {}
            if let updated = progress[peer], updated.sentCommit < min(commitIndex, updated.match) {
                // The follower holds entries it does not yet know are committed: tell it.
                sendAppend(to: peer)
            }
            if transferTarget == peer, progress[peer]?.match == log.lastIndex {
                send(to: peer, .timeoutNow)
            }
        case .rejected(let rejectedIndex, let hintIndex, let hintTerm):
            // Fast backtracking: skip every entry of a term the follower cannot match.
            var probeFrom = hintIndex
            if hintTerm > .zero {
                probeFrom = log.lastIndex(atOrBelow: hintIndex, withTermAtMost: hintTerm).index
            }
            if follower.state == .probe, rejectedIndex == follower.next - 1, rejectedIndex > .zero,
               rejectedIndex <= follower.match, !mutated("ignore-reject-hint")
            {
                // Our one probe, sent at the match index, was refused: the follower no longer
                // holds an entry it acknowledged (wiped or damaged data directory). Without this,
                // `backOff` would resend the same probe forever (the simulator's healing storm).
                // A stale or duplicated rejection only costs one more probe round.
                follower.restartAfterLogLoss(followerLastIndex: min(probeFrom, rejectedIndex - 1))
                progress[peer] = follower
                sendAppend(to: peer)
                return
            }
            if follower.backOff(rejected: rejectedIndex, matchHint: probeFrom) {
                if follower.state == .replicate { follower.becomeProbe() }
                progress[peer] = follower
                sendAppend(to: peer)
            }
        }
    }

    mutating func handleHeartbeatResponse(_ response: Raft.HeartbeatResponse, from peer: Raft.NodeID) {
        guard var follower = progress[peer] else { return }
        if let followerLastIndex = response.lostEntriesAfter, followerLastIndex < follower.match,
           !mutated("ignore-reject-hint")
        {
            // The follower lost entries it acknowledged: repair it from its real log end, by
            // append or (if we compacted past it) by snapshot.
            follower.restartAfterLogLoss(followerLastIndex: min(followerLastIndex, log.lastIndex))
        }
        follower.probeSent = false
        if follower.state == .replicate && follower.inflights.isFull {
            // The follower is alive but the window is stuck (acknowledgements lost): free one
            // slot so replication resumes; a lost append then shows up as a rejection.
            follower.inflights.freeFirst()
        }
        progress[peer] = follower
        if follower.state == .snapshot {
            sendSnapshot(to: peer)
        } else if follower.match < log.lastIndex || follower.state == .probe {
            sendAppend(to: peer)
        }
        if transferTarget == peer, follower.match == log.lastIndex {
            // The TimeoutNow may have been lost: repeat it while the transfer is pending.
            send(to: peer, .timeoutNow)
        }
        if response.readSequence > 0 { acknowledgeRead(sequence: response.readSequence, from: peer) }
    }

    // MARK: Follower side

    mutating func handleAppend(_ append: Raft.Append, from leaderID: Raft.NodeID) {
        if append.prevLogIndex < commitIndex {
            // Everything through our commit index matches the leader; say so (etcd does the same).
            acknowledge(through: commitIndex, to: leaderID)
            return
        }
        guard log.matches(index: append.prevLogIndex, term: append.prevLogTerm) else {
            let hint = log.lastIndex(atOrBelow: min(append.prevLogIndex, log.lastIndex), withTermAtMost: append.prevLogTerm)
            send(to: leaderID, .appendResponse(.rejected(rejectedIndex: append.prevLogIndex, hintIndex: hint.index, hintTerm: hint.term)))
            return
        }
        let lastNew = append.prevLogIndex + UInt64(append.entries.count)
        guard appendFromLeader(append.entries, from: leaderID, term: term) else { return }
        commit(to: min(append.leaderCommit, lastNew))
        acknowledge(through: lastNew, to: leaderID)
    }

    /// Raft §5.3: keep entries that agree, truncate at the first conflict only, append the rest.
    /// A stale or reordered append therefore never removes entries (etcd
    /// TestLogReplicationWithReorderedMessage). Returns false when the append was dropped
    /// because it would truncate committed entries (nothing changed then).
    mutating func appendFromLeader(_ entries: [Raft.Entry], from leaderID: Raft.NodeID, term messageTerm: Raft.Term) -> Bool {
        var firstNew: Int?
        for (offset, entry) in entries.enumerated() where entry.index > log.snapshotIndex {
            if let existing = log.term(at: entry.index) {
                if existing != entry.term {
                    firstNew = offset
                    break
                }
            } else {
                firstNew = offset
                break
            }
        }
        guard var start = firstNew else { return true }
        let conflictIndex = entries[start].index
        if conflictIndex <= log.lastIndex {
            if mutated("no-truncate") {
                // Deliberate bug: keep our conflicting suffix and append only beyond it.
                guard let beyond = entries.firstIndex(where: { $0.index > log.lastIndex }) else { return true }
                start = beyond
            } else {
                if conflictIndex <= commitIndex {
                    // Committed entries are never removed. An honest leader cannot ask for this
                    // (handleAppend answers appends below the commit index before we get here);
                    // a faulty peer can, so drop the append. Under a deliberate bug the simulator
                    // truncates anyway and lets its invariants report the broken safety.
                    guard anyMutationActive else {
                        drop(from: leaderID, term: messageTerm, kind: "append", .truncatesCommitted,
                             "conflict at \(conflictIndex) would truncate committed entries (commit \(commitIndex))")
                        return false
                    }
                    commitIndex = conflictIndex - 1
                    applyCursor = min(applyCursor, conflictIndex - 1)
                }
                log.truncate(from: conflictIndex)
                actions.append(.truncateLog(from: conflictIndex))
                durableIndex = min(durableIndex, conflictIndex - 1)
                if conflictIndex <= membershipIndex { recomputeMembership() }
            }
        }
        let newEntries = Array(entries[start...])
        log.append(newEntries)
        actions.append(.appendLog(newEntries))
        if let latest = newEntries.last(where: { $0.kind == .configChange }), let found = latest.membership {
            membership = found
            membershipIndex = latest.index
        }
        return true
    }

    mutating func handleHeartbeat(_ heartbeat: Raft.Heartbeat, from leaderID: Raft.NodeID) {
        commit(to: min(heartbeat.commit, log.lastIndex))
        // The leader caps the commit at what we acknowledged: a commit beyond our log means we
        // lost acknowledged entries (etcd panics here; we tell the leader so it repairs us).
        let lost = heartbeat.commit > log.lastIndex ? log.lastIndex : nil
        send(to: leaderID, .heartbeatResponse(Raft.HeartbeatResponse(readSequence: heartbeat.readSequence, lostEntriesAfter: lost)))
    }

    /// Acknowledges the log through `index` once it is durable (Raft §5.3 with cockroach #15648:
    /// never acknowledge entries before they are persisted).
    mutating func acknowledge(through index: Raft.LogIndex, to leaderID: Raft.NodeID) {
        let requirement = mutated("send-before-persist") ? nil : log.term(at: index).map { LogRequirement(index: index, term: $0) }
        send(to: leaderID, .appendResponse(.success(matchIndex: index)), requiresLog: requirement)
    }

    /// Moves a follower's commit index forward (never back).
    mutating func commit(to index: Raft.LogIndex) {
        if index > commitIndex { commitIndex = index }
    }

    /// Thesis §4.1: the configuration in use is the latest in the log, committed or not.
    mutating func recomputeMembership() {
        var index = log.lastIndex
        while index > log.snapshotIndex {
            if let entry = log.entry(at: index), let found = entry.membership {
                membership = found
                membershipIndex = index
                syncProgressWithMembership()
                return
            }
            index = index - 1
        }
        membership = baseMembership
        membershipIndex = log.snapshotIndex
        syncProgressWithMembership()
    }

    /// Leader, stopping replication to `peer` because the latest configuration removes it:
    /// appends from its last known position through that configuration entry, so it learns of
    /// its removal (the shell stops it) instead of waiting forever for a leader. Sent at once and
    /// again with each heartbeat for two election timeouts (a message may be lost). Best effort,
    /// ignoring flow control, one append at a time: a follower further behind than one append
    /// gets the first part, and each success it answers brings the next part at once
    /// (``continueFarewell(to:acknowledged:)``), so within the window it can catch up through
    /// its removal from as far back as the log still holds. One whose next entries were compacted
    /// away gets the leader's snapshot first (``sendFarewellSnapshot(to:)``).
    mutating func sendFarewell(to peer: Raft.NodeID, first: Bool) {
        guard let farewell = farewells[peer],
              farewell.progress.state != .probe || farewell.progress.match > .zero else { return }
        let follower = farewell.progress
        // The first time, everything before `next` is already on its way, in order on the one
        // connection: continue from there (a busy follower's match lags by the appends in
        // flight). Repeats start from the match, in case those were lost.
        let prevIndex = first && follower.state == .replicate ? min(follower.next - 1, log.lastIndex) : follower.match
        if follower.state == .snapshot || (farewell.through > prevIndex && log.term(at: prevIndex) == nil && prevIndex < log.snapshotIndex) {
            return sendFarewellSnapshot(to: peer)
        }
        guard farewell.through > prevIndex, log.term(at: farewell.through) != nil, let prevTerm = log.term(at: prevIndex),
              let entries = log.entries(from: prevIndex + 1, through: farewell.through, maxCount: config.maxEntriesPerAppend,
                                        maxBytes: config.maxBytesPerAppend),
              let last = entries.last, last.index < farewell.through || last.membership?.removed.contains(peer) == true
        else { return }
        send(to: peer, .append(Raft.Append(prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries: entries,
                                           leaderCommit: min(commitIndex, prevIndex))))
    }

    /// Leader: a removed peer acknowledged part of its farewell; the next part follows at once
    /// (duplicated or stale acknowledgements only move the position forward). An acknowledgement
    /// at or past the removing entry (an installed snapshot that holds it) ends the farewell.
    mutating func continueFarewell(to peer: Raft.NodeID, acknowledged matchIndex: Raft.LogIndex) {
        guard var farewell = farewells[peer], matchIndex > farewell.progress.match else { return }
        guard matchIndex < farewell.through else {
            farewells[peer] = nil
            return
        }
        farewell.progress.match = matchIndex
        // An installed snapshot is acknowledged like an append: go on with appends from it.
        if farewell.progress.state == .snapshot, matchIndex >= farewell.progress.pendingSnapshot { farewell.progress.becomeReplicate() }
        farewells[peer] = farewell
        sendFarewell(to: peer, first: false)
    }

    /// Leader: a removed peer whose next entries were compacted away learns of its removal from
    /// the leader's snapshot (Raft §7), chunk by chunk as for a member (``SnapshotTransfer``,
    /// pinned to the image it started with), then from appends through the removing entry.
    ///
    /// When the snapshot was taken after the removing entry, it holds the removal — and the
    /// entries committed between the removal and the snapshot: the one exception to "never an
    /// entry after its removal", bounded by the farewell window (two election timeouts; the
    /// snapshot is the one the leader has when the farewell is sent). Without it the node would
    /// wait for a leader forever and never exit (docs/raft.md, "Removal").
    mutating func sendFarewellSnapshot(to peer: Raft.NodeID) {
        guard var farewell = farewells[peer] else { return }
        if farewell.progress.state != .snapshot || farewell.progress.transfer == nil {
            guard let snapshot else { return }
            farewell.progress.becomeSnapshot(sending: snapshot)
        }
        let chunk = farewell.progress.transfer?.nextChunk(maxBytes: config.snapshotChunkBytes)
        farewells[peer] = farewell
        if let chunk { sendSnapshotChunk(chunk.chunk, length: chunk.length, to: peer) }
    }

    /// Leader: a removed peer answered a chunk of its farewell snapshot; the next chunk follows
    /// at once. Each answer that shows progress renews the farewell's window, so a snapshot
    /// longer to send than two election timeouts still arrives.
    mutating func continueFarewellSnapshot(to peer: Raft.NodeID, _ response: Raft.SnapshotResponse) {
        guard var farewell = farewells[peer], var transfer = farewell.progress.transfer else { return }
        let mayContinue = transfer.record(index: response.index, receivedBytes: response.receivedBytes)
        farewell.progress.transfer = transfer
        if mayContinue { farewell.heartbeatsLeft = max(farewell.heartbeatsLeft, farewellHeartbeats) }
        farewells[peer] = farewell
        if mayContinue, !transfer.isAcknowledgedInFull { sendFarewellSnapshot(to: peer) }
    }

    /// Heartbeats a farewell is repeated for: two election timeouts.
    var farewellHeartbeats: Int { 2 * config.electionTicks / max(1, config.heartbeatTicks) }

    /// Leader heartbeat: repeats the farewells still due.
    mutating func repeatFarewells() {
        for (peer, farewell) in farewells {
            guard farewell.heartbeatsLeft > 0, !membership.contains(peer) else {
                farewells[peer] = nil
                continue
            }
            farewells[peer]?.heartbeatsLeft = farewell.heartbeatsLeft - 1
            // A snapshot chunk unanswered for two heartbeats is taken as lost and sent again.
            farewells[peer]?.progress.transfer?.tick(lostAfterTicks: 2)
            sendFarewell(to: peer, first: false)
        }
    }

    /// On the leader, track exactly the current members (and stop replicating to removed ones).
    mutating func syncProgressWithMembership() {
        guard role == .leader else { return }
        for member in membership.members where member != id && progress[member] == nil {
            var peer = Progress(next: log.lastIndex + 1, maxInflight: config.maxInflightAppends, maxInflightBytes: config.maxInflightBytes)
            peer.recentActive = true
            progress[member] = peer
        }
        for peer in progress.keys where !membership.contains(peer) {
            if membership.removed.contains(peer), let last = progress[peer] {
                farewells[peer] = (last, membershipIndex, farewellHeartbeats)
                sendFarewell(to: peer, first: true)
            }
            progress[peer] = nil
        }
        if let target = transferTarget, !membership.voters.contains(target) { transferTarget = nil }
    }
}
