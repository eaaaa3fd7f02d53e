import Logging
@testable import Node
import RaftCore
import RaftStorage
import Testing

@Suite("RaftDriver stops on storage and state-machine failures", .timeLimit(.minutes(1)))
struct DriverFailureTests {
    private struct NoNetwork: PeerMessenger {
        func send(_ message: Raft.Message) {}
    }

    private final class FailingStore: InMemoryBackedLogStore {
        let base = InMemoryLogStore()
        func persist(hardState: Raft.HardState?, entries: [Raft.Entry]) async throws(StorageError) -> Raft.LogIndex {
            throw StorageError(code: .fatal, message: "fdatasync failed (EIO)")
        }
        func saveSnapshot(_ snapshot: RaftSnapshot) async throws(StorageError) { try await base.saveSnapshot(snapshot) }
        func close() async {}
    }

    private actor RefusingStateMachine: ReplicatedStateMachine {
        struct Refused: Error {}
        func apply(_ entries: [Raft.Entry]) async {}
        func snapshot() async -> [UInt8] { [] }
        func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws { throw Refused() }
    }

    private func driver(store: any RaftLogStore, stateMachine: any ReplicatedStateMachine) throws -> RaftDriver {
        try RaftDriver(config: Raft.Config(id: "n1"), bootstrapMembership: Raft.Membership(voters: ["n1"]), store: store,
                       stateMachine: stateMachine, messenger: NoNetwork(),
                       options: RaftDriver.Options(tickInterval: .milliseconds(2)),
                       logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), seed: 1)
    }

    @Test("a failed log write stops run() with a failure, and pending proposals fail with shutting-down")
    func storageFailure() async throws {
        let driver = try driver(store: FailingStore(), stateMachine: RecordingStateMachine())
        let failure = await #expect(throws: RaftDriverFailure.self) { try await driver.run() }
        #expect(failure?.message.contains("log write failed") == true)
        let error = await #expect(throws: RaftDriverError.self) { _ = try await driver.propose([1]) }
        #expect(error?.code == .shuttingDown)
    }

    @Test("a state machine that refuses the recovered snapshot stops run() with a failure")
    func restoreFailure() async throws {
        let store = InMemoryLogStore()
        _ = try await store.append([Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(1))])
        let snapshot = Raft.Snapshot(
            metadata: Raft.SnapshotMetadata(index: Raft.LogIndex(1), term: Raft.Term(1), membership: Raft.Membership(voters: ["n1"])),
            data: [42])
        try await store.saveSnapshot(SnapshotEnvelope.storeSnapshot(snapshot))
        let driver = try driver(store: store, stateMachine: RefusingStateMachine())
        let failure = await #expect(throws: RaftDriverFailure.self) { try await driver.run() }
        #expect(failure?.message.contains("refused the snapshot") == true)
    }

    @Test("the snapshot envelope round-trips membership and data, and rejects foreign bytes")
    func envelope() throws {
        let membership = Raft.Membership(voters: ["n1", "n2"], learners: ["n3"], removed: ["n4"])
        let snapshot = Raft.Snapshot(metadata: Raft.SnapshotMetadata(index: Raft.LogIndex(7), term: Raft.Term(2), membership: membership),
                                     data: [1, 2, 3])
        #expect(try SnapshotEnvelope.raftSnapshot(SnapshotEnvelope.storeSnapshot(snapshot)) == snapshot)
        // With recorded incarnations (configuration format 3, docs/raft.md "Incarnations").
        var recorded = snapshot
        recorded.metadata.membership.incarnations = ["n1": 0xA1, "n2": UInt64.max]
        #expect(try SnapshotEnvelope.raftSnapshot(SnapshotEnvelope.storeSnapshot(recorded)) == recorded)
        #expect(throws: RaftDriverFailure.self) {
            try SnapshotEnvelope.raftSnapshot(RaftSnapshot(index: Raft.LogIndex(7), term: Raft.Term(2), data: [1, 2, 3]))
        }
    }

    @Test("the envelope is a prefix: the stored snapshot shares the image's buffer, and reads back in one array")
    func envelopeDoesNotCopyTheImage() throws {
        let image = [UInt8](repeating: 7, count: 1 << 20)
        let snapshot = Raft.Snapshot(
            metadata: Raft.SnapshotMetadata(index: Raft.LogIndex(9), term: Raft.Term(3), membership: Raft.Membership(voters: ["n1"])),
            data: image)
        let stored = SnapshotEnvelope.storeSnapshot(snapshot)
        // Issue #18: prepending the envelope used to copy the whole image.
        let sameBuffer = stored.data.withUnsafeBufferPointer { a in image.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
        #expect(sameBuffer)
        #expect(!stored.dataPrefix.isEmpty && stored.dataPrefix.count < 64)
        // As a file store reads it back: one array, no prefix.
        let readBack = RaftSnapshot(index: stored.index, term: stored.term, data: stored.storedData)
        #expect(try SnapshotEnvelope.raftSnapshot(readBack) == snapshot)
    }
}
