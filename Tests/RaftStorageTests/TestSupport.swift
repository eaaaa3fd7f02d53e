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
