import DeterministicRandom
import RaftCore
import Testing

@testable import RaftStorage

/// What opening a data directory and inspecting it said.
private struct Verdicts {
    /// The error `FileLogStore.open` threw, or `nil` if it opened.
    var refused: StorageError?
    /// What the store held when it opened.
    var opened: Observed?
    /// The inspector's report on the same bytes (taken before the open changed them).
    var report: WALInspectionReport
}

/// Issue #10: damage in the WAL is never cut off as if it were a torn tail, and a torn tail that
/// an interrupted write explains still is. Runs on `SimulatedDisk` images (in memory), so every
/// byte of a header can be tried.
@Suite("Damage versus torn tail")
struct DamageVersusTornTailTests {
    static let directory = "/sim/n2/wal"
    static let vote = Raft.HardState(term: 3, vote: "n1", commit: 5)

    /// A data directory with `count` one-entry batches, then the hard state `vote`, as a disk
    /// image (path → bytes). Everything in it was synced.
    private func makeImage(count: Int, segmentSize: Int) async throws -> [String: [UInt8]] {
        let disk = SimulatedDisk(directories: ["/sim", "/sim/n2"])
        let store = try await FileLogStore.open(directory: Self.directory, options: testOptions(segmentSize: segmentSize, fileSystem: disk))
        for index in 1...count { try await store.append(makeEntries(from: UInt64(index), count: 1, size: 24)) }
        try await store.setHardState(Self.vote)
        await store.close()
        var random = SplitMix64(seed: 1)
        return disk.imageAfterPowerLoss(&random)  // all of it is durable: the image is the disk
    }

    private func segmentPaths(_ image: [String: [UInt8]]) -> [String] {
        image.keys.filter { $0.hasSuffix(".wal") }.sorted()
    }

    /// Inspects `image`, then opens it (the open may cut a torn tail, so it comes second).
    private func verdicts(_ image: [String: [UInt8]]) async throws -> Verdicts {
        let directories: Set<String> = ["/sim", "/sim/n2", Self.directory]
        let report = try WALInspector.inspect(directory: Self.directory, fileSystem: SimulatedDisk(image: image, directories: directories))
        let disk = SimulatedDisk(image: image, directories: directories)
        do {
            let store = try await FileLogStore.open(directory: Self.directory, options: testOptions(fileSystem: disk))
            let observed = try Observed(store)
            await store.close()
            return Verdicts(refused: nil, opened: observed, report: report)
        } catch let error as StorageError {
            return Verdicts(refused: error, opened: nil, report: report)
        }
    }

    /// Checks that `image` is refused as damage in `path` at `offset`, by the store and by the
    /// inspector alike.
    private func expectRefused(_ image: [String: [UInt8]], path: String, offset: Int, _ context: String) async throws {
        let verdict = try await verdicts(image)
        #expect(verdict.refused?.code == .damaged, "\(context): opened \(verdict.opened.map { "\($0)" } ?? "-")")
        #expect(verdict.refused?.file == path, "\(context)")
        #expect(verdict.refused?.offset == offset, "\(context): \(verdict.refused.map { "\($0)" } ?? "-")")
        #expect(verdict.report.damage == verdict.refused, "\(context): the inspector disagrees with the store")
        #expect(verdict.report.isDamaged, "\(context)")
    }

    @Test("the reported case: a flipped bit in the header of the only segment (901 entries and a vote) is refused, not cut")
    func reportedCase() async throws {
        var image = try await makeImage(count: 901, segmentSize: 1 << 20)
        let path = try #require(segmentPaths(image).last)
        #expect(segmentPaths(image).count == 1)
        image[path]?[30] ^= 0x04
        try await expectRefused(image, path: path, offset: 0, "byte 30")
        let verdict = try await verdicts(image)
        #expect(verdict.report.tornTail == nil)
        #expect(verdict.refused?.message.contains("segment header does not verify") == true, "\(verdict.refused.map { "\($0)" } ?? "-")")
        #expect(verdict.report.rendered.contains("DAMAGED"))
    }

