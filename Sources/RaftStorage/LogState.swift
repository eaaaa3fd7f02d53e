import RaftCore

/// The durable log as it is held in memory: the snapshot point, the entries after it and the
/// hard state. Pure; both stores keep one.
///
/// Memory: every entry since the last snapshot stays in memory (its data plus ~70 bytes of
/// `Raft.Entry`, array and allocator overhead: 271 MB for 1,000,000 entries of 200 B), as etcd's
/// `MemoryStorage` does; snapshots bound it.
struct LogState: Sendable {
    /// Index of the last entry covered by the snapshot (0: none).
    private(set) var snapshotIndex: Raft.LogIndex = .zero
    /// Term of the entry at `snapshotIndex`.
    private(set) var snapshotTerm: Raft.Term = .zero
    /// Entries from `snapshotIndex + 1` on, consecutive.
    private(set) var entries: [Raft.Entry] = []
    /// The durable hard state.
    var hardState = Raft.HardState()
    /// The latest snapshot; its data is kept in memory unless `snapshotDataOnDisk`.
    var snapshot: RaftSnapshot?
    /// Whether `snapshot` holds only the index and term, its data being in its file (the file
    /// store after a save: the node keeps the image elsewhere, and a second copy here cost a
    /// whole image of resident memory, issue #18).
    private(set) var snapshotDataOnDisk = false

    init() {}

    /// A state rebuilt by recovery: `entries` must follow `snapshotIndex` directly.
    init(snapshot: RaftSnapshot?, entries: [Raft.Entry], hardState: Raft.HardState) {
        self.snapshot = snapshot
        snapshotIndex = snapshot?.index ?? .zero
        snapshotTerm = snapshot?.term ?? .zero
        precondition(
            entries.first.map { $0.index.rawValue == snapshotIndex.rawValue + 1 } ?? true,
            "recovered entries start at \(entries.first?.index ?? .zero), snapshot is at \(snapshotIndex)")
        self.entries = entries
        self.hardState = hardState
    }

    var bounds: LogBounds { LogBounds(snapshotIndex: snapshotIndex, lastIndex: lastIndex) }

    var firstIndex: Raft.LogIndex { Raft.LogIndex(snapshotIndex.rawValue + 1) }

    var lastIndex: Raft.LogIndex { Raft.LogIndex(snapshotIndex.rawValue + UInt64(entries.count)) }

    func term(at index: Raft.LogIndex) -> Raft.Term? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[position(of: index)].term
    }

    func entries(from: Raft.LogIndex, through: Raft.LogIndex) throws(StorageError) -> [Raft.Entry] {
        guard from >= firstIndex, through <= lastIndex else {
            throw StorageError(
                code: .invalidArgument,
                message: "entries \(from.rawValue)...\(through.rawValue) are not in the log, which holds "
                    + "\(firstIndex.rawValue)...\(lastIndex.rawValue); read the snapshot for earlier ones.")
        }
        guard from <= through else { return [] }
        return Array(entries[position(of: from)...position(of: through)])
    }

    /// Applies a record that `LogPlanner` produced for this state (or that recovery checked).
    mutating func apply(_ record: WALRecord) {
        switch record {
        case .entries(let new):
            guard let first = new.first else { return }
            precondition(first.index.rawValue == lastIndex.rawValue + 1, "entries at \(first.index) do not follow last index \(lastIndex)")
            entries.append(contentsOf: new)
        case .hardState(let state):
            hardState = state
        case .truncation(let from):
            precondition(from > snapshotIndex, "truncation from \(from) reaches into the snapshot at \(snapshotIndex)")
            if from <= lastIndex { entries.removeSubrange(position(of: from)...) }
        case .snapshotMarker(let index, let term, _):
            compact(through: index, term: term)
        }
    }

    /// Installs a durable snapshot and compacts the log behind it (Raft §7).
    mutating func install(_ snapshot: RaftSnapshot) {
        compact(through: snapshot.index, term: snapshot.term)
        self.snapshot = snapshot
        snapshotDataOnDisk = false
    }

    /// Installs a durable snapshot whose data stays in its file only (see `snapshotDataOnDisk`).
    mutating func installKeepingDataOnDisk(_ snapshot: RaftSnapshot) {
        install(snapshot)
        keepSnapshotDataOnDiskOnly()
    }

    /// Drops the snapshot's data from memory: its file holds it (see `snapshotDataOnDisk`).
    mutating func keepSnapshotDataOnDiskOnly() {
        guard let snapshot, !snapshotDataOnDisk else { return }
        self.snapshot = RaftSnapshot(index: snapshot.index, term: snapshot.term, data: [])
        snapshotDataOnDisk = true
    }

    /// Raft §7: keep the entries after `index` if the log holds `index` with `term`; otherwise
    /// discard the whole log.
    private mutating func compact(through index: Raft.LogIndex, term: Raft.Term) {
        guard index > snapshotIndex else { return }
        if self.term(at: index) == term {
            entries.removeSubrange(...position(of: index))
        } else {
            entries.removeAll()
        }
        snapshotIndex = index
        snapshotTerm = term
    }

    private func position(of index: Raft.LogIndex) -> Int {
        Int(index.rawValue - snapshotIndex.rawValue - 1)
    }
}

/// The first and last index of a log, enough to check a write before it is applied.
struct LogBounds: Hashable, Sendable {
    var snapshotIndex: Raft.LogIndex
    var lastIndex: Raft.LogIndex
}

/// Turns a `persist` call into WAL records, checking it against the log's bounds.
enum LogPlanner {
    /// The records for `persist(hardState:entries:)` and the bounds after them.
    static func plan(hardState: Raft.HardState?, entries: [Raft.Entry], bounds: LogBounds) throws(StorageError) -> (records: [WALRecord], bounds: LogBounds) {
        var records: [WALRecord] = []
        var after = bounds
        var accepted = entries[...]
        if let first = entries.first {
            for (offset, entry) in entries.enumerated() where entry.index.rawValue != first.index.rawValue + UInt64(offset) {
                throw StorageError(
                    code: .invalidArgument,
                    message: "entries to append must have consecutive indexes; got \(entry.index.rawValue) at position \(offset) after \(first.index.rawValue).")
            }
            accepted = entries.drop { $0.index <= bounds.snapshotIndex }
        }
        if let first = accepted.first, let last = accepted.last {
            guard first.index.rawValue <= bounds.lastIndex.rawValue + 1 else {
                throw StorageError(
                    code: .invalidArgument,
                    message: "entries start at index \(first.index.rawValue) but the log ends at \(bounds.lastIndex.rawValue); "
                        + "append the missing entries first (no gaps).")
            }
            if first.index <= bounds.lastIndex { records.append(.truncation(from: first.index)) }
            records.append(.entries(Array(accepted)))
            after.lastIndex = last.index
        }
        if let hardState { records.append(.hardState(hardState)) }
        return (records, after)
    }
}
