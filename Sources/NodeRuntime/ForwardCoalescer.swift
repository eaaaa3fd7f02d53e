import RaftCore

/// A follower's forwards waiting for each leader, coalesced into batches (``ForwardBatch``,
/// frame 20): at most one batch per leader is in flight; the forwards that arrive meanwhile wait
/// and go together as the next batch once every forward of the one in flight is settled
/// (answered, timed out or abandoned). A forward to a leader with no batch in flight goes at once,
/// alone — no timer adds latency at low load; under load the batches grow by themselves.
///
/// A pure value (no clock, no I/O): ``PeerLink`` holds it under its lock and sends what it
/// returns. Order is kept: a batch holds forwards in the order they were enqueued, and batches to
/// one leader go in order.
struct ForwardCoalescer: Sendable {
    /// A batch to send now to `leader`.
    struct Batch: Sendable, Equatable {
        var leader: Raft.NodeID
        var items: [ForwardBatch.Item]
    }

    /// What became of a forward ``settle(_:)`` was told about.
    enum Settled: Equatable {
        /// It was in a batch sent to its leader: its outcome is whatever answered it.
        case sent
        /// It never left this node: it was certainly not proposed.
        case unsent
        /// The coalescer did not hold it (an unbatched forward, or settled before).
        case unknown
    }

    private struct Queue: Sendable {
        var waiting: [ForwardBatch.Item] = []
        var inFlight: Set<UInt64> = []
    }

    /// Forwards in one batch at most (the leader appends a batch at once; Raft sends at most
    /// `maxEntriesPerAppend`, 256 by default, per AppendEntries).
    let maxItems: Int
    /// Command bytes in one batch at most (a batch always takes at least one forward; each is at
    /// most `max_entry_bytes`, and a peer frame holds 48 MiB).
    let maxBytes: Int
    private var queues: [Raft.NodeID: Queue] = [:]
    private var leaderOf: [UInt64: Raft.NodeID] = [:]

    init(maxItems: Int = 256, maxBytes: Int = 8 << 20) {
        self.maxItems = max(1, maxItems)
        self.maxBytes = maxBytes
    }

    /// Queues `item` for `leader`; returns the batch to send now when no batch to `leader` is in
    /// flight (then it holds `item`, and whatever waited before it).
    mutating func enqueue(_ item: ForwardBatch.Item, to leader: Raft.NodeID) -> Batch? {
        leaderOf[item.requestID] = leader
        queues[leader, default: Queue()].waiting.append(item)
        return nextBatch(for: leader)
    }

    /// `requestID` has its outcome (or its caller stopped waiting): forget it. Returns where it
    /// was, and the batch to send now when it was the last of its leader's batch in flight and
    /// others wait.
    mutating func settle(_ requestID: UInt64) -> (Settled, Batch?) {
        guard let leader = leaderOf.removeValue(forKey: requestID), var queue = queues[leader] else { return (.unknown, nil) }
        let settled: Settled
        if queue.inFlight.remove(requestID) != nil {
            settled = .sent
        } else if let position = queue.waiting.firstIndex(where: { $0.requestID == requestID }) {
            queue.waiting.remove(at: position)
            settled = .unsent
        } else {
            return (.unknown, nil)
        }
        queues[leader] = queue
        return (settled, nextBatch(for: leader))
    }

    /// How many forwards to `leader` wait or are in flight (for tests and the docs' picture).
    func count(for leader: Raft.NodeID) -> (waiting: Int, inFlight: Int) {
        queues[leader].map { ($0.waiting.count, $0.inFlight.count) } ?? (0, 0)
    }

    /// The next batch for `leader` if none is in flight and something waits; drops an idle queue.
    private mutating func nextBatch(for leader: Raft.NodeID) -> Batch? {
        guard var queue = queues[leader], queue.inFlight.isEmpty else { return nil }
        guard !queue.waiting.isEmpty else {
            queues[leader] = nil
            return nil
        }
        var taken = 0
        var bytes = 0
        while taken < queue.waiting.count, taken < maxItems {
            let size = queue.waiting[taken].command.count
            guard taken == 0 || bytes + size <= maxBytes else { break }
            bytes += size
            taken += 1
        }
        let items = Array(queue.waiting[..<taken])
        queue.waiting.removeFirst(taken)
        queue.inFlight = Set(items.map(\.requestID))
        queues[leader] = queue
        return Batch(leader: leader, items: items)
    }
}
