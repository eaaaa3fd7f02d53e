/// The in-memory view of the log: a snapshot base `(snapshotIndex, snapshotTerm)` followed by the
/// entries after it. It mirrors what the shell's storage holds (durable or not yet).
struct RaftLog: Hashable, Sendable {
    /// The last index covered by the snapshot (0 without one).
    private(set) var snapshotIndex: Raft.LogIndex
    /// The term at `snapshotIndex`.
    private(set) var snapshotTerm: Raft.Term
    /// Entries `snapshotIndex + 1 ... lastIndex`.
    private(set) var entries: [Raft.Entry]

    init(snapshotIndex: Raft.LogIndex = .zero, snapshotTerm: Raft.Term = .zero, entries: [Raft.Entry] = []) {
        for (offset, entry) in entries.enumerated() {
            precondition(entry.index == snapshotIndex + UInt64(offset + 1),
                         "log entries must be contiguous after \(snapshotIndex): found \(entry.index) at offset \(offset)")
        }
        self.snapshotIndex = snapshotIndex
        self.snapshotTerm = snapshotTerm
        self.entries = entries
    }

    var firstIndex: Raft.LogIndex { snapshotIndex + 1 }
    var lastIndex: Raft.LogIndex { snapshotIndex + UInt64(entries.count) }
    var lastTerm: Raft.Term { entries.last?.term ?? snapshotTerm }

    /// The term of the entry at `index`, or `nil` if it is compacted or beyond the end.
    func term(at index: Raft.LogIndex) -> Raft.Term? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[Int(index.rawValue - snapshotIndex.rawValue) - 1].term
    }

    func entry(at index: Raft.LogIndex) -> Raft.Entry? {
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[Int(index.rawValue - snapshotIndex.rawValue) - 1]
    }

    func matches(index: Raft.LogIndex, term: Raft.Term) -> Bool { self.term(at: index) == term }

    /// Entries `from ... through`, at most `maxCount` and about `maxBytes` (at least one entry);
    /// `nil` if `from` is compacted.
    func entries(from: Raft.LogIndex, through: Raft.LogIndex? = nil, maxCount: Int = .max, maxBytes: Int = .max) -> [Raft.Entry]? {
        guard from > snapshotIndex else { return nil }
        let end = min(through ?? lastIndex, lastIndex)
        guard from <= end else { return [] }
        var result: [Raft.Entry] = []
        var bytes = 0
        var index = from
        while index <= end, result.count < maxCount {
            let entry = entries[Int(index.rawValue - snapshotIndex.rawValue) - 1]
            if !result.isEmpty, bytes + entry.byteCount > maxBytes { break }
            bytes += entry.byteCount
            result.append(entry)
            index = index + 1
        }
        return result
    }

    /// Raft §5.4.1: a log is at least as up to date as ours if its last term is higher, or equal
    /// with an index at least as large.
    func isUpToDate(lastIndex candidateIndex: Raft.LogIndex, lastTerm candidateTerm: Raft.Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// The largest index ≤ `index` whose term is ≤ `term`, with its term (etcd's
    /// findConflictByTerm). Used for the reject hint and by the leader to skip a whole term.
    func lastIndex(atOrBelow index: Raft.LogIndex, withTermAtMost term: Raft.Term) -> (index: Raft.LogIndex, term: Raft.Term) {
        var candidate = min(index, lastIndex)
        while candidate > snapshotIndex {
            if let found = self.term(at: candidate), found <= term { return (candidate, found) }
            candidate = candidate - 1
        }
        return (candidate, candidate == snapshotIndex ? snapshotTerm : .zero)
    }

    mutating func append(_ newEntries: [Raft.Entry]) {
        guard let first = newEntries.first else { return }
        precondition(first.index == lastIndex + 1, "append at \(first.index) must follow last index \(lastIndex)")
        entries.append(contentsOf: newEntries)
    }

    /// Removes entries with index ≥ `from`.
    mutating func truncate(from: Raft.LogIndex) {
        precondition(from > snapshotIndex, "cannot truncate at \(from): compacted through \(snapshotIndex)")
        guard from <= lastIndex else { return }
        entries.removeLast(Int(lastIndex.rawValue - from.rawValue) + 1)
    }

    /// Drops entries ≤ `index`, which a snapshot now covers.
    mutating func compact(through index: Raft.LogIndex) {
        guard index > snapshotIndex else { return }
        precondition(index <= lastIndex, "cannot compact through \(index) beyond last index \(lastIndex)")
        guard let term = term(at: index) else { return }
        entries.removeFirst(Int(index.rawValue - snapshotIndex.rawValue))
        snapshotIndex = index
        snapshotTerm = term
    }

    /// Replaces everything with a snapshot base.
    mutating func reset(toSnapshotAt index: Raft.LogIndex, term: Raft.Term) {
        snapshotIndex = index
        snapshotTerm = term
        entries = []
    }

    /// The latest configuration entry at or below `index`, if the log still holds one.
    func latestMembership(atOrBelow index: Raft.LogIndex) -> Raft.Membership? {
        var candidate = min(index, lastIndex)
        while candidate > snapshotIndex {
            if let entry = entry(at: candidate), let membership = entry.membership { return membership }
            candidate = candidate - 1
        }
        return nil
    }
}
