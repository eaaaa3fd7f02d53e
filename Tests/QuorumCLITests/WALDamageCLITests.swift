import Foundation
import RaftCore
import RaftStorage
import Testing

/// Issue #10 as a user meets it: one bit flipped in the header of a stopped node's newest WAL
/// segment. `quorum wal inspect` must call it damage and `quorum node` must refuse to start,
/// both naming the file and the byte offset, and neither may change the file.
@Suite("WAL damage from the command line")
struct WALDamageCLITests {
    /// A scratch directory holding `c.toml` (cluster/local-3.toml with absolute paths into the
    /// scratch directory) and dev certificates from `quorum certs init`.
    private func makeClusterDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-wal-damage-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let shipped = try String(contentsOfFile: "\(QuorumBinary.repoRoot)/cluster/local-3.toml", encoding: .utf8)
        let config = shipped
            .replacingOccurrences(of: "\"data/{id}\"", with: "\"\(directory)/data/{id}\"")
            .replacingOccurrences(of: "\"certs/", with: "\"\(directory)/certs/")
        try config.write(toFile: "\(directory)/c.toml", atomically: true, encoding: .utf8)
        let certs = try QuorumBinary.run(["certs", "init", "--config", "\(directory)/c.toml", "--out", "\(directory)/certs"])
        guard certs.exitCode == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "quorum certs init: \(certs.standardError)"])
        }
        return directory
    }

    @Test("a flipped header byte: wal inspect exits 1 and quorum node refuses to start, both naming the file and offset")
    func flippedHeaderByte() async throws {
        let directory = try makeClusterDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let walDirectory = "\(directory)/data/n2/wal"
        let store = try await FileLogStore.open(directory: walDirectory)
        let entries = (1...901).map { Raft.Entry(term: Raft.Term(2), index: Raft.LogIndex(UInt64($0)), data: Array("job \($0)".utf8)) }
        _ = try await store.persist(hardState: nil, entries: Array(entries[0..<450]))
        _ = try await store.persist(hardState: nil, entries: Array(entries[450...]))
        _ = try await store.persist(hardState: Raft.HardState(term: Raft.Term(2), vote: "n1", commit: Raft.LogIndex(901)), entries: [])
        await store.close()

        let segment = "\(walDirectory)/00000000000000000001.wal"
        var bytes = try #require(FileManager.default.contents(atPath: segment))
        bytes[30] ^= 0x08
        try bytes.write(to: URL(fileURLWithPath: segment))

        for given in [walDirectory, "\(directory)/data/n2"] {
            let inspect = try QuorumBinary.run(["wal", "inspect", given])
            #expect(inspect.exitCode == 1, "\(given): \(inspect.standardOutput)\(inspect.standardError)")
            #expect(inspect.standardOutput.contains("DAMAGED: \(segment) is damaged at byte offset 0"), "\(inspect.standardOutput)")
            #expect(!inspect.standardOutput.contains("torn tail:"), "\(inspect.standardOutput)")
            #expect(inspect.standardError.contains("\(segment) at byte offset 0"), "\(inspect.standardError)")
        }

        let node = try await QuorumBinary.runAsync(["node", "--config", "\(directory)/c.toml", "--id", "n2"], deadline: 60)
        #expect(node.exitCode == 1, "\(node.standardError)")
        #expect(node.standardError.contains("could not start"), "\(node.standardError)")
        #expect(node.standardError.contains("\(segment) is damaged at byte offset 0"), "\(node.standardError)")
        #expect(FileManager.default.contents(atPath: segment) == bytes, "the damaged segment was changed")
    }

    @Test("a torn tail is not damage: wal inspect exits 0 and reports it")
    func tornTail() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-wal-torn-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await FileLogStore.open(directory: directory)
        _ = try await store.persist(hardState: nil, entries: [Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(1), data: [1, 2, 3])])
        _ = try await store.persist(hardState: nil, entries: [Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(2), data: [4, 5, 6])])
        await store.close()
        let segment = "\(directory)/00000000000000000001.wal"
        let bytes = try #require(FileManager.default.contents(atPath: segment))
        try bytes.dropLast(5).write(to: URL(fileURLWithPath: segment))

        let inspect = try QuorumBinary.run(["wal", "inspect", directory])
        #expect(inspect.exitCode == 0, "\(inspect.standardOutput)\(inspect.standardError)")
        #expect(inspect.standardOutput.contains("torn tail: 00000000000000000001.wal"), "\(inspect.standardOutput)")
        #expect(inspect.standardOutput.contains("log: entries 1...1"), "\(inspect.standardOutput)")
    }
}
