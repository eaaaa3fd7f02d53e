import Logging
import Metrics
import RaftCore

/// The file side of `FileLogStore`: the open segment, rolling, group-commit writes, snapshot
/// files and deleting what a snapshot made obsolete.
///
/// Confined to the store's serial dispatch queue (never an event loop), hence
/// `@unchecked Sendable`: nothing touches it from another thread. Every method throws
/// `StorageError`; an error with code `.fatal` means a sync failed or a failed write could not be
/// undone, and the store must stop.
final class WALWriter: @unchecked Sendable {
    /// A segment the writer knows, and the highest entry index ever written to it.
    struct Segment {
        var sequence: UInt64
        var highestEntryIndex: UInt64?
    }

    let directory: String
    let fileSystem: any WALFileSystem
    private let segmentSize: Int
    private let logger: Logger
    let statistics: WALStatisticsRecorder
    /// Every segment on disk, oldest first; the last is open.
    private(set) var segments: [Segment]
    private var file: WALFileHandle?
    /// The data directory's lock, released by `close`.
    private var lock: WALFileHandle?
    /// Bytes in the open segment.
    private var size: Int
    /// Bytes in the open segment before its first batch after the head.
    private var headSize: Int
    /// The checksum salt of the open segment.
    private var salt: UInt64 = 0
    /// `quorum_wal_fsync_seconds` (docs/api.md): how long each group commit's sync takes.
    private let syncTimer = Timer(label: "quorum_wal_fsync_seconds", preferredDisplayUnit: .seconds)

