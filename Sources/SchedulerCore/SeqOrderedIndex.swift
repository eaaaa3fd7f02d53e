/// Ids in ascending order of a sequence number, so that a list shown newest first walks
/// backwards from a cursor and stops when its page is full (no copy, no sort).
///
/// Appends are O(1) because sequence numbers only grow. Removals are lazy: the owner notes
/// them (``noteRemoved()``) and a reader checks each entry against the live table, skipping
/// stale ones (an id removed, or removed and submitted again with a newer sequence number).
/// The owner compacts the index when stale entries outnumber live ones, so its size stays
/// within twice the live count (plus a small constant). Derived state: rebuilt from the tables
/// on restore, never in the snapshot, and nothing apply decides depends on it.
struct SeqOrderedIndex<ID: Hashable & Sendable>: Sendable {
    /// One indexed id and the sequence number it was indexed under.
    struct Entry: Sendable {
        var seq: UInt64
        var id: ID
    }

    /// Entries in ascending `seq`; some may be stale. Chunked, so a reader's view shares them
    /// and the next append after a copy duplicates only the last chunk.
    private(set) var entries = ChunkedArray<Entry>()
    /// How many entries are live (appends minus noted removals).
    private(set) var live = 0

    /// Whether stale entries outnumber live ones by enough to be worth a compaction.
    var needsCompaction: Bool { entries.count > 64 && entries.count > 2 * live }

    /// Indexes `id` under `seq`. Sequence numbers only grow, so this appends; an out-of-order
    /// `seq` (not produced by apply) is inserted in place rather than trapping.
    mutating func append(seq: UInt64, id: ID) {
        live += 1
        if let last = entries.last, last.seq >= seq {
            entries.insert(Entry(seq: seq, id: id), at: firstIndex(notBelow: seq))
        } else {
            entries.append(Entry(seq: seq, id: id))
        }
    }

    /// Notes that one indexed id stopped being live (its entry stays until a compaction).
    mutating func noteRemoved() { live = max(0, live - 1) }

    /// Drops the entries that are not live any more.
    mutating func compact(keeping isLive: (Entry) -> Bool) {
        entries.removeAll { !isLive($0) }
        live = entries.count
    }

    /// Builds an index from entries in any order (restore).
    init(unsorted: [Entry]) {
        entries = ChunkedArray(unsorted.sorted { $0.seq < $1.seq })
        live = entries.count
    }

    /// An empty index.
    init() {}

    /// The position of the first entry whose `seq` is at least `bound` (binary search).
    func firstIndex(notBelow bound: UInt64) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = low + (high - low) / 2
            if entries[mid].seq < bound { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Calls `body` with the entries whose `seq` is below `before`, newest first, until it
    /// returns `false`.
    func forEachNewestFirst(before: UInt64, _ body: (Entry) -> Bool) {
        var i = firstIndex(notBelow: before)
        while i > 0 {
            i -= 1
            if !body(entries[i]) { return }
        }
    }
}