    @Test("every bit of a segment header flipped is refused, in the first, a middle and the last segment")
    func everyHeaderBitInEverySegmentPosition() async throws {
        let image = try await makeImage(count: 40, segmentSize: 600)
        let paths = segmentPaths(image)
        try #require(paths.count >= 3)
        let positions = [("first", paths[0]), ("middle", paths[paths.count / 2]), ("last", paths[paths.count - 1])]
        for (position, path) in positions {
            for byte in 0..<TornTailClassifier.segmentHeaderFrameSize {
                for bit in 0..<8 {
                    var damaged = image
                    damaged[path]?[byte] ^= UInt8(1) << UInt8(bit)
                    try await expectRefused(damaged, path: path, offset: 0, "\(position) segment, byte \(byte) bit \(bit)")
                }
            }
        }
    }

    @Test("every bit of the last frame flipped (the vote) is refused at that frame, never cut off")
    func everyBitOfTheLastFrame() async throws {
        let image = try await makeImage(count: 12, segmentSize: 1 << 20)
        let path = try #require(segmentPaths(image).last)
        let bytes = try #require(image[path])
        let last = try #require(frames(of: bytes).last)
        #expect(last.end == bytes.count)
        for byte in last.offset..<last.end {
            for bit in 0..<8 {
                var damaged = image
                damaged[path]?[byte] ^= UInt8(1) << UInt8(bit)
                try await expectRefused(damaged, path: path, offset: last.offset, "byte \(byte) bit \(bit)")
            }
        }
    }

