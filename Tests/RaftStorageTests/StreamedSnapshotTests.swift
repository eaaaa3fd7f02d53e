import Foundation
import RaftCore
import Testing

@testable import RaftStorage

/// Issue #18, "Memory": a snapshot is written from the caller's buffers without a copy of the
/// image, and the file store does not keep the data in memory after a save.
@Suite("Snapshots streamed to disk")
struct StreamedSnapshotTests {
    private func store(_ directory: String) async throws -> FileLogStore {
        let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 4_096))
        try await store.append(makeEntries(from: 1, count: 20))
        try await store.setHardState(Raft.HardState(term: 1, vote: "n1", commit: 20))
        return store
    }

    @Test("a prefix and data are written as one file in the version-1 layout, byte for byte")
    func prefixedFileIsTheOldLayout() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await store(directory)
            let image = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let prefixed = RaftSnapshot(index: 10, term: 1, dataPrefix: [9, 8, 7], data: image)
            try await store.saveSnapshot(prefixed)
            await store.close()
            let file = try readBytes(directory + "/" + SnapshotFile.name(index: 10, term: 1))
            // What a build without prefixes writes for the same stored bytes (and reads back).
            #expect(file == SnapshotFile.encode(RaftSnapshot(index: 10, term: 1, data: [9, 8, 7] + image)))
            let decoded = try SnapshotFile.decode(file).get()
            #expect(decoded.data == [9, 8, 7] + image)
            #expect(decoded.dataPrefix.isEmpty)
        }
    }

    @Test("after a save the store holds no data in memory but reads the snapshot back from its file")
    func dataReadBackFromTheFile() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await store(directory)
            let saved = RaftSnapshot(index: 12, term: 1, dataPrefix: [1, 2], data: [3, 4, 5])
            try await store.saveSnapshot(saved)
            let read = try #require(store.snapshot)
            #expect(read == saved)
            #expect(read.data == [1, 2, 3, 4, 5])
            // The file is gone: the store says so (nil, logged) instead of trapping or inventing data.
            try FileManager.default.removeItem(atPath: directory + "/" + SnapshotFile.name(index: 12, term: 1))
            #expect(store.snapshot == nil)
            await store.close()
        }
    }

    @Test("a snapshot reader reads the stored data in pieces from the file, and keeps reading after a newer snapshot deleted it")
    func readerOutlivesItsFile() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await store(directory)
            let image = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try await store.saveSnapshot(RaftSnapshot(index: 10, term: 1, dataPrefix: [1, 2, 3], data: image))
            let reader = try #require(store.openSnapshotReader())
            #expect(reader is SnapshotFileReader)
            #expect(reader.index == 10 && reader.term == 1 && reader.count == 3 + image.count)
            #expect(try reader.read(offset: 0, length: 5) == [1, 2, 3] + image[0..<2])
            try await store.saveSnapshot(RaftSnapshot(index: 15, term: 1, data: [42]))
            #expect(try snapshotFiles(in: directory).count == 1, "the older file was not deleted: nothing is pinned by name")
            var pieces: [UInt8] = []
            var offset = 0
            while offset < reader.count {
                pieces += try reader.read(offset: offset, length: 4_096)
                offset += 4_096
            }
            #expect(pieces == [1, 2, 3] + image)
            #expect(try reader.read(offset: reader.count + 10, length: 4).isEmpty)
            #expect(store.openSnapshotReader()?.index == 15)
            await store.close()
        }
    }

    @Test("the in-memory store keeps the stored bytes as one array")
    func inMemoryStoreJoinsThePrefix() async throws {
        let store = InMemoryLogStore()
        _ = try await store.persist(hardState: Raft.HardState(term: 1, vote: nil, commit: 5), entries: makeEntries(from: 1, count: 5))
        try await store.saveSnapshot(RaftSnapshot(index: 3, term: 1, dataPrefix: [7], data: [8, 9]))
        #expect(store.snapshot?.data == [7, 8, 9])
        #expect(store.snapshot?.dataPrefix == [])
    }

    @Test("snapshots are equal by their stored bytes, wherever the prefix ends")
    func equalityIgnoresTheSplit() {
        let a = RaftSnapshot(index: 4, term: 2, dataPrefix: [1, 2], data: [3])
        let b = RaftSnapshot(index: 4, term: 2, data: [1, 2, 3])
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != RaftSnapshot(index: 4, term: 2, data: [1, 2, 4]))
        #expect(a != RaftSnapshot(index: 4, term: 2, data: [1, 2]))
    }
}
