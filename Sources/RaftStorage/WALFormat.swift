import RaftCore

/// The byte layout of WAL segment files (see `docs/storage.md`, "On-disk format").
///
/// A segment is a sequence of frames. A frame is
/// `payloadLength: u32 | type: u8 | reserved: 3 × u8 (zero) | crc32c: u32 | payload`, all
/// little-endian, where the CRC32C covers the segment's salt (8 bytes), the first 8 header bytes
/// and the payload, so a flipped bit in the length or type is caught too. The salt is random per
/// segment (0 for the segment header frame that holds it), so bytes that merely look like a frame
/// — a frame image inside an entry's data, say — never verify. A frame is the unit of
/// atomicity: one group commit writes exactly one `batch` frame, so a crash tears at most the
/// last frame.
enum WALFormat {
    /// Size of a frame header in bytes.
    static let frameHeaderSize = 12
    /// The largest payload a frame may declare (1 GiB); larger lengths are damage.
    static let maximumPayloadSize = 1 << 30
    /// The first bytes of every segment header payload.
    static let segmentMagic: [UInt8] = Array("QWAL".utf8)
    /// The segment format version this code writes and reads.
    static let version: UInt16 = 1
    /// Size of a segment header payload: magic, version, reserved, sequence, salt.
    static let segmentHeaderPayloadSize = 24
}

/// The kind of a frame, byte 4 of its header.
enum FrameType: UInt8, Sendable {
    /// The first frame of every segment: magic, version, the segment's sequence number and the
    /// salt of its other frames' checksums.
    case segmentHeader = 1
    /// One group commit: a count and that many records.
    case batch = 2
}

/// One record inside a batch frame: `type: u8 | bodyLength: u32 | body`.
enum WALRecord: Hashable, Sendable {
    /// Log entries with consecutive indexes, appended after the current last entry.
    case entries([Raft.Entry])
    /// The durable vote, term and commit index (Raft §5.1, Figure 2).
    case hardState(Raft.HardState)
    /// A snapshot through `index` (whose entry has `term`) is durable; the log through it is
    /// compacted. `keptLog` records the Raft §7 outcome: whether the log held that entry with that
    /// term, so the entries after it were kept (`true`), or the whole log was discarded. Recovery
    /// must not re-derive it: the entries it depends on may be in segments already deleted.
    case snapshotMarker(index: Raft.LogIndex, term: Raft.Term, keptLog: Bool)
    /// Entries from `from` on are discarded (a conflicting suffix is being replaced, Raft §5.3).
    case truncation(from: Raft.LogIndex)

    /// The record type byte.
    var typeByte: UInt8 {
        switch self {
        case .entries: 1
        case .hardState: 2
        case .snapshotMarker: 3
        case .truncation: 4
        }
    }
}

/// Encodes frames and records.
enum WALEncoder {
    /// A complete segment header frame for segment `sequence`, whose other frames' checksums
    /// use `salt`.
    static func segmentHeaderFrame(sequence: UInt64, salt: UInt64) -> [UInt8] {
        var payload = ByteWriter(capacity: WALFormat.segmentHeaderPayloadSize)
        payload.write(bytes: WALFormat.segmentMagic)
        payload.write(WALFormat.version)
        payload.write(UInt16(0))
        payload.write(sequence)
        payload.write(salt)
        return frame(type: .segmentHeader, payload: payload.bytes, salt: 0)
    }

