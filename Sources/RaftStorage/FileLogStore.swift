import Dispatch
import Logging
import RaftCore
import Synchronization

/// The durable `RaftLogStore`: a write-ahead log of segment files plus snapshot files in one
/// data directory (format and rules: `docs/storage.md`).
///
/// **Threading.** All file I/O and every sync run on one private serial `DispatchQueue`, never
/// on a NIO event loop or the Swift concurrency pool. Callers use the `async` methods, or the
/// callback form of `persist` when they need to fix the order of writes from synchronous code.
///
/// **Group commit.** Writes queue up while the previous sync runs; the queue then takes all of
/// them, writes them as one batch frame and covers them with one `fdatasync`. A write returns
/// ("persisted through N") only after the sync covering it returned.
///
/// **Failure.** A failed write (e.g. `ENOSPC`) is undone and fails only the writes of that batch;
/// the store keeps going. A failed sync is fatal: the store stops, that batch and every pending
/// and later call fail with `.fatal`, nothing more is acknowledged, and the sync is never
/// retried (after a failed `fsync` Linux may have dropped the dirty pages: "fsyncgate").
///
/// **Memory.** The entries since the last snapshot are kept in memory (see `LogState`).
public final class FileLogStore: RaftLogStore {
    /// Settings for opening a store.
    public struct Options: Sendable {
        /// A segment is closed and the next one started once a batch would take it past this
        /// many bytes (default 64 MiB). A single larger batch still goes into one segment.
        public var segmentSize: Int
        /// The file system; tests pass one that injects failures.
        public var fileSystem: any WALFileSystem
        /// Where recovery and failures are logged (ids and indexes only, never entry data).
        public var logger: Logger

        /// Creates options.
        public init(
            segmentSize: Int = 64 << 20, fileSystem: any WALFileSystem = POSIXFileSystem(),
            logger: Logger = Logger(label: "quorum.wal")
        ) {
            self.segmentSize = segmentSize
            self.fileSystem = fileSystem
            self.logger = logger
        }
    }

    /// What a caller is told when its write is done: the last index, durable; or why not.
    public typealias Completion = @Sendable (Result<Raft.LogIndex, StorageError>) -> Void

    private enum Operation {
        case persist(hardState: Raft.HardState?, entries: [Raft.Entry], completion: Completion)
        case snapshot(RaftSnapshot, completion: Completion)
        case draft(SnapshotFileDraft, completion: Completion)
        case close(completion: Completion)
    }

    private struct Intake {
        var pending: [Operation] = []
        var draining = false
        /// Set once the store is closed or failed; every later call fails with it.
        var terminal: StorageError?
    }

    /// The data directory.
    public let directory: String
    private let queue: DispatchQueue
    private let published: Mutex<LogState>
    private let intake = Mutex(Intake())
    private let writer: WALWriter
    private let logger: Logger

    private init(directory: String, queue: DispatchQueue, state: LogState, writer: WALWriter, logger: Logger) {
        self.directory = directory
        self.queue = queue
        self.published = Mutex(state)
        self.writer = writer
        self.logger = logger
    }

