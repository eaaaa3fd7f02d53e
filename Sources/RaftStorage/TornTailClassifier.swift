/// Decides whether a bad frame at the end of the last segment (nothing valid after it) is a torn
/// write — the group commit under way when the node stopped, never acknowledged, safe to cut off
/// — or damage to bytes that were written whole and may have been acknowledged, which must stop
/// the node. Pure: the analyzer hands it the segment's bytes.
///
/// Cutting damage as if it were a torn tail silently loses acknowledged entries or a vote (a node
/// that forgets its vote can vote twice in one term), so the rules only call bytes torn when an
/// interrupted write can explain them and a bit flip in a complete write cannot:
///
/// - A write is one `write` of one frame at the end of the file. Interrupted, it leaves a prefix
///   of the frame (the file ends inside it), or — after a power loss — the frame's length with some
///   sectors never written, which read as zeros (XFS and ext4 return zeros for blocks the size
///   covers but no data reached). It never leaves data after the frame's end.
/// - A segment's header and first batch are one write, made durable before any other write to
///   the segment; a segment whose header does not verify but that holds data after the header
///   was therefore written and is damaged, not half-created.
/// - A complete frame whose header was changed is recognised by repairing the header (its length
///   to where the data ends, a known type, zero reserved bytes): if the checksum then verifies,
///   the write was whole.
///
/// As in etcd's `isTornEntry`, a sector of a frame that is all zero is taken as never written.
/// Two refinements keep a legitimately zero run inside a complete frame from passing for one: a
/// zero piece counts only if it holds the frame's type byte (never zero in a written frame) or is
/// at least ``minimumZeroRun`` bytes long (the record encoding never produces such a run by
/// itself; only entry data can). A torn write whose only unwritten piece is shorter is refused,
/// which is safe.
enum TornTailClassifier {
    /// The unit a disk writes atomically (the smallest sector size, as etcd assumes). Offsets
    /// are file offsets: sectors start at multiples of it.
    static let sectorSize = 512
    /// The shortest all-zero piece of a sector taken as evidence that it was never written.
    /// Field encodings (little-endian integers, flags, lengths) produce runs of at most about
    /// twenty zero bytes, so 64 keeps them from counting.
    static let minimumZeroRun = 64
    /// The size of a segment header frame: frame header plus payload.
    static let segmentHeaderFrameSize = WALFormat.frameHeaderSize + WALFormat.segmentHeaderPayloadSize
    /// How many candidate frame ends inside a trailing run of zeros the header repair tries (a
    /// frame's own last bytes may be zero).
    static let repairCandidatesInZeroTail = 32

    /// The verdict on the bytes from the bad frame to the end of the file.
    enum Verdict: Hashable, Sendable {
        /// An interrupted write; `removesSegment` when the segment never got a valid header.
        case torn(reason: String, removesSegment: Bool)
        /// Bytes written whole that no longer verify.
        case damaged(reason: String)
    }

    /// Classifies the bytes of the last segment from `offset` (the first frame that does not
    /// verify, with no valid frame after it) to the end. `problem` says why the frame is bad;
    /// `salt` is the segment's checksum salt (unused for a bad header, which has none).
    static func classify(_ bytes: UnsafeRawBufferPointer, badFrameAt offset: Int, problem: String, salt: UInt64) -> Verdict {
        if offset == 0 { return classifyHeader(bytes, problem: problem) }
        let rest = bytes.count - offset
        guard firstNonZero(bytes, in: offset..<bytes.count) != nil else {
            return .torn(
                reason: "\(problem); the \(rest) bytes from here to the end of the file are all zero: a write whose data never reached the disk",
                removesSegment: false)
        }
        guard rest >= WALFormat.frameHeaderSize else {
            return .torn(reason: "\(problem): a write cut short", removesSegment: false)
        }
        if let repaired = repairedHeader(bytes, at: offset, salt: salt) {
            return .damaged(
                reason: "\(problem); with its header repaired (length \(repaired.length), type \(repaired.type), reserved bytes zero) "
                    + "the frame's checksum verifies, so it was written whole and its header changed afterwards")
        }
        let header = Header(bytes, at: offset)
        guard header.isPlausible else {
            // The header itself is unreadable, so the frame's length is unknown: the rest of the
            // file is what the interrupted write left, and it must show an unwritten sector.
            if let zero = unwrittenPiece(bytes, in: offset..<bytes.count, typeByte: offset + 4) {
                return .torn(reason: "\(problem); \(zero) is all zero: part of a write that never reached the disk", removesSegment: false)
            }
            return .damaged(
                reason: "\(problem); no sector of the \(rest) bytes from here to the end of the file is unwritten (zero), "
                    + "so this is not an interrupted write")
        }
        let end = offset + WALFormat.frameHeaderSize + header.length
        guard end <= bytes.count else {
            return .torn(reason: "\(problem): a write cut short", removesSegment: false)
        }
        if let trailing = firstNonZero(bytes, in: end..<bytes.count) {
            return .damaged(
                reason: "\(problem); byte \(trailing), after the frame's end at byte \(end), is not zero, "
                    + "and an interrupted write leaves nothing after the frame it was writing")
        }
        if let zero = unwrittenPiece(bytes, in: offset..<end, typeByte: offset + 4) {
            return .torn(reason: "\(problem); \(zero) is all zero: part of a write that never reached the disk", removesSegment: false)
        }
        return .damaged(
            reason: "\(problem); all \(header.length) bytes the frame declares are there and none of its sectors is unwritten (zero), "
                + "so it was written whole and changed afterwards (it may have been acknowledged)")
    }