    /// A complete batch frame holding `records` in order, for a segment with `salt`.
    static func batchFrame(_ records: [WALRecord], salt: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: WALFormat.frameHeaderSize + estimatedSize(records))
        writer.write(bytes: [UInt8](repeating: 0, count: WALFormat.frameHeaderSize))
        writer.write(UInt32(records.count))
        for record in records { encode(record, into: &writer) }
        return sealFrame(type: .batch, buffer: writer.bytes, salt: salt)
    }

    /// A frame around `payload`.
    static func frame(type: FrameType, payload: [UInt8], salt: UInt64) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: WALFormat.frameHeaderSize)
        buffer.append(contentsOf: payload)
        return sealFrame(type: type, buffer: buffer, salt: salt)
    }

    /// Fills in the header of `buffer`, whose first 12 bytes are reserved for it.
    private static func sealFrame(type: FrameType, buffer: [UInt8], salt: UInt64) -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes = buffer
        let payloadLength = buffer.count - WALFormat.frameHeaderSize
        precondition(payloadLength <= WALFormat.maximumPayloadSize, "frame payload of \(payloadLength) bytes is too large")
        writer.patch(UInt32(payloadLength), at: 0)
        writer.bytes[4] = type.rawValue
        writer.bytes[5] = 0
        writer.bytes[6] = 0
        writer.bytes[7] = 0
        let crc = writer.bytes.withUnsafeBytes {
            frameChecksum(salt: salt, header: $0, payload: UnsafeRawBufferPointer(rebasing: $0[WALFormat.frameHeaderSize...]))
        }
        writer.patch(crc, at: 8)
        return writer.bytes
    }

    /// The CRC32C of a frame: the salt (8 bytes, little-endian), header bytes 0..<8, the payload.
    static func frameChecksum(salt: UInt64, header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> UInt32 {
        var running = withUnsafeBytes(of: salt.littleEndian) { CRC32C.update(CRC32C.start, $0) }
        running = CRC32C.update(running, UnsafeRawBufferPointer(rebasing: header[0..<8]))
        return CRC32C.finish(CRC32C.update(running, payload))
    }

    private static func estimatedSize(_ records: [WALRecord]) -> Int {
        records.reduce(4) { total, record in
            switch record {
            case .entries(let entries): total + 9 + entries.reduce(0) { $0 + 21 + $1.data.count }
            default: total + 64
            }
        }
    }

    private static func encode(_ record: WALRecord, into writer: inout ByteWriter) {
        writer.write(record.typeByte)
        let lengthOffset = writer.bytes.count
        writer.write(UInt32(0))
        switch record {
        case .entries(let entries):
            writer.write(UInt32(entries.count))
            for entry in entries {
                writer.write(entry.index.rawValue)
                writer.write(entry.term.rawValue)
                writer.write(entry.kind.rawValue)
                writer.write(UInt32(entry.data.count))
                writer.write(bytes: entry.data)
            }
        case .hardState(let state):
            writer.write(state.term.rawValue)
            writer.write(state.commit.rawValue)
            if let vote = state.vote {
                let utf8 = Array(vote.rawValue.utf8)
                precondition(utf8.count <= Int(UInt16.max), "node id of \(utf8.count) bytes is too long")
                writer.write(UInt8(1))
                writer.write(UInt16(utf8.count))
                writer.write(bytes: utf8)
            } else {
                writer.write(UInt8(0))
            }
        case .snapshotMarker(let index, let term, let keptLog):
            writer.write(index.rawValue)
            writer.write(term.rawValue)
            writer.write(UInt8(keptLog ? 1 : 0))
        case .truncation(let from):
            writer.write(from.rawValue)
        }
        writer.patch(UInt32(writer.bytes.count - lengthOffset - 4), at: lengthOffset)
    }
}

/// Decodes the payloads of frames whose checksum already matched. A decode failure here means
/// a frame with a valid checksum holds nonsense: that is damage (or a format bug), never a torn
/// write.
enum WALDecoder {
    /// Why a checksummed payload could not be decoded.
    struct Malformed: Error {
        var reason: String
    }