    @Test("a segment created but never written (empty, shorter than a header, only zeros after its header) is removed, and the store keeps working")
    func createdButNeverWritten() async throws {
        let image = try await makeImage(count: 10, segmentSize: 1 << 20)
        let next = Self.directory + "/" + SegmentName.name(sequence: 2)
        let header = WALEncoder.segmentHeaderFrame(sequence: 2, salt: 99)
        var flippedHeader = header
        flippedHeader[30] ^= 0x01
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("5 bytes of its header", Array(header[0..<5])),
            ("35 bytes of its header", Array(header[0..<35])),
            ("a whole header that does not verify", flippedHeader),
            ("a header that does not verify, then zeros", flippedHeader + [UInt8](repeating: 0, count: 300)),
            ("only zeros", [UInt8](repeating: 0, count: 4096)),
        ]
        for (name, content) in cases {
            var damaged = image
            damaged[next] = content
            let verdict = try await verdicts(damaged)
            #expect(verdict.refused == nil, "\(name): \(verdict.refused.map { "\($0)" } ?? "")")
            #expect(verdict.opened?.lastIndex == 10, "\(name)")
            #expect(verdict.opened?.hardState == Self.vote, "\(name)")
            #expect(verdict.report.tornTail?.removesSegment == true, "\(name)")
            #expect(!verdict.report.isDamaged, "\(name)")

            // Open, write, close, and open again: the store must not append to the headerless
            // segment (an empty one used to be kept and written without a header).
            let disk = SimulatedDisk(image: damaged, directories: ["/sim", "/sim/n2", Self.directory])
            let store = try await FileLogStore.open(directory: Self.directory, options: testOptions(fileSystem: disk))
            #expect(try await store.append(makeEntries(from: 11, count: 1, size: 24)) == 11, "\(name)")
            await store.close()
            let reopened = try await FileLogStore.open(directory: Self.directory, options: testOptions(fileSystem: disk))
            #expect(reopened.lastIndex == 11, "\(name)")
            #expect(try reopened.entries(from: 1, through: 11) == makeEntries(from: 1, count: 11, size: 24), "\(name)")
            await reopened.close()
        }
    }

    @Test("an empty segment that is not the last one is damage")
    func emptyMiddleSegment() async throws {
        var image = try await makeImage(count: 40, segmentSize: 600)
        let paths = segmentPaths(image)
        try #require(paths.count >= 3)
        image[paths[1]] = []
        try await expectRefused(image, path: paths[1], offset: 0, "empty middle segment")
    }

    @Test("plausible torn writes of the last frame are cut off: cut short, its later sectors never written, zeros appended")
    func plausibleTornWrites() async throws {
        var image = try await makeImage(count: 12, segmentSize: 1 << 20)
        let path = try #require(segmentPaths(image).last)
        // One more group commit, big enough to span several sectors, after the vote.
        let disk = SimulatedDisk(image: image, directories: ["/sim", "/sim/n2", Self.directory])
        let store = try await FileLogStore.open(directory: Self.directory, options: testOptions(segmentSize: 1 << 20, fileSystem: disk))
        try await store.append(makeEntries(from: 13, count: 8, size: 300))
        await store.close()
        image[path] = try disk.readFile(path)
        let bytes = try #require(image[path])
        let last = try #require(frames(of: bytes).last)
        let firstBoundary = (last.payload.lowerBound / TornTailClassifier.sectorSize + 1) * TornTailClassifier.sectorSize
        try #require(firstBoundary + TornTailClassifier.sectorSize < last.end)
        let zerosFromFirstBoundary = Array(bytes[0..<firstBoundary]) + [UInt8](repeating: 0, count: last.end - firstBoundary)
        let cases: [(String, [UInt8], UInt64)] = [
            ("cut inside the payload", Array(bytes[0..<(last.end - 3)]), 12),
            ("cut inside the frame header", Array(bytes[0..<(last.offset + 7)]), 12),
            ("cut right after the frame header", Array(bytes[0..<last.payload.lowerBound]), 12),
            ("every sector after the header's one never written (zeros)", zerosFromFirstBoundary, 12),
            ("wholly zero", Array(bytes[0..<last.offset]) + [UInt8](repeating: 0, count: last.end - last.offset), 12),
            ("complete, then zeros the file system added", bytes + [UInt8](repeating: 0, count: 4096), 20),
        ]
        for (name, content, lastIndex) in cases {
            var torn = image
            torn[path] = content
            let verdict = try await verdicts(torn)
            #expect(verdict.refused == nil, "\(name): \(verdict.refused.map { "\($0)" } ?? "")")
            #expect(verdict.opened?.lastIndex == Raft.LogIndex(lastIndex), "\(name)")
            #expect(verdict.opened?.hardState == Self.vote, "\(name)")
            #expect(verdict.report.tornTail?.offset == (lastIndex == 20 ? bytes.count : last.offset), "\(name)")
            #expect(verdict.report.tornTail?.removesSegment == false, "\(name)")
            #expect(!verdict.report.isDamaged, "\(name)")
        }
    }

    @Test("a torn-looking last frame followed by data is damage: nothing is written after the frame being written")
    func dataAfterATornLookingFrame() async throws {
        let disk = SimulatedDisk(directories: ["/sim", "/sim/n2"])
        let store = try await FileLogStore.open(directory: Self.directory, options: testOptions(segmentSize: 1 << 20, fileSystem: disk))
        for index in 1...5 { try await store.append(makeEntries(from: UInt64(index), count: 1, size: 24)) }
        try await store.append(makeEntries(from: 6, count: 8, size: 300))  // spans several sectors
        await store.close()
        var random = SplitMix64(seed: 1)
        let image = disk.imageAfterPowerLoss(&random)
        let path = try #require(segmentPaths(image).last)
        let bytes = try #require(image[path])
        let last = try #require(frames(of: bytes).last)
        let sector = (last.offset / TornTailClassifier.sectorSize + 2) * TornTailClassifier.sectorSize
        try #require(sector + TornTailClassifier.sectorSize < bytes.count)

        var zeroSector = bytes
        for offset in sector..<(sector + TornTailClassifier.sectorSize) { zeroSector[offset] = 0 }
        var torn = image
        torn[path] = zeroSector
        let cut = try await verdicts(torn)
        #expect(cut.opened?.lastIndex == 5, "a zeroed sector alone is a torn write: \(cut.refused.map { "\($0)" } ?? "")")

        var followed = image
        followed[path] = zeroSector + [0xAB, 0xCD, 0xEF]
        try await expectRefused(followed, path: path, offset: last.offset, "zeroed sector, then data after the frame")
    }
}