    /// The segment header (offset 0) does not verify. Only a segment holding nothing but zeros
    /// after where the header ends was never written to.
    private static func classifyHeader(_ bytes: UnsafeRawBufferPointer, problem: String) -> Verdict {
        let headerEnd = min(segmentHeaderFrameSize, bytes.count)
        if let data = firstNonZero(bytes, in: headerEnd..<bytes.count) {
            return .damaged(
                reason: "the segment header does not verify (\(problem)) but the segment holds data after it (byte \(data) is not zero); "
                    + "a header reaches the disk with or before anything written after it, so this segment was written and its header "
                    + "changed afterwards, not a segment whose creation was interrupted")
        }
        let what = bytes.count < segmentHeaderFrameSize
            ? "the segment is shorter than its header (\(bytes.count) of \(segmentHeaderFrameSize) bytes)"
            : "the segment holds nothing but zeros after its header"
        return .torn(reason: "the segment header does not verify (\(problem)) and \(what): it was created but never written to", removesSegment: true)
    }

    /// The fields of a frame header, read without trusting them.
    private struct Header {
        var length: Int
        var isPlausible: Bool

        init(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
            length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            isPlausible = FrameType(rawValue: bytes[offset + 4]) != nil && bytes[offset + 5] == 0 && bytes[offset + 6] == 0
                && bytes[offset + 7] == 0 && length <= WALFormat.maximumPayloadSize
        }
    }

    /// If the frame at `offset` verifies once its header is repaired — its length set to end
    /// where the data ends (at the end of the file, or somewhere in a trailing run of zeros),
    /// a known type, zero reserved bytes — the length and type that make it verify.
    private static func repairedHeader(_ bytes: UnsafeRawBufferPointer, at offset: Int, salt: UInt64) -> (length: Int, type: FrameType)? {
        let payloadStart = offset + WALFormat.frameHeaderSize
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        let dataEnd = (lastNonZero(bytes, in: payloadStart..<bytes.count) ?? payloadStart - 1) + 1
        var candidates = [bytes.count]
        var end = dataEnd
        while end < bytes.count, candidates.count <= repairCandidatesInZeroTail {
            candidates.append(end)
            end += 1
        }
        for end in candidates {
            let length = end - payloadStart
            guard length >= 0, length <= WALFormat.maximumPayloadSize else { continue }
            for type in [FrameType.batch, .segmentHeader] {
                var header = [UInt8](repeating: 0, count: WALFormat.frameHeaderSize)
                withUnsafeBytes(of: UInt32(length).littleEndian) { header.replaceSubrange(0..<4, with: $0) }
                header[4] = type.rawValue
                let computed = header.withUnsafeBytes {
                    WALEncoder.frameChecksum(salt: salt, header: $0, payload: UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<end]))
                }
                if computed == stored { return (length, type) }
            }
        }
        return nil
    }

    /// The first piece of `range`, split at sector boundaries, that is all zero and long enough
    /// to count (see the type's documentation), described for the operator; `nil` if none.
    private static func unwrittenPiece(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>, typeByte: Int) -> String? {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min((start / sectorSize + 1) * sectorSize, range.upperBound)
            let counts = end - start >= minimumZeroRun || (start..<end).contains(typeByte)
            if counts, firstNonZero(bytes, in: start..<end) == nil {
                return "the sector piece at bytes \(start)..<\(end)"
            }
            start = end
        }
        return nil
    }

    /// The offset of the first non-zero byte in `range`, if any.
    static func firstNonZero(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) -> Int? {
        range.first { bytes[$0] != 0 }
    }

    /// The offset of the last non-zero byte in `range`, if any.
    static func lastNonZero(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) -> Int? {
        range.reversed().first { bytes[$0] != 0 }
    }
}
