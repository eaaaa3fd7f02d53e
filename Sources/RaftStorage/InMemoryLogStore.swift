import RaftCore
import Synchronization

/// The in-memory twin of `FileLogStore`: the same rules, nothing on disk. Writes are "durable"
/// as soon as they return. Used by the simulator and by tests of code above the store.
public final class InMemoryLogStore: RaftLogStore {
    private let state = Mutex(LogState())
    private let closed = Mutex(false)

    /// Creates an empty store.
    public init() {}

    /// See `RaftLogStore.persist(hardState:entries:)`.
    public func persist(hardState: Raft.HardState?, entries: [Raft.Entry]) async throws(StorageError) -> Raft.LogIndex {
        try checkOpen()
        return try state.withLock { state throws(StorageError) in
            let plan = try LogPlanner.plan(hardState: hardState, entries: entries, bounds: state.bounds)
            for record in plan.records { state.apply(record) }
            return state.lastIndex
        }
    }

    /// See `RaftLogStore.saveSnapshot(_:)`.
    public func saveSnapshot(_ snapshot: RaftSnapshot) async throws(StorageError) {
        try checkOpen()
        try state.withLock { state throws(StorageError) in
            try SnapshotRules.check(index: snapshot.index, against: state.bounds)
            // One array, as a file store reads it back.
            state.install(RaftSnapshot(index: snapshot.index, term: snapshot.term, data: snapshot.storedData))
        }
    }

    /// Stops the store.
    public func close() async { closed.withLock { $0 = true } }

    /// See `RaftLogStore`.
    public var hardState: Raft.HardState { state.withLock { $0.hardState } }
    /// See `RaftLogStore`.
    public var firstIndex: Raft.LogIndex { state.withLock { $0.firstIndex } }
    /// See `RaftLogStore`.
    public var lastIndex: Raft.LogIndex { state.withLock { $0.lastIndex } }
    /// See `RaftLogStore`.
    public var snapshot: RaftSnapshot? { state.withLock { $0.snapshot } }

    /// See `RaftLogStore.term(at:)`.
    public func term(at index: Raft.LogIndex) -> Raft.Term? { state.withLock { $0.term(at: index) } }

    /// See `RaftLogStore.entries(from:through:)`.
    public func entries(from: Raft.LogIndex, through: Raft.LogIndex) throws(StorageError) -> [Raft.Entry] {
        try state.withLock { state throws(StorageError) in try state.entries(from: from, through: through) }
    }

    private func checkOpen() throws(StorageError) {
        if closed.withLock({ $0 }) { throw StorageError.closed }
    }
}

/// Checks shared by both stores for a snapshot before it is saved.
enum SnapshotRules {
    static func check(index: Raft.LogIndex, against bounds: LogBounds) throws(StorageError) {
        guard index > bounds.snapshotIndex else {
            throw StorageError(
                code: .invalidArgument,
                message: "snapshot at index \(index.rawValue) is not newer than the current snapshot at "
                    + "\(bounds.snapshotIndex.rawValue); take snapshots at increasing indexes.")
        }
    }
}
