/// A frame found in a segment whose header is plausible and whose checksum matched.
struct ScannedFrame: Sendable {
    /// Byte offset of the frame header in the file.
    var offset: Int
    /// The frame's type.
    var type: FrameType
    /// Byte range of the payload in the file.
    var payload: Range<Int>
    /// Byte offset just past the frame.
    var end: Int { payload.upperBound }
}

/// How a scan of a segment ended.
enum ScanEnd: Hashable, Sendable {
    /// Every byte belongs to a valid frame.
    case clean
    /// The bytes at `offset` are not a valid frame. `laterValidFrame` is the offset of a valid
    /// frame found after it, if any: with one, the bad frame is damage in the middle of the
    /// log; without one (in the last segment), it is a torn tail.
    case invalid(offset: Int, reason: String, laterValidFrame: Int?)
}

/// The frames of one segment and how the scan ended.
struct SegmentScan: Sendable {
    var frames: [ScannedFrame]
    var end: ScanEnd
    /// The checksum salt from the segment header (0 if the segment has no readable header).
    var salt: UInt64
    /// Offset just past the last valid frame: where a torn tail is cut.
    var validLength: Int { frames.last?.end ?? 0 }
}

/// Splits a segment's bytes into checksummed frames. Pure: the caller reads the file.
enum SegmentScanner {
    /// Scans `bytes` from the start, verifying every frame's checksum. The first frame is
    /// checked with salt 0; if it is a segment header, its salt checks the rest. After a bad
    /// frame, looks for a later valid one only if `searchAfterInvalid` (only the last segment
    /// can have a torn tail, and the search costs up to a checksum per candidate offset).
    static func scan(_ bytes: UnsafeRawBufferPointer, searchAfterInvalid: Bool = true) -> SegmentScan {
        var frames: [ScannedFrame] = []
        var salt: UInt64 = 0
        var offset = 0
        while offset < bytes.count {
            switch frame(at: offset, in: bytes, salt: salt) {
            case .success(let frame):
                if frames.isEmpty, frame.type == .segmentHeader,
                    let header = try? WALDecoder.segmentHeader(payload: UnsafeRawBufferPointer(rebasing: bytes[frame.payload]))
                {
                    // A header that does not decode is reported as damage by the analyzer.
                    salt = header.salt
                }
                frames.append(frame)
                offset = frame.end
            case .failure(let problem):
                let later = searchAfterInvalid ? firstValidFrame(after: offset, in: bytes, salt: salt) : nil
                return SegmentScan(frames: frames, end: .invalid(offset: offset, reason: problem.reason, laterValidFrame: later), salt: salt)
            }
        }
        return SegmentScan(frames: frames, end: .clean, salt: salt)
    }

    /// Why the bytes at an offset are not a frame.
    struct Problem: Error {
        var reason: String
    }

    /// The valid frame at `offset`, or why there is none.
    static func frame(at offset: Int, in bytes: UnsafeRawBufferPointer, salt: UInt64) -> Result<ScannedFrame, Problem> {
        let available = bytes.count - offset
        guard available >= WALFormat.frameHeaderSize else {
            return .failure(Problem(reason: "partial frame header (\(available) of \(WALFormat.frameHeaderSize) bytes)"))
        }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let typeByte = bytes[offset + 4]
        guard let type = FrameType(rawValue: typeByte) else {
            return .failure(Problem(reason: "unknown frame type \(typeByte)"))
        }
        guard bytes[offset + 5] == 0, bytes[offset + 6] == 0, bytes[offset + 7] == 0 else {
            return .failure(Problem(reason: "reserved header bytes are not zero"))
        }
        guard length <= WALFormat.maximumPayloadSize else {
            return .failure(Problem(reason: "frame declares an impossible length of \(length) bytes"))
        }
        let payloadStart = offset + WALFormat.frameHeaderSize
        guard length <= bytes.count - payloadStart else {
            return .failure(Problem(reason: "frame of \(length) bytes runs past the end of the file (\(bytes.count - payloadStart) bytes left)"))
        }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        let header = UnsafeRawBufferPointer(rebasing: bytes[offset..<payloadStart])
        let payload = UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<payloadStart + length])
        let computed = WALEncoder.frameChecksum(salt: salt, header: header, payload: payload)
        guard computed == stored else {
            return .failure(Problem(reason: "checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))"))
        }
        return .success(ScannedFrame(offset: offset, type: type, payload: payloadStart..<payloadStart + length))
    }

    /// The offset of the first valid frame starting after `offset`, if any. Only runs when a
    /// scan hits a bad frame, to tell a torn tail (nothing valid after it) from damage.
    static func firstValidFrame(after offset: Int, in bytes: UnsafeRawBufferPointer, salt: UInt64) -> Int? {
        var candidate = offset + 1
        while candidate + WALFormat.frameHeaderSize <= bytes.count {
            // Cheap plausibility first: known type and zero reserved bytes.
            if FrameType(rawValue: bytes[candidate + 4]) != nil, bytes[candidate + 5] == 0, bytes[candidate + 6] == 0,
                bytes[candidate + 7] == 0, case .success = frame(at: candidate, in: bytes, salt: salt)
            {
                return candidate
            }
            candidate += 1
        }
        return nil
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
