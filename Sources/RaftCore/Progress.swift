/// The leader's view of one follower (etcd's tracker.Progress; Raft Figure 2's nextIndex and
/// matchIndex, plus flow control).
struct Progress: Hashable, Sendable {
    enum State: String, Hashable, Sendable {
        /// Finding where the logs match: one append at a time.
        case probe
        /// Streaming: optimistic `next`, bounded in-flight appends.
        case replicate
        /// Sending a snapshot; no appends until it completes.
        case snapshot
    }

    /// Highest index known to match the leader's log. Only ever grows within a term, except when
    /// the follower proves it lost its log (`restartAfterLogLoss`).
    var match: Raft.LogIndex = .zero
    /// Next index to send.
    var next: Raft.LogIndex
    var state: State = .probe
    /// In `probe`: an append is outstanding, so wait for an answer or a heartbeat response.
    var probeSent = false
    /// Heard from within the current CheckQuorum window.
    var recentActive = false
    /// In `snapshot`: the transfer under way (its pinned snapshot, the follower's offset, the one
    /// chunk in flight).
    var transfer: SnapshotTransfer?
    /// In `snapshot`: the index of the snapshot being sent (0 otherwise).
    var pendingSnapshot: Raft.LogIndex { transfer?.index ?? .zero }
    /// The highest commit index sent to this follower, so an acknowledgement can trigger a
    /// commit-only append when the follower is behind on the commit index.
    var sentCommit: Raft.LogIndex = .zero
    var inflights: Inflights

    init(next: Raft.LogIndex, maxInflight: Int, maxInflightBytes: Int? = nil) {
        self.next = next
        self.inflights = Inflights(capacity: maxInflight, maxBytes: maxInflightBytes)
    }

    var isPaused: Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflights.isFull
        case .snapshot: true
        }
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            next = max(match + 1, pendingSnapshot + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        transfer = nil
        inflights.reset()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        probeSent = false
        transfer = nil
        inflights.reset()
    }

    /// Starts sending `snapshot` from offset 0; it stays the one sent until the state changes.
    mutating func becomeSnapshot(sending snapshot: Raft.LocalSnapshot) {
        state = .snapshot
        transfer = SnapshotTransfer(sending: snapshot)
        probeSent = false
        inflights.reset()
    }

    /// Records an acknowledgement through `index`. Returns whether `match` grew; a stale or
    /// duplicated acknowledgement never lowers it (the "max guard").
    mutating func acknowledge(through index: Raft.LogIndex) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        if next < index + 1 { next = index + 1 }
        return updated
    }

    /// Handles a rejection of the append whose previous index was `rejected`; returns false when
    /// the rejection is stale (etcd's MaybeDecrTo).
    mutating func backOff(rejected: Raft.LogIndex, matchHint: Raft.LogIndex) -> Bool {
        if state == .replicate {
            if rejected <= match { return false }
            next = match + 1
            return true
        }
        if next - 1 != rejected { return false }
        next = max(min(rejected, matchHint + 1), match + 1)
        probeSent = false
        return true
    }

    /// The follower proved it lost entries it had acknowledged (its data directory was wiped or
    /// damaged) and its log now ends at `followerLastIndex`: forget the match index — the one
    /// place it goes down — and probe from there. Lowering it is always safe for commitment
    /// (fewer replicas are counted); the commit index itself never moves back.
    mutating func restartAfterLogLoss(followerLastIndex: Raft.LogIndex) {
        match = .zero
        next = followerLastIndex + 1
        state = .probe
        probeSent = false
        transfer = nil
        sentCommit = .zero
        inflights.reset()
    }

    /// Records that an append ending at `lastIndex` was sent.
    mutating func sentEntries(through lastIndex: Raft.LogIndex, bytes: Int) {
        switch state {
        case .replicate:
            next = lastIndex + 1
            inflights.add(lastIndex, bytes: bytes)
        case .probe:
            probeSent = true
        case .snapshot:
            preconditionFailure("appends are never sent to a follower in snapshot state (next=\(next))")
        }
    }
}

/// The window of unacknowledged appends to one follower, by last index (etcd's Inflights).
struct Inflights: Hashable, Sendable {
    let capacity: Int
    let maxBytes: Int?
    private(set) var items: [(index: Raft.LogIndex, bytes: Int)] = []
    private(set) var bytes = 0

    init(capacity: Int, maxBytes: Int? = nil) {
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    var isFull: Bool { items.count >= capacity || (maxBytes.map { bytes >= $0 } ?? false) }
    var count: Int { items.count }

    mutating func add(_ index: Raft.LogIndex, bytes size: Int) {
        items.append((index, size))
        bytes += size
    }

    /// Frees every append whose last index is ≤ `index`.
    mutating func free(through index: Raft.LogIndex) {
        while let first = items.first, first.index <= index {
            bytes -= first.bytes
            items.removeFirst()
        }
        precondition(bytes >= 0 && (!items.isEmpty || bytes == 0), "inflight byte count out of balance: \(bytes)")
    }

    /// Frees the oldest outstanding append.
    mutating func freeFirst() {
        guard !items.isEmpty else { return }
        bytes -= items.removeFirst().bytes
    }

    mutating func reset() {
        items.removeAll()
        bytes = 0
    }

    static func == (lhs: Inflights, rhs: Inflights) -> Bool {
        lhs.capacity == rhs.capacity && lhs.maxBytes == rhs.maxBytes && lhs.bytes == rhs.bytes
            && lhs.items.map(\.index) == rhs.items.map(\.index) && lhs.items.map(\.bytes) == rhs.items.map(\.bytes)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(capacity)
        hasher.combine(bytes)
        hasher.combine(items.map(\.index))
    }
}