    /// Opens (creating if needed) the store in `directory` and recovers it: verifies every
    /// checksum, cuts off a torn tail (logged), and rebuilds the log. Runs on the store's own
    /// queue. Throws `.damaged` (naming the file and byte offset) when data before the tail is
    /// damaged: the node must then be restored from a peer (wipe the directory and rejoin).
    public static func open(directory: String, options: Options = Options()) async throws(StorageError) -> FileLogStore {
        let queue = DispatchQueue(label: "quorum.wal")
        let result: Result<FileLogStore, StorageError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(StorageError) in
                    try openOnQueue(directory: directory, options: options, queue: queue)
                })
            }
        }
        return try result.get()
    }

    private static func openOnQueue(directory: String, options: Options, queue: DispatchQueue) throws(StorageError) -> FileLogStore {
        precondition(options.segmentSize > 0, "segmentSize must be positive, got \(options.segmentSize)")
        let recovered = try WALRecovery.recover(directory: directory, fileSystem: options.fileSystem, logger: options.logger)
        let writer = WALWriter(
            directory: directory, fileSystem: options.fileSystem, segmentSize: options.segmentSize, logger: options.logger,
            statistics: WALStatisticsRecorder(), segments: recovered.segments, lock: recovered.lock)
        if let last = recovered.openSegment {
            try writer.resume(sequence: last.sequence, length: last.length, salt: last.salt)
        } else {
            try writer.startSegment(hardState: recovered.state.hardState)
        }
        // The recovered snapshot's data was read and verified; the caller reads it once (through
        // `snapshot`, from the file again), so holding it here would only cost memory.
        var state = recovered.state
        state.keepSnapshotDataOnDiskOnly()
        return FileLogStore(directory: directory, queue: queue, state: state, writer: writer, logger: options.logger)
    }

    // MARK: Writes

    /// See `RaftLogStore.persist(hardState:entries:)`.
    public func persist(hardState: Raft.HardState?, entries: [Raft.Entry]) async throws(StorageError) -> Raft.LogIndex {
        let result = await withCheckedContinuation { continuation in
            persist(hardState: hardState, entries: entries) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// The callback form of `persist`: the write is queued before this returns, so writes
    /// queued by consecutive calls are applied in call order. `completion` runs on the store's
    /// queue once the write is durable (or failed); it must not block.
    public func persist(hardState: Raft.HardState?, entries: [Raft.Entry], completion: @escaping Completion) {
        submit(.persist(hardState: hardState, entries: entries, completion: completion))
    }

    /// See `RaftLogStore.saveSnapshot(_:)`. Old segments and snapshot files are deleted only
    /// after the new snapshot and its WAL marker are durable.
    public func saveSnapshot(_ snapshot: RaftSnapshot) async throws(StorageError) {
        let result = await withCheckedContinuation { continuation in
            submit(.snapshot(snapshot) { continuation.resume(returning: $0) })
        }
        _ = try result.get()
    }

    /// See `RaftLogStore.beginSnapshot(index:term:)`: the draft streams to the snapshot's
    /// temporary file in the data directory, written by the caller's task, not this store's queue.
    public func beginSnapshot(index: Raft.LogIndex, term: Raft.Term) throws(StorageError) -> any SnapshotDraft {
        if let terminal = intake.withLock({ $0.terminal }) { throw terminal }
        return try writer.beginSnapshot(index: index, term: term)
    }

    /// See `RaftLogStore.saveSnapshot(_:)` for drafts: renames the sealed file into place (no
    /// data is written on the store's queue), then as for a snapshot.
    public func saveSnapshot(_ draft: any SnapshotDraft) async throws(StorageError) {
        guard let draft = draft as? SnapshotFileDraft, draft.path.hasPrefix(directory + "/") else {
            draft.discard()
            throw StorageError(code: .invalidArgument, message: "the snapshot draft at \(draft.index.rawValue) was begun on "
                + "another store; begin it on the store that saves it.")
        }
        let result = await withCheckedContinuation { continuation in
            submit(.draft(draft) { continuation.resume(returning: $0) })
        }
        if case .failure = result { draft.discard() }
        _ = try result.get()
    }

    /// See `RaftLogStore.close()`.
    public func close() async {
        _ = await withCheckedContinuation { continuation in
            submit(.close { continuation.resume(returning: $0) })
        }
    }

    // MARK: Reads (durable state only)

    /// See `RaftLogStore`.
    public var hardState: Raft.HardState { published.withLock { $0.hardState } }
    /// See `RaftLogStore`.
    public var firstIndex: Raft.LogIndex { published.withLock { $0.firstIndex } }
    /// See `RaftLogStore`.
    public var lastIndex: Raft.LogIndex { published.withLock { $0.lastIndex } }
    /// See `RaftLogStore`. The data is not held in memory (after the open or a save): it is read
    /// back from the snapshot file and verified on each call, so callers read it once. `nil` —
    /// logged at error level with the file and the reason — when that file cannot be read or
    /// does not verify any more.
    public var snapshot: RaftSnapshot? {
        // Twice: a save on the store's queue may replace the snapshot (and delete its file)
        // between reading the index and reading the file.
        for _ in 0..<2 {
            let (held, onDisk) = published.withLock { ($0.snapshot, $0.snapshotDataOnDisk) }
            guard let held, onDisk else { return held }
            let path = directory + "/" + SnapshotFile.name(index: held.index, term: held.term)
            let problem: String
            do throws(StorageError) {
                switch SnapshotFile.decode(try writer.fileSystem.readFile(path)) {
                case .success(let read) where read.index == held.index && read.term == held.term: return read
                case .success(let read): problem = "it holds the snapshot at \(read.index.rawValue) in \(read.term.rawValue)"
                case .failure(let failure): problem = failure.reason
                }
            } catch {
                problem = "\(error)"
            }
            if published.withLock({ $0.snapshot?.index }) != held.index {
                continue
            }
            logger.error("cannot read the saved snapshot back", metadata: ["file": "\(path)", "reason": "\(problem)"])
            return nil
        }
        return nil
    }
    /// See `RaftLogStore`: holds the snapshot file open (reading it with `pread`), so a later
    /// save that deletes the file leaves this reader working. `nil` — logged — when the file
    /// cannot be opened or its header names another snapshot.
    public func openSnapshotReader() -> (any SnapshotDataReader)? {
        guard writer.fileSystem is POSIXFileSystem else { return snapshot.map { InMemorySnapshotReader($0) } }
        // Twice, as for `snapshot`: a save may delete the file between reading its name and opening it.
        for _ in 0..<2 {
            let (held, onDisk) = published.withLock { ($0.snapshot, $0.snapshotDataOnDisk) }
            guard let held else { return nil }
            guard onDisk else { return InMemorySnapshotReader(held) }
            let path = directory + "/" + SnapshotFile.name(index: held.index, term: held.term)
            do throws(StorageError) {
                return try SnapshotFileReader(path: path, index: held.index, term: held.term)
            } catch {
                if published.withLock({ $0.snapshot?.index }) != held.index { continue }
                logger.error("cannot open the saved snapshot", metadata: ["file": "\(path)", "reason": "\(error)"])
                return nil
            }
        }
        return nil
    }

    /// Counters of commits, bytes and time spent, since open.
    public var statistics: WALStatistics { writer.statistics.snapshot }
    /// The error that stopped the store, if it failed or was closed.
    public var terminalError: StorageError? { intake.withLock { $0.terminal } }

    /// See `RaftLogStore.term(at:)`.
    public func term(at index: Raft.LogIndex) -> Raft.Term? { published.withLock { $0.term(at: index) } }

    /// See `RaftLogStore.entries(from:through:)`.
    public func entries(from: Raft.LogIndex, through: Raft.LogIndex) throws(StorageError) -> [Raft.Entry] {
        try published.withLock { state throws(StorageError) in try state.entries(from: from, through: through) }
    }

    // MARK: The queue

    private func submit(_ operation: Operation) {
        let (rejection, startDrain) = intake.withLock { intake -> (StorageError?, Bool) in
            if let terminal = intake.terminal { return (terminal, false) }
            intake.pending.append(operation)
            if intake.draining { return (nil, false) }
            intake.draining = true
            return (nil, true)
        }
        if let rejection {
            Self.completion(of: operation)(.failure(rejection))
        } else if startDrain {
            queue.async { self.drain() }
        }
    }

    /// Takes everything queued, commits it, and repeats until the queue is empty: while one
    /// sync runs, the next group gathers.
    private func drain() {
        while true {
            let operations = intake.withLock { intake -> [Operation]? in
                if intake.pending.isEmpty {
                    intake.draining = false
                    return nil
                }
                defer { intake.pending.removeAll(keepingCapacity: true) }
                return intake.pending
            }
            guard let operations else { return }
            process(operations)
        }
    }

    private func process(_ operations: [Operation]) {
        var group = Group(bounds: published.withLock { $0.bounds })
        for operation in operations {
            if let terminal = intake.withLock({ $0.terminal }) {
                Self.completion(of: operation)(.failure(terminal))
                continue
            }
            switch operation {
            case .persist(let hardState, let entries, let completion):
                let size = entries.reduce(64) { $0 + 32 + $1.data.count }
                guard size <= Self.maximumWriteSize else {
                    completion(.failure(StorageError(
                        code: .invalidArgument,
                        message: "one write of \(entries.count) entries holds about \(size) bytes, more than the "
                            + "\(Self.maximumWriteSize) a WAL frame takes; persist them in smaller slices.")))
                    continue
                }
                // Bound a group's frame (and the latency of everyone in it).
                if group.bytes + size > Self.groupSizeLimit { commit(&group) }
                do throws(StorageError) {
                    let plan = try LogPlanner.plan(hardState: hardState, entries: entries, bounds: group.bounds)
                    group.records += plan.records
                    group.bytes += size
                    group.bounds = plan.bounds
                    group.waiting.append((completion, plan.bounds.lastIndex))
                } catch {
                    completion(.failure(error))
                }
            case .snapshot(let snapshot, let completion):
                commit(&group)
                completion(saveSnapshot(snapshot).map { published.withLock { $0.lastIndex } })
                group = Group(bounds: published.withLock { $0.bounds })
            case .draft(let draft, let completion):
                commit(&group)
                completion(saveDraft(draft).map { published.withLock { $0.lastIndex } })
                group = Group(bounds: published.withLock { $0.bounds })
            case .close(let completion):
                commit(&group)
                writer.close()
                let rest = enterTerminal(.closed)
                for operation in rest { Self.completion(of: operation)(.failure(.closed)) }
                completion(.success(published.withLock { $0.lastIndex }))
            }
        }
        commit(&group)
    }

    /// The writes gathered for one group commit.
    private struct Group {
        var bounds: LogBounds
        var records: [WALRecord] = []
        /// Approximate encoded size of `records`.
        var bytes = 0
        var waiting: [(Completion, Raft.LogIndex)] = []
    }

    /// The largest single write (a WAL frame holds at most 1 GiB).
    static let maximumWriteSize = 256 << 20
    /// A group commit closes once it holds this many bytes; the rest go into the next one.
    static let groupSizeLimit = 16 << 20

    private func commit(_ group: inout Group) {
        defer { group = Group(bounds: published.withLock { $0.bounds }) }
        guard !group.waiting.isEmpty else { return }
        if !group.records.isEmpty {
            do throws(StorageError) {
                try writer.commit(group.records, hardState: published.withLock { $0.hardState })
            } catch {
                fail(group.waiting.map(\.0), with: error)
                return
            }
            published.withLock { state in
                for record in group.records { state.apply(record) }
            }
        }
        writer.statistics.recordOperations(group.waiting.count)
        for (completion, index) in group.waiting { completion(.success(index)) }
    }

    private func saveSnapshot(_ snapshot: RaftSnapshot) -> Result<Void, StorageError> {
        save(index: snapshot.index, term: snapshot.term) { keptLog, hardState throws(StorageError) in
            try writer.writeSnapshot(snapshot, keptLog: keptLog, hardState: hardState)
        }
    }

    private func saveDraft(_ draft: SnapshotFileDraft) -> Result<Void, StorageError> {
        save(index: draft.index, term: draft.term) { keptLog, hardState throws(StorageError) in
            try writer.publishSnapshot(draft, keptLog: keptLog, hardState: hardState)
        }
    }

    /// Checks the snapshot at `index` in `term` against the log, has `write` make it durable
    /// with its WAL marker, then installs it and deletes what it made obsolete.
    private func save(index: Raft.LogIndex, term: Raft.Term,
                      write: (_ keptLog: Bool, _ hardState: Raft.HardState) throws(StorageError) -> Void) -> Result<Void, StorageError> {
        do throws(StorageError) {
            try SnapshotRules.check(index: index, against: published.withLock { $0.bounds })
            let (keptLog, hardState) = published.withLock { ($0.term(at: index) == term, $0.hardState) }
            try write(keptLog, hardState)
        } catch {
            if error.code == .fatal {
                fail([], with: error)
            }
            return .failure(error)
        }
        // The data stays in the file only: the caller holds what it needs of the image (the
        // node's Raft core serves followers from the file), so a copy here would cost one more
        // image of memory (issue #18).
        published.withLock { $0.installKeepingDataOnDisk(RaftSnapshot(index: index, term: term, data: [])) }
        writer.deleteObsolete(snapshotIndex: index)
        logger.info("saved snapshot", metadata: ["index": "\(index.rawValue)", "term": "\(term.rawValue)"])
        return .success(())
    }

    /// Fails `completions` with `error`; a fatal error also stops the store for good.
    private func fail(_ completions: [Completion], with error: StorageError) {
        guard error.code == .fatal else {
            logger.warning("WAL write failed; the store continues", metadata: ["error": "\(error)"])
            for completion in completions { completion(.failure(error)) }
            return
        }
        logger.critical("WAL sync failed; the store is stopped and acknowledges nothing more", metadata: ["error": "\(error)"])
        writer.close()
        let rest = enterTerminal(error)
        for completion in completions { completion(.failure(error)) }
        for operation in rest { Self.completion(of: operation)(.failure(error)) }
    }

    /// Marks the store closed or failed and returns the writes still queued.
    private func enterTerminal(_ error: StorageError) -> [Operation] {
        intake.withLock { intake in
            if intake.terminal == nil { intake.terminal = error }
            defer { intake.pending.removeAll() }
            return intake.pending
        }
    }

    private static func completion(of operation: Operation) -> Completion {
        switch operation {
        case .persist(_, _, let completion), .snapshot(_, let completion), .draft(_, let completion), .close(let completion):
            completion
        }
    }
}
