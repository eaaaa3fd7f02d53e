import DeterministicRandom
import Foundation
import RaftCore
import Testing

@testable import RaftStorage

/// Issue #18: a snapshot's data is written to its file piece by piece as it is encoded (a
/// ``SnapshotDraft``), so the image is never held whole; the file is the version-1 layout, byte
/// for byte, and keeps every crash-safety and damage rule.
@Suite("Snapshot drafts")
struct SnapshotDraftTests {
    private static func image(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &random) }
    }

    private static func write(_ pieces: [[UInt8]], to draft: any SnapshotDraft) throws {
        for piece in pieces { try draft.write(piece) }
        try draft.seal()
    }

    @Test("a draft written in pieces is the version-1 file of its bytes, byte for byte, and reads back after a reopen")
    func roundTrip() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            let data = Self.image(300_000, seed: 1)
            let draft = try store.beginSnapshot(index: 60, term: 1)
            try Self.write([[1, 2, 3], Array(data[..<100_000]), [], Array(data[100_000...])], to: draft)
            #expect(draft.count == 3 + data.count)
            #expect(try snapshotFiles(in: directory).isEmpty, "a draft is not a snapshot before it is saved")
            try await store.saveSnapshot(draft)
            #expect(store.snapshot == RaftSnapshot(index: 60, term: 1, data: [1, 2, 3] + data))
            await store.close()

            let file = try readBytes(directory + "/" + SnapshotFile.name(index: 60, term: 1))
            #expect(file == SnapshotFile.encode(RaftSnapshot(index: 60, term: 1, data: [1, 2, 3] + data)))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.hasSuffix(".tmp") })
            let reopened = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400))
            #expect(reopened.snapshot == RaftSnapshot(index: 60, term: 1, data: [1, 2, 3] + data))
            #expect(try reopened.entries(from: 61, through: 100) == makeEntries(from: 61, count: 40))
            #expect(reopened.openSnapshotReader()?.count == 3 + data.count)
            await reopened.close()
        }
    }

    @Test("log writes go on while a draft is written; an empty draft saves an empty snapshot")
    func writesGoOnMeanwhile() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            let draft = try store.beginSnapshot(index: 50, term: 1)
            try draft.write([5])
            try await store.append(makeEntries(from: 101, count: 10))
            try draft.seal()
            try await store.saveSnapshot(draft)
            #expect(store.snapshot?.data == [5])
            #expect(store.lastIndex == 110)
            let empty = try store.beginSnapshot(index: 70, term: 1)
            try empty.seal()
            try await store.saveSnapshot(empty)
            #expect(store.snapshot == RaftSnapshot(index: 70, term: 1, data: []))
            await store.close()
        }
    }

    @Test("a flipped bit anywhere in a streamed file, or the file cut short, is refused", arguments: [UInt64(1), 2, 3])
    func damageDetected(seed: UInt64) async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            let draft = try store.beginSnapshot(index: 60, term: 1)
            try Self.write([[9], Self.image(5_000, seed: seed)], to: draft)
            try await store.saveSnapshot(draft)
            await store.close()
            let file = try readBytes(directory + "/" + SnapshotFile.name(index: 60, term: 1))
            #expect((try? SnapshotFile.decode(file).get()) != nil)
            var random = SplitMix64(seed: seed)
            for _ in 0..<200 {
                var flipped = file
                let bit = Int.random(in: 0..<(file.count * 8), using: &random)
                flipped[bit / 8] ^= UInt8(1 << (bit % 8))
                #expect((try? SnapshotFile.decode(flipped).get()) == nil, "seed \(seed) bit \(bit)")
                let cut = Int.random(in: 0..<file.count, using: &random)
                #expect((try? SnapshotFile.decode(Array(file[..<cut])).get()) == nil, "seed \(seed) cut at \(cut)")
            }
            // The store refuses it too: the WAL marks this snapshot as taken, so the open stops.
            var flipped = file
            flipped[file.count / 2] ^= 0x10
            try writeBytes(flipped, to: directory + "/" + SnapshotFile.name(index: 60, term: 1))
            await #expect(throws: StorageError.self) {
                _ = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400))
            }
        }
    }

    @Test("a file written by the one-buffer encoder (builds before drafts) still loads")
    func olderFileLoads() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            try await store.saveSnapshot(RaftSnapshot(index: 30, term: 1, data: [30]))
            await store.close()
            // Overwrite it with the bytes the old writer produced for a larger snapshot of the same name.
            let old = RaftSnapshot(index: 30, term: 1, data: Self.image(10_000, seed: 4))
            try writeBytes(SnapshotFile.encode(old), to: directory + "/" + SnapshotFile.name(index: 30, term: 1))
            let reopened = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400))
            #expect(reopened.snapshot == old)
            await reopened.close()
        }
    }

    @Test("a crash between a draft's writes and its rename leaves the old snapshot valid and the temporary file is deleted")
    func crashBeforeRename() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            try await store.saveSnapshot(RaftSnapshot(index: 30, term: 1, data: [30]))
            let sealed = try store.beginSnapshot(index: 60, term: 1)
            try Self.write([Self.image(20_000, seed: 5)], to: sealed)
            let unsealed = try store.beginSnapshot(index: 61, term: 1)
            try unsealed.write([1, 2, 3])
            // The process dies here: neither draft is saved.
            await store.close()
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".tmp") }.count == 2)

            let reopened = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400))
            #expect(reopened.snapshot == RaftSnapshot(index: 30, term: 1, data: [30]))
            #expect(try reopened.entries(from: 31, through: 100) == makeEntries(from: 31, count: 70))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.hasSuffix(".tmp") })
            await reopened.close()
        }
    }

    @Test("a crash at every step of writing and saving a draft recovers the old or the new snapshot and every entry")
    func crashAtEveryStep() async throws {
        try await withTemporaryDirectory { directory in
            let data = Self.image(3_000, seed: 6)
            let crashPoints = try await expectOldOrNewAfterEveryCrashPoint(
                in: directory, old: RaftSnapshot(index: 30, term: 1, data: [30]), new: RaftSnapshot(index: 60, term: 1, data: data)
            ) { store in
                let draft = try store.beginSnapshot(index: 60, term: 1)
                try Self.write([Array(data[..<1_000]), Array(data[1_000...])], to: draft)
                try await store.saveSnapshot(draft)
            }
            #expect(crashPoints > 8)
        }
    }

    @Test("a draft overtaken by a newer snapshot is refused as invalid and its file deleted")
    func overtakenDraft() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            let draft = try store.beginSnapshot(index: 40, term: 1)
            try Self.write([[40]], to: draft)
            try await store.saveSnapshot(RaftSnapshot(index: 50, term: 1, data: [50]))
            await #expect(throws: StorageError.self) { try await store.saveSnapshot(draft) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.hasSuffix(".tmp") })
            #expect(store.snapshot?.index == 50)
            await store.close()
        }
    }

    @Test("the in-memory store saves a draft as the snapshot of its bytes")
    func inMemoryDraft() async throws {
        let store = InMemoryLogStore()
        _ = try await store.persist(hardState: Raft.HardState(term: 1, vote: nil, commit: 5), entries: makeEntries(from: 1, count: 5))
        let draft = try store.beginSnapshot(index: 3, term: 1)
        try Self.write([[7], [8, 9]], to: draft)
        try await store.saveSnapshot(draft)
        #expect(store.snapshot == RaftSnapshot(index: 3, term: 1, data: [7, 8, 9]))
    }
}
