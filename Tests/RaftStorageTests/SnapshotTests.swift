import Foundation
import RaftCore
import Testing

@testable import RaftStorage

@Suite("Snapshots on disk")
struct SnapshotTests {
    @Test("older segments and snapshots are deleted only once the newer snapshot is durable")
    func deletesObsoleteFiles() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            let segmentsBefore = try segmentFiles(in: directory).count
            try await store.saveSnapshot(RaftSnapshot(index: 30, term: 1, data: [30]))
            try await store.saveSnapshot(RaftSnapshot(index: 60, term: 1, data: [60]))
            #expect(try snapshotFiles(in: directory) == [SnapshotFile.name(index: 60, term: 1)])
            #expect(try segmentFiles(in: directory).count < segmentsBefore)
            await store.close()

            let reopened = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400))
            #expect(reopened.snapshot == RaftSnapshot(index: 60, term: 1, data: [60]))
            #expect(reopened.hardState == Raft.HardState(term: 1, vote: "n1", commit: 100))
            #expect(try reopened.entries(from: 61, through: 100) == makeEntries(from: 61, count: 40))
            await reopened.close()
        }
    }

    @Test("the newest valid snapshot wins; a damaged newer file without a WAL marker is skipped")
    func newestValidWins() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            try await store.saveSnapshot(RaftSnapshot(index: 40, term: 1, data: [40]))
            await store.close()
            var garbled = SnapshotFile.encode(RaftSnapshot(index: 90, term: 1, data: [90, 90]))
            garbled[SnapshotFile.headerSize] ^= 0xFF
            try writeBytes(garbled, to: directory + "/" + SnapshotFile.name(index: 90, term: 1))

            let reopened = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400))
            #expect(reopened.snapshot?.index == 40)
            #expect(reopened.lastIndex == 100)
            await reopened.close()
            let report = try WALInspector.inspect(directory: directory)
            #expect(!report.isDamaged)
            #expect(report.snapshots.first?.problem != nil)
            #expect(report.snapshotInUse == SnapshotFile.name(index: 40, term: 1))
        }
    }

    @Test("a damaged snapshot that the WAL marks as taken stops the open")
    func damagedSnapshotInUse() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            try await store.saveSnapshot(RaftSnapshot(index: 60, term: 1, data: [60]))
            await store.close()
            let path = directory + "/" + SnapshotFile.name(index: 60, term: 1)
            var bytes = try readBytes(path)
            bytes[bytes.count - 5] ^= 0x04
            try writeBytes(bytes, to: path)
            let error = await #expect(throws: StorageError.self) {
                try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400))
            }
            #expect(error?.code == .damaged)
            #expect(error?.message.contains("snapshot at index 60") == true)
        }
    }

    @Test("a crash after the snapshot is durable but before its WAL marker keeps the snapshot")
    func crashBeforeMarker() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            await store.close()
            try writeBytes(SnapshotFile.encode(RaftSnapshot(index: 80, term: 1, data: [80])), to: directory + "/" + SnapshotFile.name(index: 80, term: 1))
            let reopened = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400))
            #expect(reopened.firstIndex == 81)
            #expect(try reopened.entries(from: 81, through: 100) == makeEntries(from: 81, count: 20))
            await reopened.close()
        }
    }

    @Test("§7 a leader's snapshot whose term the log contradicts discards the log, also when recovered without its marker")
    func conflictingSnapshotWithoutMarker() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await filledStore(directory)
            await store.close()
            try writeBytes(SnapshotFile.encode(RaftSnapshot(index: 50, term: 5, data: [])), to: directory + "/" + SnapshotFile.name(index: 50, term: 5))
            let reopened = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400))
            #expect(reopened.lastIndex == 50)
            #expect(reopened.term(at: 50) == 5)
            #expect(try await reopened.append(makeEntries(from: 51, count: 1, term: 5)) == 51)
            await reopened.close()
        }
    }
}

@Suite("Crash points")
struct CrashPointTests {
    @Test("a crash at every step of saving a snapshot recovers the old or the new snapshot and every acknowledged entry")
    func crashDuringSnapshot() async throws {
        try await withTemporaryDirectory { directory in
            let crashPoints = try await expectOldOrNewAfterEveryCrashPoint(
                in: directory, old: RaftSnapshot(index: 30, term: 1, data: [30]), new: RaftSnapshot(index: 60, term: 1, data: [60])
            ) { store in
                try await store.saveSnapshot(RaftSnapshot(index: 60, term: 1, data: [60]))
            }
            #expect(crashPoints > 5)
        }
    }
}
