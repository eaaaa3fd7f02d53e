import Foundation
import RaftCore
import RaftStorage
import Testing

@Suite("quorum wal inspect")
struct WALCommandTests {
    /// A data directory holding a WAL with `count` entries in term 1.
    private func makeWAL(count: Int) async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-wal-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try await FileLogStore.open(directory: directory)
        let entries = (1...count).map {
            Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(UInt64($0)), data: Array("entry \($0)".utf8))
        }
        // One write per entry, so every entry is its own record and damage can sit before the tail.
        for entry in entries {
            _ = try await store.persist(hardState: nil, entries: [entry])
        }
        _ = try await store.persist(hardState: Raft.HardState(term: Raft.Term(1), vote: "n1", commit: Raft.LogIndex(2)), entries: [])
        await store.close()
        return directory
    }

    @Test("an intact WAL is described and exits 0")
    func intact() async throws {
        let directory = try await makeWAL(count: 5)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try QuorumBinary.run(["wal", "inspect", directory])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("term 1, vote n1, commit 2"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("every checksum verified"))
    }

    @Test("damage before the tail exits 1 naming the file")
    func damaged() async throws {
        let directory = try await makeWAL(count: 50)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        let segment = try #require(files.first { $0.hasSuffix(".wal") }, "no segment in \(files)")
        let path = "\(directory)/\(segment)"
        var bytes = try #require(FileManager.default.contents(atPath: path))
        bytes[bytes.count / 3] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        let result = try QuorumBinary.run(["wal", "inspect", directory])
        #expect(result.exitCode == 1)
        #expect(result.standardOutput.contains(segment), "\(result.standardOutput)")
        #expect(result.standardError.contains("damage found"))
    }

    @Test("a path that is not a directory exits 2")
    func notADirectory() throws {
        let result = try QuorumBinary.run(["wal", "inspect", "/nonexistent/data/n1"])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("not a directory"))
    }
}
