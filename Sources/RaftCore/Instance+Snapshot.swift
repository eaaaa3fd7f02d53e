extension Raft.Instance {
    // MARK: Leader side

    /// Sends `peer` the next InstallSnapshot chunk (Raft §7) if none is in flight, starting a
    /// transfer of the current local snapshot if none is under way. A transfer keeps its snapshot
    /// to the end, even when a newer one is taken meanwhile (see `SnapshotTransfer`).
    mutating func sendSnapshot(to peer: Raft.NodeID) {
        guard var follower = progress[peer] else { return }
        if follower.state != .snapshot || follower.transfer == nil {
            guard let snapshot else { return }
            follower.becomeSnapshot(sending: snapshot)
        }
        let chunk = follower.transfer?.nextChunk(maxBytes: config.snapshotChunkBytes)
        progress[peer] = follower
        if let chunk { sendSnapshotChunk(chunk.chunk, length: chunk.length, to: peer) }
    }

    /// Queues a chunk whose bytes the shell reads from the snapshot's image when it leaves
    /// (`Action.sendSnapshotChunk`).
    mutating func sendSnapshotChunk(_ chunk: Raft.InstallSnapshot, length: Int, to peer: Raft.NodeID) {
        send(to: peer, .installSnapshot(chunk), chunkLength: length)
    }

    /// The indexes of the snapshots this leader is sending (to members and to removed peers'
    /// farewells). The shell must keep each one's image readable while its index is here, even
    /// after a newer snapshot replaced it: a transfer keeps the snapshot it started with.
    public var snapshotsInTransfer: Set<Raft.LogIndex> {
        var indexes = Set<Raft.LogIndex>()
        for follower in progress.values { if let transfer = follower.transfer { indexes.insert(transfer.index) } }
        for farewell in farewells.values { if let transfer = farewell.progress.transfer { indexes.insert(transfer.index) } }
        return indexes
    }

    mutating func handleSnapshotResponse(_ response: Raft.SnapshotResponse, from peer: Raft.NodeID) {
        guard var follower = progress[peer], follower.state == .snapshot, var transfer = follower.transfer else { return }
        let mayContinue = transfer.record(index: response.index, receivedBytes: response.receivedBytes)
        follower.transfer = transfer
        progress[peer] = follower
        // A follower that holds every byte installs the snapshot on the last chunk and answers
        // with an acknowledgement, so a full count needs no chunk (a heartbeat answer sends the
        // empty last chunk if that acknowledgement never comes).
        if mayContinue, !transfer.isAcknowledgedInFull { sendSnapshot(to: peer) }
    }

    /// The shell cannot read the image of the snapshot through `index` any more: its file was
    /// replaced by a newer snapshot before any transfer held it open (the leader had written the
    /// newer snapshot but not yet reported it when the transfer began), or reading it failed.
    /// Every transfer pinned to it — to members and to removed peers' farewells — starts over
    /// from this node's current snapshot and sends its first chunk now, if that one is another.
    ///
    /// Without it such a transfer asked for the same unreadable image forever (one chunk per
    /// election timeout, each unsent), and the follower was never caught up while this node led.
    /// If the current snapshot is the unreadable one, nothing changes: the chunk is taken as lost
    /// and asked for again after an election timeout, by when a newer snapshot may be reported.
    public mutating func snapshotUnreadable(through index: Raft.LogIndex) -> [Raft.Action] {
        guard role == .leader, let snapshot, snapshot.metadata.index != index else { return finish() }
        for peer in progress.keys.sorted() where progress[peer]?.transfer?.index == index {
            progress[peer]?.becomeSnapshot(sending: snapshot)
            sendSnapshot(to: peer)
        }
        for peer in farewells.keys.sorted() where farewells[peer]?.progress.transfer?.index == index {
            farewells[peer]?.progress.becomeSnapshot(sending: snapshot)
            sendFarewellSnapshot(to: peer)
        }
        return finish()
    }

    /// Counts a tick for every chunk in flight (see `SnapshotTransfer.tick`): one unanswered for
    /// an election timeout is sent again on the next heartbeat answer.
    mutating func ageSnapshotChunks() {
        for peer in Array(progress.keys) where progress[peer]?.transfer?.inFlight != nil {
            progress[peer]?.transfer?.tick(lostAfterTicks: config.electionTicks)
        }
    }

    /// The metadata a snapshot through `index` would have — the entry's term and the membership
    /// as of it — or `nil` if the log no longer (or not yet) holds that entry. Lets the shell
    /// store a snapshot before it reports it with `snapshotTaken(through:data:)`.
    public func snapshotMetadata(through index: Raft.LogIndex) -> Raft.SnapshotMetadata? {
        guard index > log.snapshotIndex, index <= log.lastIndex, let entryTerm = log.term(at: index) else { return nil }
        return Raft.SnapshotMetadata(index: index, term: entryTerm,
                                     membership: log.latestMembership(atOrBelow: index) ?? baseMembership)
    }

    // MARK: Follower side

    mutating func handleSnapshotChunk(_ chunk: Raft.InstallSnapshot, from leaderID: Raft.NodeID) {
        let metadata = chunk.metadata
        if metadata.index <= commitIndex {
            // Our log already holds everything it covers: typically the last chunk sent again
            // while the install is being made durable. Say how far we are (once durable) instead
            // of "0 bytes received", which made the leader restart the transfer from offset 0.
            if incomingSnapshot?.metadata == metadata { incomingSnapshot = nil }
            acknowledge(through: commitIndex, to: leaderID)
            return
        }
        if chunk.offset == 0, incomingSnapshot?.metadata != metadata || incomingSnapshot?.data.isEmpty == true {
            incomingSnapshot = Raft.Snapshot(metadata: metadata, data: chunk.chunk)
        } else if incomingSnapshot?.metadata == metadata, incomingSnapshot?.data.count == chunk.offset {
            // Appended in place. Copying the partial image out, appending and storing it back
            // copied the whole image for every chunk: O(n²) bytes for a snapshot of n chunks.
            incomingSnapshot?.data.append(contentsOf: chunk.chunk)
        } else {
            answerSnapshotChunk(metadata, to: leaderID)
            return
        }
        guard chunk.isLast, let complete = incomingSnapshot else {
            answerSnapshotChunk(metadata, to: leaderID)
            return
        }
        incomingSnapshot = nil
        restore(complete, from: leaderID)
    }

    /// Tells the leader how many bytes of the snapshot at `metadata` we hold (the next offset).
    mutating func answerSnapshotChunk(_ metadata: Raft.SnapshotMetadata, to leaderID: Raft.NodeID) {
        let received = incomingSnapshot?.metadata == metadata ? incomingSnapshot?.data.count ?? 0 : 0
        send(to: leaderID, .snapshotResponse(Raft.SnapshotResponse(index: metadata.index, receivedBytes: received)))
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
        self.snapshot = Raft.LocalSnapshot(metadata: metadata, byteCount: snapshot.data.count)
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
