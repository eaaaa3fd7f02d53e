import DeterministicRandom
import Foundation
import RaftCore
import Testing

@testable import RaftStorage

/// Issue #18: a restore reads the image from the snapshot file in windows, after a streamed pass
/// over the file that checks its CRC32C: a damaged file is refused before anything is decoded.
@Suite("Snapshot file verified in pieces")
struct SnapshotFileVerifyTests {
    /// A store holding one snapshot whose image spans several verify pieces.
    private func saved(_ directory: String) async throws -> (path: String, image: [UInt8]) {
        let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 4_096))
        try await store.append(makeEntries(from: 1, count: 20))
        try await store.setHardState(Raft.HardState(term: 1, vote: "n1", commit: 20))
        let image = (0..<(SnapshotFileReader.verifyPieceBytes * 2 + 1_234)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try await store.saveSnapshot(RaftSnapshot(index: 10, term: 1, dataPrefix: [1, 2], data: image))
        await store.close()
        return (directory + "/" + SnapshotFile.name(index: 10, term: 1), image)
    }

    private func verify(_ path: String) -> StorageError? {
        do throws(StorageError) {
            try SnapshotFileReader(path: path, index: 10, term: 1).verify()
            return nil
        } catch {
            return error
        }
    }

    @Test("an intact file verifies; a flipped bit, a cut or an extra byte is damage, as the whole-file decode says")
    func damageRefused() async throws {
        try await withTemporaryDirectory { directory in
            let (path, _) = try await saved(directory)
            #expect(verify(path) == nil)
            let good = try readBytes(path)
            var random = SplitMix64(seed: 18)
            print("seed 18")
            var damaged: [[UInt8]] = [Array(good.dropLast()), Array(good.dropLast(5_000)), good + [0]]
            for _ in 0..<5 {
                var flipped = good
                let position = SnapshotFile.headerSize + Int(random.next() % UInt64(good.count - SnapshotFile.headerSize))
                flipped[position] ^= UInt8(1) << (random.next() % 8)
                damaged.append(flipped)
            }
            for bytes in damaged {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                guard case .failure = SnapshotFile.decode(bytes) else {
                    Issue.record("the whole-file decode took a damaged file")
                    continue
                }
                #expect(verify(path)?.code == .damaged, "a damaged file of \(bytes.count) bytes verified")
            }
        }
    }
}
