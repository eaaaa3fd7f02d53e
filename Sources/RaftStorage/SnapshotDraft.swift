import Logging
import RaftCore
import Synchronization

/// A snapshot's stored data written piece by piece before the store saves it
/// (``RaftLogStore/beginSnapshot(index:term:)``, ``RaftLogStore/saveSnapshot(_:)-(SnapshotDraft)``).
///
/// Why: the state machine image of 1,000,000 pending jobs is ~150 MiB. Building it in memory to
/// save it held that much beside the state at every snapshot (issue #18); a draft takes each
/// encoded piece as it comes, and the file store writes it straight to the snapshot's temporary
/// file, so a snapshot costs about one piece of memory.
///
/// Use from one task: `write` the pieces in order, `seal()` (the file store makes the file
/// durable there, off its queue), then `saveSnapshot(_:)`, or `discard()` instead.
public protocol SnapshotDraft: AnyObject, Sendable {
    /// The snapshot's last included index.
    var index: Raft.LogIndex { get }
    /// The snapshot's last included term.
    var term: Raft.Term { get }
    /// The stored bytes written so far.
    var count: Int { get }
    /// Appends `bytes` to the stored data. After a throw the draft is unusable: discard it.
    func write(_ bytes: [UInt8]) throws(StorageError)
    /// Ends the data and makes it durable; nothing may be written after. `.fatal` when the sync
    /// failed (the node must stop, as for any failed sync).
    func seal() throws(StorageError)
    /// Abandons the draft and deletes what was written. Harmless after a save.
    func discard()
}

extension RaftLogStore {
    /// Starts a snapshot at `index` in `term` whose data is written piece by piece (this default
    /// gathers it in memory; the file store writes it to the snapshot's temporary file).
    public func beginSnapshot(index: Raft.LogIndex, term: Raft.Term) throws(StorageError) -> any SnapshotDraft {
        InMemorySnapshotDraft(index: index, term: term)
    }

    /// Saves a sealed draft begun on this store, as ``RaftLogStore/saveSnapshot(_:)-(RaftSnapshot)``
    /// saves a snapshot (this default: the data gathered in memory).
    public func saveSnapshot(_ draft: any SnapshotDraft) async throws(StorageError) {
        guard let draft = draft as? InMemorySnapshotDraft else {
            throw StorageError(code: .invalidArgument, message: "a snapshot draft at \(draft.index.rawValue) was begun on another "
                + "store; begin it on the store that saves it.")
        }
        try await saveSnapshot(RaftSnapshot(index: draft.index, term: draft.term, data: draft.data))
    }
}

/// A draft gathered in memory (stores that keep snapshots in memory anyway).
final class InMemorySnapshotDraft: SnapshotDraft {
    let index: Raft.LogIndex
    let term: Raft.Term
    private let bytes = Mutex<[UInt8]>([])

    init(index: Raft.LogIndex, term: Raft.Term) {
        self.index = index
        self.term = term
    }

    var count: Int { bytes.withLock { $0.count } }
    var data: [UInt8] { bytes.withLock { $0 } }
    func write(_ bytes: [UInt8]) throws(StorageError) { self.bytes.withLock { $0 += bytes } }
    func seal() throws(StorageError) {}
    func discard() { bytes.withLock { $0 = [] } }
}

/// A snapshot file being streamed to its temporary name (`<name>.tmp`, deleted on open if a
/// crash leaves it).
///
/// The layout is the snapshot file's (``SnapshotFile``, version 1): a placeholder header, the
/// data as it comes with its CRC32C computed as it passes, then the checksum — the header's
/// CRC32C combined in front of the data's (``CRC32C/combine(_:_:secondLength:)``) — appended and
/// the real header written over the placeholder. `seal()` then `fsync`s; the store renames the
/// file into place when it saves the draft (``WALWriter/publishSnapshot(_:keptLog:hardState:)``).
/// A file renamed into place was therefore always complete and synced, and any build reads it.
final class SnapshotFileDraft: SnapshotDraft {
    private struct State {
        var handle: WALFileHandle?
        /// The running CRC32C of the data written so far.
        var crc = CRC32C.start
        var count = 0
        var sealed = false
        var discarded = false
    }

