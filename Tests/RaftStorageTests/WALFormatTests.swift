import RaftCore
import Testing

@testable import RaftStorage

@Suite("WAL frame and record format")
struct WALFormatTests {
    static let records: [WALRecord] = [
        .truncation(from: 4),
        .entries(makeEntries(from: 4, count: 3, term: 2) + [Raft.Entry(term: 2, index: 7, kind: .configChange, data: [])]),
        .hardState(Raft.HardState(term: 2, vote: "n2", commit: 5)),
        .hardState(Raft.HardState(term: 3, vote: nil, commit: 6)),
        .snapshotMarker(index: 5, term: 2, keptLog: true),
        .snapshotMarker(index: 9, term: 3, keptLog: false),
    ]

    @Test("a batch frame decodes to the records it was made of")
    func batchRoundTrip() throws {
        let frame = WALEncoder.batchFrame(Self.records, salt: 0)
        let decoded = try frame.withUnsafeBytes { raw in
            let scan = SegmentScanner.scan(raw)
            #expect(scan.end == .clean)
            let only = try #require(scan.frames.first)
            #expect(only.type == .batch)
            return try WALDecoder.batch(payload: UnsafeRawBufferPointer(rebasing: raw[only.payload]))
        }
        #expect(decoded == Self.records)
    }

    @Test("the header is length, type, three zero bytes, CRC32C over salt, header and payload")
    func headerLayout() {
        let frame = WALEncoder.segmentHeaderFrame(sequence: 7, salt: 0x0102_0304_0506_0708)
        #expect(frame.count == WALFormat.frameHeaderSize + WALFormat.segmentHeaderPayloadSize)
        #expect(Array(frame[0..<4]) == [24, 0, 0, 0])
        #expect(Array(frame[4..<8]) == [FrameType.segmentHeader.rawValue, 0, 0, 0])
        let crc = CRC32C.checksum([UInt8](repeating: 0, count: 8) + Array(frame[0..<8]) + Array(frame[12...]))
        #expect(Array(frame[8..<12]) == [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)])
        #expect(Array(frame[12..<16]) == Array("QWAL".utf8))
        #expect(Array(frame[28..<36]) == [8, 7, 6, 5, 4, 3, 2, 1])

        let batch = WALEncoder.batchFrame([.truncation(from: 3)], salt: 0x0102_0304_0506_0708)
        let salted = CRC32C.checksum([8, 7, 6, 5, 4, 3, 2, 1] + Array(batch[0..<8]) + Array(batch[12...]))
        #expect(batch.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) } == salted.littleEndian)
    }

    @Test("a frame image inside an entry's data never verifies, so a cut last batch is still a torn tail")
    func embeddedFrameIsNotAFrame() {
        let salt: UInt64 = 0xDEAD_BEEF_CAFE_F00D
        let header = WALEncoder.segmentHeaderFrame(sequence: 1, salt: salt)
        let first = WALEncoder.batchFrame([.entries(makeEntries(from: 1, count: 1))], salt: salt)
        // An entry whose data holds complete frames, sealed with salt 0 and with a wrong salt.
        let forged = WALEncoder.batchFrame([.entries(makeEntries(from: 50, count: 1))], salt: 0)
            + WALEncoder.batchFrame([.entries(makeEntries(from: 60, count: 1))], salt: 42)
        let last = WALEncoder.batchFrame([.entries([Raft.Entry(term: 1, index: 2, data: forged + [1, 2, 3])])], salt: salt)
        let segment = header + first + last
        for cut in (header.count + first.count + 1)..<segment.count {
            let scan = Array(segment[0..<cut]).withUnsafeBytes { SegmentScanner.scan($0) }
            guard case .invalid(let offset, _, let later) = scan.end else {
                Issue.record("cut at \(cut): expected a torn tail")
                continue
            }
            #expect(offset == header.count + first.count, "cut at \(cut)")
            #expect(later == nil, "cut at \(cut): a forged frame inside the data was taken for a real one")
        }
    }

    @Test("a cut frame is invalid with nothing valid after it; a bad frame before a good one says so")
    func scannerTellsTornFromDamaged() {
        let first = WALEncoder.batchFrame([.hardState(Raft.HardState(term: 1))], salt: 0)
        let second = WALEncoder.batchFrame([.entries(makeEntries(from: 1, count: 2))], salt: 0)
        var cut = first + second
        cut.removeLast(3)
        let tornScan = cut.withUnsafeBytes { SegmentScanner.scan($0) }
        guard case .invalid(let offset, _, let later) = tornScan.end else {
            Issue.record("expected an invalid end, got \(tornScan.end)")
            return
        }
        #expect(offset == first.count)
        #expect(later == nil)

        var flipped = first + second
        flipped[WALFormat.frameHeaderSize + 2] ^= 0x10
        let damagedScan = flipped.withUnsafeBytes { SegmentScanner.scan($0) }
        #expect(damagedScan.end == .invalid(offset: 0, reason: damagedReason(damagedScan), laterValidFrame: first.count))
    }

    private func damagedReason(_ scan: SegmentScan) -> String {
        if case .invalid(_, let reason, _) = scan.end { return reason }
        return ""
    }

    @Test("snapshot files round-trip and reject a flipped bit")
    func snapshotFile() throws {
        let snapshot = RaftSnapshot(index: 42, term: 3, data: Array("state".utf8))
        var bytes = SnapshotFile.encode(snapshot)
        #expect(try SnapshotFile.decode(bytes).get() == snapshot)
        bytes[SnapshotFile.headerSize + 1] ^= 1
        #expect(throws: SegmentScanner.Problem.self) { try SnapshotFile.decode(bytes).get() }
        #expect(SnapshotFile.parse(name: SnapshotFile.name(index: 42, term: 3))! == (42, 3))
        #expect(SegmentName.parse(SegmentName.name(sequence: 12)) == 12)
    }
}

@Suite("Paths")
struct PathTests {
    @Test("the parent of a data directory is synced after creating it", arguments: [
        ("/var/lib/quorum", "/var/lib"), ("/data", "/"), ("data", "."), ("a/b/", "a"),
    ])
    func parent(path: String, expected: String) {
        #expect(WALRecovery.parent(of: path) == expected)
    }
}
