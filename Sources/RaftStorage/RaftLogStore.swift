import RaftCore

/// A snapshot of the replicated state machine through `index`, as the log store keeps it.
public struct RaftSnapshot: Hashable, Sendable {
    /// The last log index the snapshot covers (Raft §7 "last included index").
    public var index: Raft.LogIndex
    /// The term of the entry at `index` (Raft §7 "last included term").
    public var term: Raft.Term
    /// The state machine image and membership, opaque to the store.
    public var data: [UInt8]
    /// Bytes stored in front of `data` (the stored data is `dataPrefix + data`; empty for a
    /// snapshot read back from a store).
    ///
    /// Why: a caller that adds a small header to a large image (the node's envelope with the
    /// membership) would otherwise copy the whole image to prepend it; the store writes both parts
    /// in turn to the same file instead (docs/storage.md, "Snapshot rules").
    public var dataPrefix: [UInt8]

    /// Creates a snapshot.
    public init(index: Raft.LogIndex, term: Raft.Term, data: [UInt8]) {
        self.init(index: index, term: term, dataPrefix: [], data: data)
    }

    /// Creates a snapshot whose stored data is `dataPrefix` followed by `data`.
    public init(index: Raft.LogIndex, term: Raft.Term, dataPrefix: [UInt8], data: [UInt8]) {
        self.index = index
        self.term = term
        self.dataPrefix = dataPrefix
        self.data = data
    }

    /// The number of bytes stored: the prefix and the data.
    public var storedCount: Int { dataPrefix.count + data.count }

    /// The stored bytes in one array (a copy of both parts when there is a prefix).
    public var storedData: [UInt8] { dataPrefix.isEmpty ? data : dataPrefix + data }

    /// Equal when index, term and the stored bytes are: where the prefix ends does not matter.
    public static func == (lhs: RaftSnapshot, rhs: RaftSnapshot) -> Bool {
        lhs.index == rhs.index && lhs.term == rhs.term && lhs.storedCount == rhs.storedCount
            && [lhs.dataPrefix, lhs.data].joined().elementsEqual([rhs.dataPrefix, rhs.data].joined())
    }

    /// Hashes the position and the size, not the (possibly large) image.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(index)
        hasher.combine(term)
        hasher.combine(storedCount)
    }
}

/// Durable Raft state: the log, the hard state and the latest snapshot.
///
/// Writes are asynchronous and group-committed; a write returns only once it is durable
/// ("persisted through N"), so the node may then send the votes and acknowledgements that
/// depend on it (Raft §5.1: persist before responding to RPCs). Reads are synchronous and see
/// only durable state. Writes are applied in the order they were called: a caller that needs
/// order (the node shell) calls them from one task.
///
/// `FileLogStore` is the real store (a WAL of segment files); `InMemoryLogStore` is its twin for
/// the simulator and tests. Both pass the same contract tests.
public protocol RaftLogStore: AnyObject, Sendable {
    /// Durably stores `hardState` (if given) and `entries` together, in one atomic batch, and
    /// returns the last log index once that is durable.
    ///
    /// `entries` must have consecutive indexes. If the first one is at or below the last index,
    /// the log's suffix from there on is replaced (a conflicting suffix, Raft §5.3); entries at
    /// or below the snapshot index are skipped (they are committed and compacted). A gap after
    /// the last index is `.invalidArgument`.
    func persist(hardState: Raft.HardState?, entries: [Raft.Entry]) async throws(StorageError) -> Raft.LogIndex

    /// Durably stores `snapshot`, then compacts the log through `snapshot.index`: if the log holds
    /// that entry with the same term, the entries after it are kept; otherwise the whole log is
    /// discarded (Raft §7). The index must be above the current snapshot's.
    func saveSnapshot(_ snapshot: RaftSnapshot) async throws(StorageError)

    /// Starts a snapshot at `index` in `term` whose stored data the caller writes piece by piece
    /// (``SnapshotDraft``), so the data need never be held whole; save it with
    /// ``saveSnapshot(_:)-(SnapshotDraft)``. May be called from any task, while other writes go on.
    func beginSnapshot(index: Raft.LogIndex, term: Raft.Term) throws(StorageError) -> any SnapshotDraft

    /// Saves a draft begun with ``beginSnapshot(index:term:)``, exactly as
    /// ``saveSnapshot(_:)-(RaftSnapshot)`` saves a snapshot with the draft's data (in call order
    /// with the other writes). Seal the draft first to keep its sync off the store's writes; a
    /// draft that was not sealed is sealed here. On a failure the draft is discarded.
    func saveSnapshot(_ draft: any SnapshotDraft) async throws(StorageError)

    /// Stops the store; later writes fail with `.closed`. Waits for earlier writes to finish.
    func close() async

    /// The durable hard state (all zero for a new store).
    var hardState: Raft.HardState { get }
    /// The first index whose entry is in the log (snapshot index + 1).
    var firstIndex: Raft.LogIndex { get }
    /// The last index in the log, or the snapshot index when the log is empty.
    var lastIndex: Raft.LogIndex { get }
    /// The latest durable snapshot, if any.
    var snapshot: RaftSnapshot? { get }
    /// A reader of the latest durable snapshot's stored data, which stays readable after a newer
    /// snapshot replaced it; `nil` without a snapshot or when it cannot be read.
    func openSnapshotReader() -> (any SnapshotDataReader)?
    /// The term of the entry at `index`, the snapshot's term at the snapshot index, and `nil`
    /// outside `snapshotIndex...lastIndex`.
    func term(at index: Raft.LogIndex) -> Raft.Term?
    /// The entries `from...through`, which must lie within `firstIndex...lastIndex`.
    func entries(from: Raft.LogIndex, through: Raft.LogIndex) throws(StorageError) -> [Raft.Entry]
}

extension RaftLogStore {
    /// Durably appends `entries` (see `persist(hardState:entries:)`) and returns the last index.
    @discardableResult
    public func append(_ entries: [Raft.Entry]) async throws(StorageError) -> Raft.LogIndex {
        try await persist(hardState: nil, entries: entries)
    }

    /// Durably stores the hard state.
    public func setHardState(_ state: Raft.HardState) async throws(StorageError) {
        _ = try await persist(hardState: state, entries: [])
    }
}
