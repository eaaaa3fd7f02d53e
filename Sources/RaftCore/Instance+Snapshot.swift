extension Raft.Instance {
    // MARK: Leader side

    /// Sends the next InstallSnapshot chunk to `peer` (Raft §7), starting over if the local
    /// snapshot changed since the transfer began.
    mutating func sendSnapshot(to peer: Raft.NodeID) {
        guard var follower = progress[peer], let snapshot else { return }
        let metadata = snapshot.metadata
        if follower.state != .snapshot || follower.pendingSnapshot != metadata.index {
            follower.becomeSnapshot(at: metadata.index)
        }
        let start = min(follower.snapshotOffset, snapshot.data.count)
        let end = min(start + config.snapshotChunkBytes, snapshot.data.count)
        let chunk = Raft.InstallSnapshot(metadata: metadata, offset: start, chunk: Array(snapshot.data[start..<end]),
                                         isLast: end == snapshot.data.count)
        progress[peer] = follower
        send(to: peer, .installSnapshot(chunk))
    }

    mutating func handleSnapshotResponse(_ response: Raft.SnapshotResponse, from peer: Raft.NodeID) {
        guard var follower = progress[peer], follower.state == .snapshot, let snapshot else { return }
        if response.index == follower.pendingSnapshot {
            // The follower's count is the truth (it may have restarted or seen duplicates); a
            // stale answer only causes one redundant chunk, answered with the current count.
            follower.snapshotOffset = min(response.receivedBytes, snapshot.data.count)
            progress[peer] = follower
            if response.receivedBytes < snapshot.data.count { sendSnapshot(to: peer) }
        } else {
            // The follower is assembling a different snapshot: restart from the beginning.
            follower.snapshotOffset = 0
            progress[peer] = follower
            sendSnapshot(to: peer)
        }
    }

    // MARK: Follower side

    mutating func handleSnapshotChunk(_ chunk: Raft.InstallSnapshot, from leaderID: Raft.NodeID) {
        if chunk.offset == 0, incomingSnapshot?.metadata != chunk.metadata || incomingSnapshot?.data.isEmpty == true {
            incomingSnapshot = Raft.Snapshot(metadata: chunk.metadata, data: chunk.chunk)
        } else if var partial = incomingSnapshot, partial.metadata == chunk.metadata, partial.data.count == chunk.offset {
            partial.data.append(contentsOf: chunk.chunk)
            incomingSnapshot = partial
        } else {
            let received = incomingSnapshot?.metadata == chunk.metadata ? incomingSnapshot?.data.count ?? 0 : 0
            send(to: leaderID, .snapshotResponse(Raft.SnapshotResponse(index: chunk.metadata.index, receivedBytes: received)))
            return
        }
        guard chunk.isLast, let complete = incomingSnapshot else {
            let received = incomingSnapshot?.data.count ?? 0
            send(to: leaderID, .snapshotResponse(Raft.SnapshotResponse(index: chunk.metadata.index, receivedBytes: received)))
            return
        }
        incomingSnapshot = nil
        restore(complete, from: leaderID)
    }

    /// Installs a complete snapshot from the leader, unless our log already covers it.
    mutating func restore(_ snapshot: Raft.Snapshot, from leaderID: Raft.NodeID) {
        let metadata = snapshot.metadata
        if metadata.index <= commitIndex {
            // An old snapshot (reordered or duplicated): nothing to do.
            acknowledge(through: commitIndex, to: leaderID)
            return
        }
        if log.matches(index: metadata.index, term: metadata.term) {
            // Our log already has the snapshot's last entry: just fast-forward the commit index.
            commit(to: metadata.index)
            acknowledge(through: metadata.index, to: leaderID)
            return
        }
        log.reset(toSnapshotAt: metadata.index, term: metadata.term)
        self.snapshot = snapshot
        baseMembership = metadata.membership
        commitIndex = metadata.index
        applyCursor = metadata.index
        appliedIndex = metadata.index
        // Nothing of the new log is durable until the shell reports the snapshot persisted.
        durableIndex = .zero
        actions.append(.installSnapshot(snapshot))
        recomputeMembership()
        acknowledge(through: metadata.index, to: leaderID)
    }
}
