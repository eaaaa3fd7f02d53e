import RaftCore

/// What `WALInspector` found in a data directory: the tool an operator reaches for after a
/// crash (`quorum wal inspect DIR`).
public struct WALInspectionReport: Sendable {
    /// The directory inspected.
    public var directory: String
    /// Segment files, oldest first (up to and including the damaged one, if any).
    public var segments: [WALSegmentSummary]
    /// Snapshot files, newest first, each with its checksum verdict.
    public var snapshots: [WALSnapshotSummary]
    /// The snapshot recovery would start from.
    public var snapshotInUse: String?
    /// The recovered hard state; `nil` when damage stopped the replay.
    public var hardState: Raft.HardState?
    /// The recovered log's first and last index; `nil` when damage stopped the replay.
    public var logIndexes: (first: Raft.LogIndex, last: Raft.LogIndex)?
    /// A torn tail that opening the store would cut off (not damage).
    public var tornTail: WALTornTail?
    /// The damage that makes the store refuse to open, if any.
    public var damage: StorageError?
    /// Leftover temporary files (deleted on open).
    public var temporaryFiles: [String]
    /// Files that are neither segments, snapshots nor temporary files (left alone).
    public var otherFiles: [String]

    /// Whether the store would refuse to open: `quorum wal inspect` exits non-zero.
    public var isDamaged: Bool { damage != nil }

    /// The report as text for an operator.
    public var rendered: String {
        var lines: [String] = ["WAL in \(directory)"]
        lines.append("checksums: CRC32C (\(CRC32C.isHardwareAccelerated ? "hardware SSE4.2" : "software table"))")
        lines.append("segments: \(segments.count)")
        for segment in segments {
            let range = segment.entryIndexes.map { "entries \($0.lowerBound)...\($0.upperBound)" } ?? "no entries"
            lines.append(
                "  \(segment.name)  \(segment.size) bytes  \(segment.frameCount) frames  \(segment.recordCount) records  \(range)")
        }
        lines.append("snapshots: \(snapshots.count)")
        for snapshot in snapshots {
            let verdict = snapshot.problem.map { "INVALID: \($0)" } ?? (snapshot.name == snapshotInUse ? "ok, in use" : "ok")
            lines.append("  \(snapshot.name)  index \(snapshot.index.rawValue)  term \(snapshot.term.rawValue)  \(snapshot.size) bytes  \(verdict)")
        }
        if let hardState {
            lines.append(
                "hard state: term \(hardState.term.rawValue), vote \(hardState.vote?.rawValue ?? "none"), commit \(hardState.commit.rawValue)")
        } else {
            lines.append("hard state: unknown (replay stopped at the damage)")
        }
        if let logIndexes {
            if logIndexes.last < logIndexes.first {
                lines.append("log: empty (next index \(logIndexes.first.rawValue))")
            } else {
                lines.append("log: entries \(logIndexes.first.rawValue)...\(logIndexes.last.rawValue)")
            }
        }
        for name in temporaryFiles { lines.append("temporary file (deleted on open): \(name)") }
        for name in otherFiles { lines.append("unknown file (ignored): \(name)") }
        if let tornTail {
            let action = tornTail.removesSegment ? "the segment is removed on open" : "cut off on open"
            lines.append(
                "torn tail: \(tornTail.segment) at byte \(tornTail.offset), \(tornTail.length) bytes (\(tornTail.reason)); "
                    + "an unacknowledged write, \(action)")
        }
        if let damage {
            lines.append("DAMAGED: \(damage.message)")
        } else {
            lines.append("verdict: ok, every checksum verified")
        }
        return lines.joined(separator: "\n")
    }
}

/// Reads a data directory without changing it and reports what it holds.
public enum WALInspector {
    /// Inspects `directory` on the real file system. Throws only if files cannot be read;
    /// damage is reported in the result (`isDamaged`).
    public static func inspect(directory: String) throws -> WALInspectionReport {
        try inspect(directory: directory, fileSystem: POSIXFileSystem())
    }

    /// Inspects `directory` through `fileSystem`.
    public static func inspect(directory: String, fileSystem: any WALFileSystem) throws(StorageError) -> WALInspectionReport {
        let analysis = try WALDirectoryAnalyzer.analyze(directory: directory, fileSystem: fileSystem)
        return WALInspectionReport(
            directory: directory,
            segments: analysis.segments,
            snapshots: analysis.snapshots,
            snapshotInUse: analysis.snapshot.map { SnapshotFile.name(index: $0.index, term: $0.term) },
            hardState: analysis.state?.hardState,
            logIndexes: analysis.state.map { ($0.firstIndex, $0.lastIndex) },
            tornTail: analysis.tornTail,
            damage: analysis.damage,
            temporaryFiles: analysis.temporaryFiles,
            otherFiles: analysis.otherFiles)
    }
}
