import RaftCore

/// The snapshot file format and names.
///
/// `magic "QSNP" | version: u16 | reserved: u16 | index: u64 | term: u64 | dataLength: u64 |
/// data | crc32c: u32` (little-endian; the CRC32C covers every byte before it). The file is named
/// `snapshot-<index, 20 digits>-<term, 20 digits>.snap` so a listing sorts by index.
enum SnapshotFile {
    static let magic: [UInt8] = Array("QSNP".utf8)
    static let version: UInt16 = 1
    static let headerSize = 32
    static let suffix = ".snap"

    /// The file name for a snapshot at `index` with `term`.
    static func name(index: Raft.LogIndex, term: Raft.Term) -> String {
        "snapshot-\(padded(index.rawValue))-\(padded(term.rawValue))\(suffix)"
    }

    /// The index and term in a snapshot file name, or `nil` if `name` is not one.
    static func parse(name: String) -> (index: Raft.LogIndex, term: Raft.Term)? {
        guard name.hasPrefix("snapshot-"), name.hasSuffix(suffix) else { return nil }
        let middle = name.dropFirst("snapshot-".count).dropLast(suffix.count)
        let parts = middle.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 20 }),
            let index = UInt64(parts[0]), let term = UInt64(parts[1])
        else { return nil }
        return (Raft.LogIndex(index), Raft.Term(term))
    }

    /// The bytes of a snapshot file in one array (tests; the store streams the file with a
    /// ``SnapshotFileDraft``, which writes the same bytes).
    static func encode(_ snapshot: RaftSnapshot) -> [UInt8] {
        var file: [UInt8] = []
        file.reserveCapacity(headerSize + snapshot.storedCount + 4)
        write(snapshot) { file.append(contentsOf: $0) }
        return file
    }

    /// Hands the bytes of `snapshot`'s file to `sink` in pieces — the header, the data prefix,
    /// the data, the checksum — computing the CRC32C as they pass.
    ///
    /// Why pieces: a snapshot image can be hundreds of MiB; building the file in one buffer held
    /// a second copy of it while it was written (issue #18, "Memory"). The pieces are the
    /// caller's own arrays, never copied.
    static func write<E: Error>(_ snapshot: RaftSnapshot, to sink: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        let header = header(index: snapshot.index, term: snapshot.term, dataLength: snapshot.storedCount)
        var crc = CRC32C.start
        for part in [header, snapshot.dataPrefix, snapshot.data] where !part.isEmpty {
            try hand(part, to: sink) { crc = CRC32C.update(crc, $0) }
        }
        var checksum = ByteWriter(capacity: 4)
        checksum.write(CRC32C.finish(crc))
        try hand(checksum.bytes, to: sink) { _ in }
    }

    /// The ``headerSize`` bytes before the data of a snapshot at `index` in `term` holding
    /// `dataLength` bytes.
    static func header(index: Raft.LogIndex, term: Raft.Term, dataLength: Int) -> [UInt8] {
        var header = ByteWriter(capacity: headerSize)
        header.write(bytes: magic)
        header.write(version)
        header.write(UInt16(0))
        header.write(index.rawValue)
        header.write(term.rawValue)
        header.write(UInt64(dataLength))
        return header.bytes
    }

    /// Passes `part`'s bytes to `seen`, then to `sink`.
    private static func hand<E: Error>(_ part: [UInt8], to sink: (UnsafeRawBufferPointer) throws(E) -> Void,
                                       seen: (UnsafeRawBufferPointer) -> Void) throws(E) {
        try part.withBytes { raw throws(E) in
            seen(raw)
            try sink(raw)
        }
    }

    /// The snapshot in `bytes`, or why they are not a valid snapshot.
    static func decode(_ bytes: [UInt8]) -> Result<RaftSnapshot, SegmentScanner.Problem> {
        guard bytes.count >= headerSize + 4 else {
            return .failure(.init(reason: "file of \(bytes.count) bytes is shorter than a snapshot header"))
        }
        return bytes.withUnsafeBytes { raw in
            let body = UnsafeRawBufferPointer(rebasing: raw[0..<raw.count - 4])
            let stored = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 4, as: UInt32.self))
            guard CRC32C.checksum(body) == stored else {
                return .failure(.init(reason: "checksum mismatch over \(body.count) bytes"))
            }
            var reader = ByteReader(body)
            do {
                guard try reader.readBytes(4) == magic else { return .failure(.init(reason: "no QSNP magic")) }
                let fileVersion = try reader.readUInt16()
                guard fileVersion == version else {
                    return .failure(.init(reason: "snapshot format version \(fileVersion) is not supported"))
                }
                _ = try reader.readUInt16()
                let index = Raft.LogIndex(try reader.readUInt64())
                let term = Raft.Term(try reader.readUInt64())
                let length = try reader.readUInt64()
                guard length == UInt64(reader.remaining) else {
                    return .failure(.init(reason: "declares \(length) data bytes but holds \(reader.remaining)"))
                }
                let data = try reader.readBytes(reader.remaining)
                return .success(RaftSnapshot(index: index, term: term, data: data))
            } catch {
                return .failure(.init(reason: "header is too short"))
            }
        }
    }
}

/// Segment file names: the sequence number, 20 digits, then `.wal`.
enum SegmentName {
    static let suffix = ".wal"

    static func name(sequence: UInt64) -> String { padded(sequence) + suffix }

    static func parse(_ name: String) -> UInt64? {
        guard name.hasSuffix(suffix) else { return nil }
        let digits = name.dropLast(suffix.count)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }
}

/// `value` in decimal, zero-padded to 20 digits (the width of `UInt64.max`).
func padded(_ value: UInt64) -> String {
    let digits = String(value)
    return String(repeating: "0", count: 20 - digits.count) + digits
}