    /// The sequence number and checksum salt in a segment header payload.
    static func segmentHeader(payload: UnsafeRawBufferPointer) throws(Malformed) -> (sequence: UInt64, salt: UInt64) {
        var reader = ByteReader(payload)
        do {
            let magic = try reader.readBytes(4)
            guard magic == WALFormat.segmentMagic else { throw Malformed(reason: "segment header has no QWAL magic") }
            let version = try reader.readUInt16()
            guard version == WALFormat.version else {
                throw Malformed(reason: "segment format version \(version) is not supported (this build reads \(WALFormat.version))")
            }
            _ = try reader.readUInt16()
            let sequence = try reader.readUInt64()
            let salt = try reader.readUInt64()
            guard reader.remaining == 0 else { throw Malformed(reason: "segment header has \(reader.remaining) extra bytes") }
            return (sequence, salt)
        } catch let error as Malformed {
            throw error
        } catch {
            throw Malformed(reason: "segment header is too short")
        }
    }

    /// The records in a batch payload.
    static func batch(payload: UnsafeRawBufferPointer) throws(Malformed) -> [WALRecord] {
        var reader = ByteReader(payload)
        do {
            let count = Int(try reader.readUInt32())
            var records: [WALRecord] = []
            records.reserveCapacity(min(count, 16))
            for _ in 0..<count {
                records.append(try record(&reader))
            }
            guard reader.remaining == 0 else { throw Malformed(reason: "\(reader.remaining) unexpected bytes after the last record") }
            return records
        } catch let error as Malformed {
            throw error
        } catch {
            throw Malformed(reason: "a record runs past the end of its batch")
        }
    }

    private static func record(_ reader: inout ByteReader) throws -> WALRecord {
        let type = try reader.readUInt8()
        let length = Int(try reader.readUInt32())
        guard length <= reader.remaining else { throw Malformed(reason: "record of \(length) bytes runs past its batch") }
        let bodyStart = reader.offset
        let record: WALRecord
        switch type {
        case 1:
            let count = Int(try reader.readUInt32())
            var entries: [Raft.Entry] = []
            entries.reserveCapacity(min(count, length / 21 + 1))
            for _ in 0..<count {
                let index = Raft.LogIndex(try reader.readUInt64())
                let term = Raft.Term(try reader.readUInt64())
                let kindByte = try reader.readUInt8()
                guard let kind = Raft.EntryKind(rawValue: kindByte) else { throw Malformed(reason: "unknown entry kind \(kindByte) at index \(index.rawValue)") }
                let dataLength = Int(try reader.readUInt32())
                let data = try reader.readBytes(dataLength)
                entries.append(Raft.Entry(term: term, index: index, kind: kind, data: data))
            }
            record = .entries(entries)
        case 2:
            let term = Raft.Term(try reader.readUInt64())
            let commit = Raft.LogIndex(try reader.readUInt64())
            var vote: Raft.NodeID?
            switch try reader.readUInt8() {
            case 0: vote = nil
            case 1:
                let length = Int(try reader.readUInt16())
                let bytes = try reader.readBytes(length)
                guard let id = String(validating: bytes, as: UTF8.self) else { throw Malformed(reason: "vote is not UTF-8") }
                vote = Raft.NodeID(id)
            case let flag: throw Malformed(reason: "hard state vote flag \(flag) is neither 0 nor 1")
            }
            record = .hardState(Raft.HardState(term: term, vote: vote, commit: commit))
        case 3:
            let index = Raft.LogIndex(try reader.readUInt64())
            let term = Raft.Term(try reader.readUInt64())
            let kept = try reader.readUInt8()
            guard kept <= 1 else { throw Malformed(reason: "snapshot marker flag \(kept) is neither 0 nor 1") }
            record = .snapshotMarker(index: index, term: term, keptLog: kept == 1)
        case 4:
            record = .truncation(from: Raft.LogIndex(try reader.readUInt64()))
        default:
            throw Malformed(reason: "unknown record type \(type)")
        }
        guard reader.offset - bodyStart == length else {
            throw Malformed(reason: "record type \(type) declares \(length) bytes but holds \(reader.offset - bodyStart)")
        }
        return record
    }
}
