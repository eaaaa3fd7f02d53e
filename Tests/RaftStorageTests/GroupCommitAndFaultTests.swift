import Dispatch
import Foundation
import RaftCore
import Synchronization
import Testing

@testable import RaftStorage

#if canImport(Glibc)
import Glibc
#endif

/// Collects completions of callback-style writes.
final class Acknowledgements: Sendable {
    struct Ack: Sendable {
        var result: Result<Raft.LogIndex, StorageError>
        /// How many data syncs had finished when the write was acknowledged.
        var syncsFinished: Int
    }

    let acks = Mutex<[Ack]>([])

    var count: Int { acks.withLock { $0.count } }
}

/// The next index to propose, shared by concurrent proposers.
final class NextIndex: Sendable {
    let value = Mutex<UInt64>(1)
}

@Suite("Group commit and failures")
struct GroupCommitAndFaultTests {
    @Test("one sync covers every write that arrived while the previous sync ran; none is acknowledged before its sync")
    func groupCommit() async throws {
        try await withTemporaryDirectory { directory in
            let files = FaultInjectingFileSystem()
            let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 1 << 20, fileSystem: files))
            let gate = DispatchSemaphore(value: 0)
            files.gate.withLock { $0 = gate }
            let syncsBefore = files.counters.withLock { $0.syncData }
            let acknowledgements = Acknowledgements()
            let callback: FileLogStore.Completion = { result in
                let finished = files.counters.withLock { $0.syncData }
                acknowledgements.acks.withLock { $0.append(.init(result: result, syncsFinished: finished)) }
            }
            store.persist(hardState: nil, entries: makeEntries(from: 1, count: 1), completion: callback)
            #expect(await waitUntil { files.counters.withLock { $0.syncDataStarted } > 0 })
            for index in 2...200 {
                store.persist(hardState: nil, entries: makeEntries(from: UInt64(index), count: 1), completion: callback)
            }
            #expect(acknowledgements.count == 0, "a write was acknowledged while its sync was held")
            files.gate.withLock { $0 = nil }
            gate.signal()
            #expect(await waitUntil { acknowledgements.count == 200 })
            let acks = acknowledgements.acks.withLock { $0 }
            #expect(acks.allSatisfy { (try? $0.result.get()) != nil })
            #expect(acks.allSatisfy { $0.syncsFinished > syncsBefore })
            #expect(acks.dropFirst().allSatisfy { $0.syncsFinished >= syncsBefore + 2 })
            #expect(files.counters.withLock { $0.syncData } - syncsBefore == 2)
            #expect(store.statistics.commits == 2)
            #expect(store.lastIndex == 200)
            await store.close()
        }
    }

    @Test("concurrent proposers all get their index, in order, with fewer syncs than writes")
    func concurrentProposers() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 1 << 20))
            let next = NextIndex()
            try await withThrowingTaskGroup(of: Raft.LogIndex.self) { group in
                for _ in 0..<64 {
                    group.addTask {
                        let result: Result<Raft.LogIndex, StorageError> = await withCheckedContinuation { continuation in
                            next.value.withLock { index in
                                store.persist(hardState: nil, entries: makeEntries(from: index, count: 1)) { continuation.resume(returning: $0) }
                                index += 1
                            }
                        }
                        return try result.get()
                    }
                }
                var seen: Set<Raft.LogIndex> = []
                for try await index in group { seen.insert(index) }
                #expect(seen == Set((1...64).map { Raft.LogIndex($0) }))
            }
            #expect(try store.entries(from: 1, through: 64) == makeEntries(from: 1, count: 64))
            #expect(store.statistics.commits <= 64)
            await store.close()
        }
    }

    @Test("disk full: the write fails, nothing acknowledged is lost, and writing resumes once space returns")
    func diskFull() async throws {
        try await withTemporaryDirectory { directory in
            let files = FaultInjectingFileSystem()
            let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 1 << 20, fileSystem: files))
            try await store.append(makeEntries(from: 1, count: 10))
            files.faults.withLock { $0.write = ENOSPC }
            let error = await #expect(throws: StorageError.self) { try await store.append(makeEntries(from: 11, count: 5)) }
            #expect(error?.code == .diskFull)
            #expect(error?.errno == ENOSPC)
            #expect(store.lastIndex == 10)
            files.faults.withLock { $0.write = nil }
            #expect(try await store.append(makeEntries(from: 11, count: 5)) == 15)
            await store.close()

            let reopened = try await FileLogStore.open(directory: directory, options: testOptions())
            #expect(try reopened.entries(from: 1, through: 15) == makeEntries(from: 1, count: 15))
            #expect(reopened.lastIndex == 15)
            await reopened.close()
        }
    }

    @Test("disk full while starting a new segment leaves no half-made segment behind")
    func diskFullOnRoll() async throws {
        try await withTemporaryDirectory { directory in
            let files = FaultInjectingFileSystem()
            let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 300, fileSystem: files))
            _ = try await store.persist(hardState: Raft.HardState(term: 1, vote: "n1"), entries: makeEntries(from: 1, count: 5))
            let segmentsBefore = try segmentFiles(in: directory).count
            files.faults.withLock { $0.write = ENOSPC }
            let error = await #expect(throws: StorageError.self) { try await store.append(makeEntries(from: 6, count: 10)) }
            #expect(error?.code == .diskFull)
            #expect(try segmentFiles(in: directory).count == segmentsBefore)
            files.faults.withLock { $0.write = nil }
            #expect(try await store.append(makeEntries(from: 6, count: 10)) == 15)
            await store.close()
            let reopened = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 300))
            #expect(reopened.hardState == Raft.HardState(term: 1, vote: "n1"))
            #expect(try reopened.entries(from: 1, through: 15) == makeEntries(from: 1, count: 15))
            await reopened.close()
        }
    }

    @Test("fsyncgate: EIO on fdatasync stops the store; that write and every later one fail, none is acknowledged")
    func syncFailureIsFatal() async throws {
        try await withTemporaryDirectory { directory in
            let files = FaultInjectingFileSystem()
            let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 1 << 20, fileSystem: files))
            try await store.append(makeEntries(from: 1, count: 5))
            files.faults.withLock { $0.syncData = EIO }
            let error = await #expect(throws: StorageError.self) { try await store.append(makeEntries(from: 6, count: 1)) }
            #expect(error?.code == .fatal)
            #expect(error?.errno == EIO)
            #expect(store.terminalError?.code == .fatal)
            // The sync is never retried: healthy again, the store still refuses.
            files.faults.withLock { $0.syncData = nil }
            let later = await #expect(throws: StorageError.self) { try await store.append(makeEntries(from: 6, count: 1)) }
            #expect(later?.code == .fatal)
            #expect(store.lastIndex == 5)
            await store.close()

            let reopened = try await FileLogStore.open(directory: directory, options: testOptions())
            #expect(reopened.lastIndex >= 5)
            #expect(try reopened.entries(from: 1, through: 5) == makeEntries(from: 1, count: 5))
            await reopened.close()
        }
    }

    @Test("fsyncgate: EIO on a snapshot's fsync stops the store and keeps the old snapshot")
    func snapshotSyncFailureIsFatal() async throws {
        try await withTemporaryDirectory { directory in
            let files = FaultInjectingFileSystem()
            let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 1 << 20, fileSystem: files))
            try await store.append(makeEntries(from: 1, count: 10))
            try await store.saveSnapshot(RaftSnapshot(index: 3, term: 1, data: [3]))
            files.faults.withLock { $0.sync = EIO }
            let error = await #expect(throws: StorageError.self) { try await store.saveSnapshot(RaftSnapshot(index: 8, term: 1, data: [8])) }
            #expect(error?.code == .fatal)
            #expect(store.snapshot?.index == 3)
            let later = await #expect(throws: StorageError.self) { try await store.append(makeEntries(from: 11, count: 1)) }
            #expect(later?.code == .fatal)
            await store.close()

            let reopened = try await FileLogStore.open(directory: directory, options: testOptions())
            #expect(reopened.snapshot?.index == 3)
            #expect(try reopened.entries(from: 4, through: 10) == makeEntries(from: 4, count: 7))
            await reopened.close()
        }
    }
}

