import Foundation
import Logging
@testable import Node
import RaftCore
import RaftStorage
import Testing

/// Issue #18: after a restart the driver hands the state machine the image in the snapshot file
/// (verified first, read in pieces), never the image read whole; a damaged file is refused.
@Suite("The recovered snapshot restored from its file", .timeLimit(.minutes(1)))
struct RestoreFromFileTests {
    private struct NoNetwork: PeerMessenger {
        func send(_ message: Raft.Message) {}
    }

    /// Reads the image it restores in 64 KiB pieces and keeps what it read.
    private actor PieceReadingStateMachine: ReplicatedStateMachine {
        var restored: (image: [UInt8], index: Raft.LogIndex, largestRead: Int)?
        func apply(_ entries: [Raft.Entry]) async {}
        func snapshot() async -> [UInt8] { [] }
        func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws {
            Issue.record("the driver handed the image whole")
        }
        func restore(from image: any SnapshotImage, through index: Raft.LogIndex) async throws {
            var bytes: [UInt8] = []
            var largest = 0
            while bytes.count < image.count {
                let piece = try image.read(offset: bytes.count, length: 65_536)
                largest = max(largest, piece.count)
                bytes += piece
            }
            restored = (bytes, index, largest)
        }
    }

    private let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func driver(_ store: any RaftLogStore, _ stateMachine: any ReplicatedStateMachine) throws -> RaftDriver {
        try RaftDriver(config: Raft.Config(id: "n1"), bootstrapMembership: Raft.Membership(voters: ["n1"]), store: store,
                       stateMachine: stateMachine, messenger: NoNetwork(), options: RaftDriver.Options(tickInterval: .milliseconds(2)),
                       logger: logger, seed: 1)
    }

    /// A reopened file store holding a snapshot through index 3 with `image`; returns its file too.
    private func reopenedStore(in directory: String, image: [UInt8]) async throws -> (FileLogStore, String) {
        let store = try await FileLogStore.open(directory: directory)
        let entries = [UInt64(1), 2, 3].map { (i: UInt64) -> Raft.Entry in Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(i)) }
        _ = try await store.persist(hardState: Raft.HardState(term: Raft.Term(1), vote: "n1", commit: Raft.LogIndex(3)), entries: entries)
        let metadata = Raft.SnapshotMetadata(index: Raft.LogIndex(3), term: Raft.Term(1), membership: Raft.Membership(voters: ["n1"]))
        try await store.saveSnapshot(SnapshotEnvelope.storeSnapshot(Raft.Snapshot(metadata: metadata, data: image)))
        await store.close()
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasSuffix(".snap") })
        return (try await FileLogStore.open(directory: directory), directory + "/" + file)
    }

    private func withDirectory(_ body: (String) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("restore-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try await body(root.path)
    }

    @Test("a restarted driver restores the state machine from the file in pieces")
    func restoredInPieces() async throws {
        try await withDirectory { directory in
            let image = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 17) }
            let (store, _) = try await reopenedStore(in: directory, image: image)
            let stateMachine = PieceReadingStateMachine()
            let driver = try driver(store, stateMachine)
            let run = Task { try await driver.run() }
            defer { run.cancel() }
            try await waitUntil("the snapshot restored") { await stateMachine.restored != nil }
            let restored = try #require(await stateMachine.restored)
            #expect(restored.image == image)
            #expect(restored.index == Raft.LogIndex(3))
            #expect(restored.largestRead == 65_536)
        }
    }

    @Test("a snapshot file damaged after the store opened it is refused before the state machine sees it")
    func damagedFileRefused() async throws {
        try await withDirectory { directory in
            let (store, path) = try await reopenedStore(in: directory, image: [UInt8](repeating: 5, count: 100_000))
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            bytes[bytes.count / 2] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let stateMachine = PieceReadingStateMachine()
            let failure = #expect(throws: RaftDriverFailure.self) { _ = try driver(store, stateMachine) }
            #expect(failure?.message.contains("checksum mismatch") == true)
            #expect(await stateMachine.restored?.index == nil)
            await store.close()
        }
    }
}
