import RaftCore

/// What one segment file holds.
public struct WALSegmentSummary: Hashable, Sendable {
    /// The file name.
    public var name: String
    /// The sequence number from the name.
    public var sequence: UInt64
    /// The file size in bytes.
    public var size: Int
    /// The number of valid frames (the segment header and one per group commit).
    public var frameCount: Int
    /// The number of records in its batches.
    public var recordCount: Int
    /// The lowest and highest entry index written in this segment (before any truncation).
    public var entryIndexes: ClosedRange<UInt64>?
    /// Bytes that form valid frames, from the start.
    public var validLength: Int
    /// The random salt of this segment's frame checksums.
    public var salt: UInt64 = 0
}

/// What one snapshot file holds.
public struct WALSnapshotSummary: Hashable, Sendable {
    /// The file name.
    public var name: String
    /// The index from the name.
    public var index: Raft.LogIndex
    /// The term from the name.
    public var term: Raft.Term
    /// The file size in bytes.
    public var size: Int
    /// Why the file is not a valid snapshot, or `nil` if it is.
    public var problem: String?
}

/// A partial or bad-checksum frame at the very end of the last segment, with no valid frame
/// after it, that an interrupted write explains (`TornTailClassifier`: the file ends inside the
/// frame, or a sector of it is unwritten zeros, and nothing but zeros follows it): the write
/// that was under way when the node stopped. It was never acknowledged; opening the store cuts
/// it off. Bad bytes that an interrupted write does not explain are damage instead.
public struct WALTornTail: Hashable, Sendable {
    /// The segment's file name.
    public var segment: String
    /// Where the bad bytes start.
    public var offset: Int
    /// How many bytes are cut off.
    public var length: Int
    /// What is wrong with them.
    public var reason: String
    /// Whether the whole segment goes: it is empty, shorter than its header, or holds only zeros
    /// after a header that does not verify (it was created but never written to).
    public var removesSegment: Bool
}

/// Everything read from a data directory, without changing it.
struct WALDirectoryAnalysis: Sendable {
    var directory: String
    var segments: [WALSegmentSummary] = []
    /// Newest first.
    var snapshots: [WALSnapshotSummary] = []
    var temporaryFiles: [String] = []
    var otherFiles: [String] = []
    var tornTail: WALTornTail?
    /// The first damage found; replay stops there.
    var damage: StorageError?
    /// The recovered state; `nil` when damaged.
    var state: LogState?
    /// The snapshot recovery starts from.
    var snapshot: RaftSnapshot?
}

/// Reads a data directory: snapshots, then every segment in order, verifying every checksum
/// and replaying every record. Shared by recovery (which then repairs a torn tail) and by the
/// inspector (which only reports).
enum WALDirectoryAnalyzer {
    /// The lock file that keeps a second process out of the directory.
    static let lockFileName = "LOCK"

    /// Analyses `directory`; throws only when files cannot be read at all.
    static func analyze(directory: String, fileSystem: any WALFileSystem) throws(StorageError) -> WALDirectoryAnalysis {
        var analysis = WALDirectoryAnalysis(directory: directory)
        var segmentFiles: [(sequence: UInt64, name: String)] = []
        var snapshotFiles: [(index: Raft.LogIndex, term: Raft.Term, name: String)] = []
        for name in try fileSystem.listDirectory(directory) {
            if let sequence = SegmentName.parse(name) {
                segmentFiles.append((sequence, name))
            } else if let (index, term) = SnapshotFile.parse(name: name) {
                snapshotFiles.append((index, term, name))
            } else if name == lockFileName {
                continue
            } else if name.hasSuffix(".tmp") {
                analysis.temporaryFiles.append(name)
            } else {
                analysis.otherFiles.append(name)
            }
        }
        segmentFiles.sort { $0.sequence < $1.sequence }
        snapshotFiles.sort { ($0.index, $0.term.rawValue) > ($1.index, $1.term.rawValue) }

        for file in snapshotFiles {
            let bytes = try fileSystem.readFile(directory + "/" + file.name)
            var summary = WALSnapshotSummary(name: file.name, index: file.index, term: file.term, size: bytes.count)
            switch SnapshotFile.decode(bytes) {
            case .success(let snapshot):
                if snapshot.index != file.index || snapshot.term != file.term {
                    summary.problem = "holds index \(snapshot.index.rawValue) term \(snapshot.term.rawValue), not what its name says"
                } else if analysis.snapshot == nil {
                    analysis.snapshot = snapshot
                }
            case .failure(let problem):
                summary.problem = problem.reason
            }
            analysis.snapshots.append(summary)
        }

        var replay = WALReplay()
        for (position, file) in segmentFiles.enumerated() {
            let path = directory + "/" + file.name
            if position > 0, file.sequence != segmentFiles[position - 1].sequence + 1 {
                analysis.damage = .damaged(
                    file: path, offset: 0,
                    reason: "segment \(segmentFiles[position - 1].sequence + 1) is missing before it (segments must be consecutive)")
                analysis.segments.append(WALSegmentSummary(name: file.name, sequence: file.sequence, size: 0, frameCount: 0, recordCount: 0, validLength: 0))
                return analysis
            }
            let bytes = try fileSystem.readFile(path)
            let isLast = position == segmentFiles.count - 1
            let outcome = bytes.withUnsafeBytes { raw in
                replaySegment(raw, path: path, name: file.name, sequence: file.sequence, isLast: isLast, replay: &replay)
            }
            analysis.segments.append(outcome.summary)
            if let tornTail = outcome.tornTail { analysis.tornTail = tornTail }
            if let damage = outcome.damage {
                analysis.damage = damage
                return analysis
            }
        }

        do {
            analysis.state = try replay.reconcile(with: analysis.snapshot)
        } catch {
            let file = analysis.segments.last.map { directory + "/" + $0.name } ?? directory
            analysis.damage = .damaged(file: file, offset: 0, reason: error.reason)
        }
        return analysis
    }

