import Logging
import RaftCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening a data directory: analyse it, refuse damage, repair a torn tail.
enum WALRecovery {
    struct Recovered {
        var state: LogState
        var segments: [WALWriter.Segment]
        /// The held lock on the data directory.
        var lock: WALFileHandle
        /// The segment to keep appending to, its valid length and salt; `nil` to start a new one.
        var openSegment: (sequence: UInt64, length: Int, salt: UInt64)?
    }

    static func recover(directory: String, fileSystem: any WALFileSystem, logger: Logger) throws(StorageError) -> Recovered {
        let clock = ContinuousClock()
        let start = clock.now
        do throws(StorageError) {
            _ = try fileSystem.listDirectory(directory)
        } catch where error.errno == ENOENT {
            // A new data directory: its entry in the parent must be durable before anything in
            // it is acknowledged.
            try fileSystem.createDirectory(directory)
            try fileSystem.syncDirectory(parent(of: directory))
        }
        let lock = try fileSystem.lockExclusively(directory + "/" + WALDirectoryAnalyzer.lockFileName)
        do throws(StorageError) {
            return try recoverLocked(directory: directory, fileSystem: fileSystem, logger: logger, lock: lock, start: start)
        } catch {
            fileSystem.close(lock, afterFailureLoggingTo: logger)
            throw error
        }
    }

    private static func recoverLocked(
        directory: String, fileSystem: any WALFileSystem, logger: Logger, lock: WALFileHandle, start: ContinuousClock.Instant
    ) throws(StorageError) -> Recovered {
        let clock = ContinuousClock()
        let analysis = try WALDirectoryAnalyzer.analyze(directory: directory, fileSystem: fileSystem)
        if let damage = analysis.damage {
            logger.critical("refusing to open a damaged WAL", metadata: ["error": "\(damage)"])
            throw damage
        }
        guard let state = analysis.state else {
            // The analyzer returns damage or a state; this is its contract, not a trap for input.
            throw StorageError(code: .fatal, message: "the WAL analysis of \(directory) returned neither damage nor a state "
                               + "(a bug in this build); the directory was not changed — report it with `quorum wal inspect` output")
        }
        for snapshot in analysis.snapshots where snapshot.problem != nil {
            logger.warning(
                "ignoring an invalid snapshot file",
                metadata: ["file": "\(snapshot.name)", "problem": "\(snapshot.problem ?? "")"])
        }
        var changedDirectory = false
        for name in analysis.temporaryFiles {
            try fileSystem.removeFile(directory + "/" + name)
            changedDirectory = true
        }
        var segments = analysis.segments
        if let torn = analysis.tornTail {
            logger.warning(
                "cutting off a torn tail of the WAL (an unacknowledged write interrupted by a crash)",
                metadata: [
                    "segment": "\(torn.segment)", "offset": "\(torn.offset)", "bytes": "\(torn.length)",
                    "reason": "\(torn.reason)",
                ])
            let path = directory + "/" + torn.segment
            if torn.removesSegment {
                try fileSystem.removeFile(path)
                segments.removeLast()
                changedDirectory = true
            } else {
                let handle = try fileSystem.openForAppend(path, create: false)
                do throws(StorageError) {
                    try fileSystem.truncate(handle, to: torn.offset)
                    try fileSystem.sync(handle)
                } catch {
                    fileSystem.close(handle, afterFailureLoggingTo: logger)
                    throw error
                }
                try fileSystem.close(handle)
                segments[segments.count - 1].size = torn.offset
            }
        }
        if changedDirectory { try fileSystem.syncDirectory(directory) }
        let known = segments.map { WALWriter.Segment(sequence: $0.sequence, highestEntryIndex: $0.entryIndexes?.upperBound) }
        let open = segments.last.map { (sequence: $0.sequence, length: $0.validLength, salt: $0.salt) }
        logger.info(
            "recovered the WAL",
            metadata: [
                "segments": "\(segments.count)", "firstIndex": "\(state.firstIndex.rawValue)",
                "lastIndex": "\(state.lastIndex.rawValue)", "term": "\(state.hardState.term.rawValue)",
                "elapsed": "\(clock.now - start)",
            ])
        return Recovered(state: state, segments: known, lock: lock, openSegment: open)
    }

    /// The directory holding `path` (`.` for a bare name).
    static func parent(of path: String) -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }
}