@Suite("Write sizes")
struct WriteSizeTests {
    @Test("a group larger than the group limit is split over several frames; all writes succeed in order")
    func largeGroupsSplit() async throws {
        try await withTemporaryDirectory { directory in
            let files = FaultInjectingFileSystem(skipSyncs: true)
            let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 64 << 20, fileSystem: files))
            let gate = DispatchSemaphore(value: 0)
            files.gate.withLock { $0 = gate }
            let acknowledgements = Acknowledgements()
            let callback: FileLogStore.Completion = { result in
                acknowledgements.acks.withLock { $0.append(.init(result: result, syncsFinished: 0)) }
            }
            store.persist(hardState: nil, entries: makeEntries(from: 1, count: 1), completion: callback)
            #expect(await waitUntil { files.counters.withLock { $0.syncDataStarted } > 0 })
            // 40 writes of 1 MiB queue up behind the held sync: more than one 16 MiB group.
            let megabyte = [UInt8](repeating: 7, count: 1 << 20)
            for index in 2...41 {
                store.persist(hardState: nil, entries: [Raft.Entry(term: 1, index: Raft.LogIndex(UInt64(index)), data: megabyte)], completion: callback)
            }
            files.gate.withLock { $0 = nil }
            gate.signal()
            #expect(await waitUntil { acknowledgements.count == 41 })
            #expect(acknowledgements.acks.withLock { $0.map { try? $0.result.get() } } == (1...41).map { Raft.LogIndex($0) })
            #expect(store.statistics.commits >= 4)
            await store.close()
        }
    }
}