    private struct SegmentOutcome {
        var summary: WALSegmentSummary
        var tornTail: WALTornTail?
        var damage: StorageError?
    }

    private static func replaySegment(
        _ bytes: UnsafeRawBufferPointer, path: String, name: String, sequence: UInt64, isLast: Bool, replay: inout WALReplay
    ) -> SegmentOutcome {
        let scan = SegmentScanner.scan(bytes, searchAfterInvalid: isLast)
        var outcome = SegmentOutcome(
            summary: WALSegmentSummary(
                name: name, sequence: sequence, size: bytes.count, frameCount: scan.frames.count, recordCount: 0,
                validLength: scan.validLength, salt: scan.salt))
        if bytes.isEmpty {
            // A segment is created empty and its header written next; a crash in between leaves
            // this. Only the last segment can be in that state.
            guard isLast else {
                outcome.damage = .damaged(file: path, offset: 0, reason: "the segment is empty (it must start with a segment header) and it is not the last segment")
                return outcome
            }
            outcome.tornTail = WALTornTail(
                segment: name, offset: 0, length: 0, reason: "the segment is empty: it was created but never written to", removesSegment: true)
            return outcome
        }
        if case .invalid(let offset, let reason, let later) = scan.end {
            if let later {
                outcome.damage = .damaged(file: path, offset: offset, reason: "\(reason); a valid frame follows at byte \(later), so this is not a torn write")
                return outcome
            }
            guard isLast else {
                outcome.damage = .damaged(file: path, offset: offset, reason: "\(reason); this is not the last segment, so this is not a torn write")
                return outcome
            }
            switch TornTailClassifier.classify(bytes, badFrameAt: offset, problem: reason, salt: scan.salt) {
            case .torn(let why, let removesSegment):
                outcome.tornTail = WALTornTail(
                    segment: name, offset: offset, length: bytes.count - offset, reason: why, removesSegment: removesSegment)
            case .damaged(let why):
                outcome.damage = .damaged(file: path, offset: offset, reason: why)
                return outcome
            }
        }
        for (position, frame) in scan.frames.enumerated() {
            let payload = UnsafeRawBufferPointer(rebasing: bytes[frame.payload])
            switch (position, frame.type) {
            case (0, .segmentHeader):
                do {
                    let stored = try WALDecoder.segmentHeader(payload: payload).sequence
                    guard stored == sequence else {
                        outcome.damage = .damaged(file: path, offset: frame.offset, reason: "segment header says sequence \(stored), the file name says \(sequence)")
                        return outcome
                    }
                } catch {
                    outcome.damage = .damaged(file: path, offset: frame.offset, reason: error.reason)
                    return outcome
                }
            case (0, _):
                outcome.damage = .damaged(file: path, offset: frame.offset, reason: "the segment does not start with a segment header")
                return outcome
            case (_, .segmentHeader):
                outcome.damage = .damaged(file: path, offset: frame.offset, reason: "a second segment header in the middle of the segment")
                return outcome
            case (_, .batch):
                let records: [WALRecord]
                do {
                    records = try WALDecoder.batch(payload: payload)
                } catch {
                    outcome.damage = .damaged(file: path, offset: frame.offset, reason: "a checksummed batch cannot be decoded: \(error.reason)")
                    return outcome
                }
                outcome.summary.recordCount += records.count
                for record in records {
                    if case .entries(let entries) = record, let first = entries.first?.index.rawValue, let last = entries.last?.index.rawValue {
                        let low = min(first, outcome.summary.entryIndexes?.lowerBound ?? first)
                        let high = max(last, outcome.summary.entryIndexes?.upperBound ?? last)
                        outcome.summary.entryIndexes = low...high
                    }
                    do {
                        try replay.apply(record)
                    } catch {
                        outcome.damage = .damaged(file: path, offset: frame.offset, reason: error.reason)
                        return outcome
                    }
                }
            }
        }
        return outcome
    }
}
