import Foundation
import Logging
import RaftCore
import Testing

@testable import RaftStorage

/// A fresh temporary directory, removed when the value is dropped by `withTemporaryDirectory`.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("raftstorage-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// `count` entries from `start` in `term`, each with a payload derived from its index.
func makeEntries(from start: UInt64, count: Int, term: UInt64 = 1, size: Int = 16) -> [Raft.Entry] {
    (0..<count).map { offset in
        let index = start + UInt64(offset)
        return Raft.Entry(
            term: Raft.Term(term), index: Raft.LogIndex(index), kind: .normal,
            data: (0..<size).map { UInt8(truncatingIfNeeded: index &* 31 &+ UInt64($0) &+ term) })
    }
}

/// The segment files of a data directory, oldest first.
func segmentFiles(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".wal") }.sorted()
        .map { directory + "/" + $0 }
}

/// The snapshot files of a data directory.
func snapshotFiles(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".snap") }.sorted()
}

/// Reads a whole file.
func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Replaces a file's content.
func writeBytes(_ bytes: [UInt8], to path: String) throws {
    // Plain POSIX calls: Foundation's `Data.write` is slow enough to dominate the torn-tail test.
    let files = POSIXFileSystem()
    let file = try files.openForAppend(path, create: true)
    try files.truncate(file, to: 0)
    try files.write(file, bytes)
    try files.close(file)
}

/// A store with 100 entries of term 1 in many small segments (400 bytes) and a hard state
/// committing them.
func filledStore(_ directory: String, fileSystem: any WALFileSystem = POSIXFileSystem()) async throws -> FileLogStore {
    let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400, fileSystem: fileSystem))
    for start in stride(from: 1, through: 91, by: 10) {
        try await store.append(makeEntries(from: UInt64(start), count: 10))
    }
    try await store.setHardState(Raft.HardState(term: 1, vote: "n1", commit: 100))
    return store
}

/// Crashes `save` (a snapshot save on a ``filledStore(_:fileSystem:)`` holding `old`) after every
/// number of file-system steps in turn, until a save completes without a crash. After each, a
/// reopened store must hold `old` or `new`, the hard state and every entry. Returns the number of
/// crash points tried.
func expectOldOrNewAfterEveryCrashPoint(in directory: String, old: RaftSnapshot, new: RaftSnapshot,
                                        save: (FileLogStore) async throws -> Void) async throws -> Int {
    var crashPoint = 0
    var completedWithoutCrash = false
    while !completedWithoutCrash {
        try? FileManager.default.removeItem(atPath: directory)
        let files = FaultInjectingFileSystem(skipSyncs: true)
        let store = try await filledStore(directory, fileSystem: files)
        try await store.saveSnapshot(old)
        files.faults.withLock { $0.operationsBeforeCrash = crashPoint }
        do {
            try await save(store)
            completedWithoutCrash = files.faults.withLock { ($0.operationsBeforeCrash ?? 0) >= 0 }
        } catch {
            // The simulated crash; what is on disk now is what a restart finds.
        }
        await store.close()

        let reopened = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 400))
        let snapshot = reopened.snapshot
        #expect(snapshot == old || snapshot == new, "crash point \(crashPoint)")
        #expect(reopened.hardState == Raft.HardState(term: 1, vote: "n1", commit: 100), "crash point \(crashPoint)")
        #expect(reopened.lastIndex == 100, "crash point \(crashPoint)")
        let first = reopened.firstIndex.rawValue
        #expect(try reopened.entries(from: reopened.firstIndex, through: 100) == makeEntries(from: first, count: Int(101 - first)),
                "crash point \(crashPoint)")
        await reopened.close()
        crashPoint += 1
        try #require(crashPoint < 100, "the snapshot was never saved")
    }
    return crashPoint
}

/// Options with small segments so tests roll often, and no log output.
func testOptions(segmentSize: Int = 4096, fileSystem: any WALFileSystem = POSIXFileSystem()) -> FileLogStore.Options {
    FileLogStore.Options(
        segmentSize: segmentSize, fileSystem: fileSystem,
        logger: Logger(label: "test.wal", factory: { _ in SwiftLogNoOpLogHandler() }))
}


// Integer literals for indexes and terms keep the tests readable (tests only).
extension Raft.LogIndex: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: UInt64) { self.init(value) }
}

extension Raft.Term: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: UInt64) { self.init(value) }
}