    init(
        directory: String, fileSystem: any WALFileSystem, segmentSize: Int, logger: Logger, statistics: WALStatisticsRecorder,
        segments: [Segment], lock: WALFileHandle
    ) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.segmentSize = segmentSize
        self.logger = logger
        self.statistics = statistics
        self.segments = segments
        self.lock = lock
        self.file = nil
        self.size = 0
        self.headSize = 0
    }

    /// Opens the last known segment (`length` valid bytes, checksum `salt`) for appending.
    func resume(sequence: UInt64, length: Int, salt: UInt64) throws(StorageError) {
        let handle = try fileSystem.openForAppend(path(sequence), create: false)
        file = handle
        self.salt = salt
        size = length
        headSize = length
    }

    /// Creates the next segment, starting with its header and `hardState`, and makes it durable
    /// (file fsync, then directory fsync) before anything is written to it.
    func startSegment(hardState: Raft.HardState) throws(StorageError) {
        let sequence = (segments.last?.sequence ?? 0) + 1
        let path = path(sequence)
        let newSalt = UInt64.random(in: 1 ... .max)
        var head = WALEncoder.segmentHeaderFrame(sequence: sequence, salt: newSalt)
        if hardState != Raft.HardState() { head += WALEncoder.batchFrame([.hardState(hardState)], salt: newSalt) }
        let handle = try fileSystem.openForAppend(path, create: true)
        do throws(StorageError) {
            try fileSystem.truncate(handle, to: 0)
            try fileSystem.write(handle, head)
        } catch {
            // A half-made segment must not survive: its stale head would replay after newer
            // records written to the previous segment.
            fileSystem.close(handle, afterFailureLoggingTo: logger)
            do throws(StorageError) {
                try fileSystem.removeFile(path)
                try fileSystem.syncDirectory(directory)
            } catch let cleanup {
                throw StorageError.fatal(cleanup)
            }
            throw error
        }
        do throws(StorageError) {
            try fileSystem.sync(handle)
            try fileSystem.syncDirectory(directory)
        } catch {
            throw StorageError.fatal(error)
        }
        if let old = file {
            do throws(StorageError) { try fileSystem.close(old) } catch {
                logger.warning("closing a full WAL segment failed", metadata: ["error": "\(error)"])
            }
        }
        file = handle
        salt = newSalt
        size = head.count
        headSize = head.count
        segments.append(Segment(sequence: sequence, highestEntryIndex: nil))
        logger.debug("started WAL segment", metadata: ["segment": "\(SegmentName.name(sequence: sequence))"])
    }

    /// Writes `records` as one batch frame and syncs it: the group commit. On return they are
    /// durable. A failed write is cut off again and thrown (non-fatal); a failed sync is fatal.
    func commit(_ records: [WALRecord], hardState: Raft.HardState) throws(StorageError) {
        let clock = ContinuousClock()
        let encodeStart = clock.now
        var frame = WALEncoder.batchFrame(records, salt: salt)
        if size + frame.count > segmentSize, size > headSize {
            // Roll, and seal the frame again with the new segment's salt (rare: once a segment).
            try startSegment(hardState: hardState)
            frame = WALEncoder.batchFrame(records, salt: salt)
        }
        let encoded = clock.now
        guard let file else { preconditionFailure("WAL writer has no open segment in \(directory)") }
        let before = size
        do throws(StorageError) {
            try fileSystem.write(file, frame)
        } catch {
            do throws(StorageError) { try fileSystem.truncate(file, to: before) } catch let undo {
                throw StorageError.fatal(undo)
            }
            throw error
        }
        let written = clock.now
        do throws(StorageError) { try fileSystem.syncData(file) } catch { throw StorageError.fatal(error) }
        let synced = clock.now
        let syncDuration = (synced - written).components
        syncTimer.recordNanoseconds(syncDuration.seconds * 1_000_000_000 + syncDuration.attoseconds / 1_000_000_000)
        size += frame.count
        for case .entries(let entries) in records {
            if let last = entries.last?.index.rawValue {
                let known = segments[segments.count - 1].highestEntryIndex ?? 0
                segments[segments.count - 1].highestEntryIndex = max(known, last)
            }
        }
        statistics.record(bytes: frame.count, encode: encoded - encodeStart, write: written - encoded, sync: synced - written)
    }

    /// Writes `snapshot` durably (temp file, fsync, rename, directory fsync), then records a
    /// snapshot marker in the WAL. If the marker cannot be written the snapshot file is removed
    /// again, so disk and memory agree.
    func writeSnapshot(_ snapshot: RaftSnapshot, keptLog: Bool, hardState: Raft.HardState) throws(StorageError) {
        let draft = try beginSnapshot(index: snapshot.index, term: snapshot.term)
        do throws(StorageError) {
            // Streamed from the caller's buffers: no copy of the image is made to write it.
            for part in [snapshot.dataPrefix, snapshot.data] { try draft.write(part) }
            try draft.seal()
        } catch {
            draft.discard()
            throw error
        }
        try publishSnapshot(draft, keptLog: keptLog, hardState: hardState)
    }

    /// A draft of the snapshot at `index` in `term`, streamed to its temporary file.
    func beginSnapshot(index: Raft.LogIndex, term: Raft.Term) throws(StorageError) -> SnapshotFileDraft {
        try SnapshotFileDraft(directory: directory, index: index, term: term, fileSystem: fileSystem, logger: logger)
    }

    /// Renames the sealed `draft` into place and syncs the directory, then records a snapshot
    /// marker in the WAL. If the marker cannot be written the snapshot file is removed again, so
    /// disk and memory agree. The draft is discarded on any failure.
    func publishSnapshot(_ draft: SnapshotFileDraft, keptLog: Bool, hardState: Raft.HardState) throws(StorageError) {
        do throws(StorageError) {
            try draft.seal()
            try fileSystem.rename(draft.temporaryPath, to: draft.path)
        } catch {
            draft.discard()
            throw error
        }
        do throws(StorageError) { try fileSystem.syncDirectory(directory) } catch { throw StorageError.fatal(error) }
        do throws(StorageError) {
            // The hard state rides along so it survives the deletion of older segments even if
            // the open segment lost its head (a crash while it was being created).
            try commit(
                [.hardState(hardState), .snapshotMarker(index: draft.index, term: draft.term, keptLog: keptLog)],
                hardState: hardState)
        } catch where error.code != .fatal {
            do throws(StorageError) {
                try fileSystem.removeFile(draft.path)
                try fileSystem.syncDirectory(directory)
            } catch let cleanup {
                throw StorageError.fatal(cleanup)
            }
            throw error
        }
    }

    /// Deletes what the durable snapshot at `index` made obsolete: older snapshot files and the
    /// oldest closed segments whose entries are all at or below `index`. Each later segment
    /// starts with the hard state, so nothing else is lost. Failures are logged and retried at
    /// the next snapshot.
    func deleteObsolete(snapshotIndex index: Raft.LogIndex) {
        var removedAny = false
        do throws(StorageError) {
            for name in try fileSystem.listDirectory(directory) {
                if let parsed = SnapshotFile.parse(name: name), parsed.index < index {
                    removedAny = removeQuietly(directory + "/" + name) || removedAny
                }
            }
        } catch {
            logger.warning("listing the data directory to delete old snapshots failed", metadata: ["error": "\(error)"])
        }
        // Oldest first, each deletion made durable before the next, so a crash can never leave
        // a gap in the sequence (which recovery would rightly call damage).
        while segments.count > 1, (segments[0].highestEntryIndex ?? 0) <= index.rawValue {
            guard removeQuietly(path(segments[0].sequence)) else { return }
            segments.removeFirst()
            removedAny = false
            do throws(StorageError) { try fileSystem.syncDirectory(directory) } catch {
                logger.warning("syncing the data directory after deleting a segment failed", metadata: ["error": "\(error)"])
                return
            }
        }
        if removedAny {
            do throws(StorageError) { try fileSystem.syncDirectory(directory) } catch {
                logger.warning("syncing the data directory after deleting old files failed", metadata: ["error": "\(error)"])
            }
        }
    }

    deinit { close() }

    /// Closes the open segment and releases the directory lock.
    func close() {
        if let file {
            do throws(StorageError) { try fileSystem.close(file) } catch {
                logger.warning("closing the WAL segment failed", metadata: ["error": "\(error)"])
            }
            self.file = nil
        }
        if let lock {
            do throws(StorageError) { try fileSystem.close(lock) } catch {
                logger.warning("releasing the data directory lock failed", metadata: ["error": "\(error)"])
            }
            self.lock = nil
        }
    }

    @discardableResult
    private func removeQuietly(_ path: String) -> Bool {
        do throws(StorageError) {
            try fileSystem.removeFile(path)
            return true
        } catch {
            logger.warning("deleting an obsolete file failed; it is retried later", metadata: ["file": "\(path)", "error": "\(error)"])
            return false
        }
    }

    private func path(_ sequence: UInt64) -> String { directory + "/" + SegmentName.name(sequence: sequence) }
}
