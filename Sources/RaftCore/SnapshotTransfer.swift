/// One InstallSnapshot transfer from the leader to one follower (Raft §7): the snapshot being
/// sent (its metadata and size: the shell reads each chunk's bytes from its own copy of the
/// image, `Action.sendSnapshotChunk`), how much of it the follower holds, and the one chunk in
/// flight.
///
/// Why one chunk: every chunk is answered, and before issue #10 every answer *and* every
/// heartbeat answer (so every tick and every ReadIndex round) sent a chunk. Each extra send
/// started a stream that never ended — answers beget chunks beget answers — so the streams to a
/// follower grew by one per heartbeat, and an answer from a follower that had just installed the
/// snapshot (it holds 0 bytes of a partial image) restarted the transfer from offset 0. Now a
/// chunk is sent only when none is in flight, an answer that tells the leader nothing new is
/// dropped, and a chunk unanswered for `lostAfterTicks` is taken as lost and sent again.
///
/// Why pinned: the transfer keeps the snapshot it started with even when the leader takes a newer
/// one. Restarting on every local snapshot meant that a follower whose transfer took longer than
/// the leader's snapshot interval (under load) never finished one. The shell keeps that image
/// readable while its index is in `Instance.snapshotsInTransfer`.
struct SnapshotTransfer: Hashable, Sendable {
    /// A chunk sent and not yet answered.
    struct ChunkInFlight: Hashable, Sendable {
        /// Its first byte (always the acknowledged offset when it was sent).
        var start: Int
        /// One past its last byte.
        var end: Int
        /// Leader ticks since it was sent.
        var ticks = 0
    }

    /// The snapshot being sent, kept for the whole transfer.
    let snapshot: Raft.LocalSnapshot
    /// The bytes the follower reported holding: the offset of the next chunk.
    private(set) var acknowledgedBytes = 0
    /// The chunk in flight, if any.
    private(set) var inFlight: ChunkInFlight?

    init(sending snapshot: Raft.LocalSnapshot) {
        self.snapshot = snapshot
    }

    /// The snapshot's index.
    var index: Raft.LogIndex { snapshot.metadata.index }
    /// Whether the follower reported holding every byte.
    var isAcknowledgedInFull: Bool { acknowledgedBytes >= snapshot.byteCount }

    /// The next chunk (at most `maxBytes`), from the acknowledged offset, or `nil` while one is
    /// in flight: the chunk without its bytes, and how many bytes the shell is to read into it.
    mutating func nextChunk(maxBytes: Int) -> (chunk: Raft.InstallSnapshot, length: Int)? {
        guard inFlight == nil else { return nil }
        let size = snapshot.byteCount
        let start = min(acknowledgedBytes, size)
        let end = start + min(maxBytes, size - start)
        inFlight = ChunkInFlight(start: start, end: end)
        return (Raft.InstallSnapshot(metadata: snapshot.metadata, offset: start, chunk: [], isLast: end == size), end - start)
    }

    /// Records the follower's answer — it holds `receivedBytes` of the snapshot at `index` — and
    /// returns whether the next chunk may be sent now.
    ///
    /// The follower's count is the truth (it may have restarted and lost its partial image). An
    /// answer equal to the acknowledged offset while a chunk is in flight is stale (a duplicate,
    /// or the answer to a chunk sent again): the follower never answers a chunk starting at its
    /// own count with that count, so the answer to the chunk in flight is still to come.
    mutating func record(index answered: Raft.LogIndex, receivedBytes: Int) -> Bool {
        // An answer about another snapshot: the follower holds nothing of this one.
        let received = answered == index ? min(max(0, receivedBytes), snapshot.byteCount) : 0
        if let chunk = inFlight, received < chunk.end, received == acknowledgedBytes {
            return false
        }
        acknowledgedBytes = received
        inFlight = nil
        return true
    }

    /// Counts a leader tick. A chunk unanswered for `lostAfterTicks` ticks is taken as lost
    /// (connection dropped, frame refused): the next heartbeat answer, which proves the follower
    /// reachable, sends it again from the acknowledged offset. A chunk that did arrive only costs
    /// a duplicate, which the follower answers with its count.
    mutating func tick(lostAfterTicks: Int) {
        guard var chunk = inFlight else { return }
        chunk.ticks += 1
        inFlight = chunk.ticks >= lostAfterTicks ? nil : chunk
    }
}