/// The classifier alone, on bytes built by hand.
@Suite("Torn tail classifier")
struct TornTailClassifierTests {
    /// A segment image: header (salt 7), one small batch, then `last` as the final frame.
    private func segment(lastFrame: [WALRecord]) -> (bytes: [UInt8], lastOffset: Int) {
        let head = WALEncoder.segmentHeaderFrame(sequence: 1, salt: 7) + WALEncoder.batchFrame([.hardState(Raft.HardState(term: 1))], salt: 7)
        return (head + WALEncoder.batchFrame(lastFrame, salt: 7), head.count)
    }

    private func classify(_ bytes: [UInt8], at offset: Int) -> TornTailClassifier.Verdict {
        bytes.withUnsafeBytes { TornTailClassifier.classify($0, badFrameAt: offset, problem: "test", salt: 7) }
    }

    private func isTorn(_ verdict: TornTailClassifier.Verdict) -> Bool {
        if case .torn = verdict { return true }
        return false
    }

    @Test("a length field changed either way in a complete last frame is recognised by repairing the header")
    func repairedLength() {
        let (bytes, offset) = segment(lastFrame: [.hardState(Raft.HardState(term: 2, vote: "n3", commit: 1))])
        for delta in [1, 8, 200, 1 << 20, -1, -4] {
            var damaged = bytes
            let length = Int(damaged[offset]) + Int(damaged[offset + 1]) << 8
            let changed = UInt32(max(0, length + delta))
            withUnsafeBytes(of: changed.littleEndian) { damaged.replaceSubrange(offset..<(offset + 4), with: $0) }
            #expect(!isTorn(classify(damaged, at: offset)), "length \(length) → \(changed)")
        }
    }

    @Test("a short run of legitimate zeros at the end of a frame does not pass for an unwritten sector")
    func shortZeroPieceIsNotEvidence() throws {
        // One entry whose data ends in 40 zero bytes, sized so that the frame ends 20 bytes into
        // a sector: that last piece is all zero although it was written.
        let probe = segment(lastFrame: [.entries([Raft.Entry(term: 1, index: 1, kind: .normal, data: [])])])
        let emptyEnd = probe.bytes.count
        let target = (emptyEnd / TornTailClassifier.sectorSize + 2) * TornTailClassifier.sectorSize + 20
        let data = [UInt8](repeating: 0x5A, count: target - emptyEnd - 40) + [UInt8](repeating: 0, count: 40)
        let (bytes, offset) = segment(lastFrame: [.entries([Raft.Entry(term: 1, index: 1, kind: .normal, data: data)])])
        try #require(bytes.count == target)
        // Flip a bit of the stored checksum: the frame is complete and was written whole.
        var damaged = bytes
        damaged[offset + 8] ^= 0x10
        #expect(!isTorn(classify(damaged, at: offset)))
        // The same frame with a whole sector never written is torn.
        var torn = bytes
        let sector = (offset / TornTailClassifier.sectorSize + 1) * TornTailClassifier.sectorSize
        for index in sector..<(sector + TornTailClassifier.sectorSize) { torn[index] = 0 }
        #expect(isTorn(classify(torn, at: offset)))
    }

    @Test("a zeroed frame header with the rest of the frame written is a torn write (its first sector never reached the disk)")
    func zeroHeader() {
        let (bytes, offset) = segment(lastFrame: [.entries(makeEntries(from: 1, count: 4, size: 300))])
        var torn = bytes
        let sectorEnd = (offset / TornTailClassifier.sectorSize + 1) * TornTailClassifier.sectorSize
        for index in offset..<sectorEnd { torn[index] = 0 }
        #expect(isTorn(classify(torn, at: offset)))
    }
}