    let index: Raft.LogIndex
    let term: Raft.Term
    /// Where the file goes once saved.
    let path: String
    /// Where it is written until then.
    let temporaryPath: String
    private let fileSystem: any WALFileSystem
    private let logger: Logger
    private let state = Mutex(State())

    /// Creates (replacing) the temporary file and writes the placeholder header.
    init(directory: String, index: Raft.LogIndex, term: Raft.Term, fileSystem: any WALFileSystem, logger: Logger) throws(StorageError) {
        self.index = index
        self.term = term
        path = directory + "/" + SnapshotFile.name(index: index, term: term)
        temporaryPath = path + ".tmp"
        self.fileSystem = fileSystem
        self.logger = logger
        let handle = try fileSystem.openForAppend(temporaryPath, create: true)
        do throws(StorageError) {
            try fileSystem.truncate(handle, to: 0)
            try fileSystem.write(handle, [UInt8](repeating: 0, count: SnapshotFile.headerSize))
        } catch {
            fileSystem.close(handle, afterFailureLoggingTo: logger)
            removeTemporary()
            throw error
        }
        state.withLock { $0.handle = handle }
    }

    deinit {
        // A draft dropped unsaved (a failure on the way) leaves no descriptor open.
        if let handle = state.withLock({ $0.handle }) { fileSystem.close(handle, afterFailureLoggingTo: logger) }
    }

    var count: Int { state.withLock { $0.count } }

    var isSealed: Bool { state.withLock { $0.sealed } }

    func write(_ bytes: [UInt8]) throws(StorageError) {
        try bytes.withBytes { raw throws(StorageError) in try write(raw) }
    }

    /// Appends `bytes` (the caller's buffer, not copied).
    func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        guard !bytes.isEmpty else { return }
        let handle = try openHandle()
        try fileSystem.write(handle, bytes)
        state.withLock { state in
            state.crc = CRC32C.update(state.crc, bytes)
            state.count += bytes.count
        }
    }

    func seal() throws(StorageError) {
        let (crc, count, sealed) = state.withLock { ($0.crc, $0.count, $0.sealed) }
        guard !sealed else { return }
        let handle = try openHandle()
        let header = SnapshotFile.header(index: index, term: term, dataLength: count)
        let checksum = CRC32C.combine(CRC32C.checksum(header), CRC32C.finish(crc), secondLength: count)
        var trailer = ByteWriter(capacity: 4)
        trailer.write(checksum)
        try fileSystem.write(handle, trailer.bytes)
        try header.withBytes { raw throws(StorageError) in try fileSystem.overwrite(handle, raw, at: 0) }
        // fsyncgate: after a failed sync the pages may be dropped, so it is never retried.
        do throws(StorageError) { try fileSystem.sync(handle) } catch { throw StorageError.fatal(error) }
        state.withLock {
            $0.handle = nil
            $0.sealed = true
        }
        try fileSystem.close(handle)
    }

    func discard() {
        let handle = state.withLock { state -> WALFileHandle? in
            defer { state.handle = nil }
            state.discarded = true
            return state.handle
        }
        if let handle { fileSystem.close(handle, afterFailureLoggingTo: logger) }
        removeTemporary()
    }

    private func openHandle() throws(StorageError) -> WALFileHandle {
        let (handle, sealed, discarded) = state.withLock { ($0.handle, $0.sealed, $0.discarded) }
        guard let handle, !sealed, !discarded else {
            throw StorageError(code: .invalidArgument, message: "the snapshot draft at \(index.rawValue) is already "
                + (discarded ? "discarded" : "sealed") + "; begin a new one.")
        }
        return handle
    }

    private func removeTemporary() {
        do throws(StorageError) { try fileSystem.removeFile(temporaryPath) } catch {
            logger.debug("no temporary snapshot file to delete", metadata: ["file": "\(temporaryPath)", "error": "\(error)"])
        }
    }
}
