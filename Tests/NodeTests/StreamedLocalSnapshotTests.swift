import Node
import RaftCore
import RaftStorage
import Synchronization
import Testing

/// Records commands; its snapshot encoder hands every command as a piece of its own.
actor PieceSnapshotMachine: ReplicatedStateMachine {
    private(set) var commands: [String] = []

    func apply(_ entries: [Raft.Entry]) async {
        for entry in entries { commands.append(String(decoding: entry.data, as: UTF8.self)) }
    }

    func snapshot() async -> [UInt8] { Array(commands.joined().utf8) }

    func snapshotEncoder() async -> SnapshotEncoder {
        let frozen = commands
        return { write in
            for command in frozen { write(Array(command.utf8)) }
        }
    }

    func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws {
        commands = snapshot.isEmpty ? [] : [String(decoding: snapshot, as: UTF8.self)]
    }
}

/// A store that records how snapshots reach it: drafts piece by piece, or whole images.
final class DraftRecordingStore: InMemoryBackedLogStore {
    final class Draft: SnapshotDraft {
        let inner: any SnapshotDraft
        let pieces = Mutex<[Int]>([])
        init(_ inner: any SnapshotDraft) { self.inner = inner }
        var index: Raft.LogIndex { inner.index }
        var term: Raft.Term { inner.term }
        var count: Int { inner.count }
        func write(_ bytes: [UInt8]) throws(StorageError) {
            pieces.withLock { $0.append(bytes.count) }
            try inner.write(bytes)
        }
        func seal() throws(StorageError) { try inner.seal() }
        func discard() { inner.discard() }
    }

    let base = InMemoryLogStore()
    let wholeImages = Mutex(0)
    let savedDrafts = Mutex<[Draft]>([])

    func persist(hardState: Raft.HardState?, entries: [Raft.Entry]) async throws(StorageError) -> Raft.LogIndex {
        try await base.persist(hardState: hardState, entries: entries)
    }
    func saveSnapshot(_ snapshot: RaftSnapshot) async throws(StorageError) {
        wholeImages.withLock { $0 += 1 }
        try await base.saveSnapshot(snapshot)
    }
    func beginSnapshot(index: Raft.LogIndex, term: Raft.Term) throws(StorageError) -> any SnapshotDraft {
        Draft(try base.beginSnapshot(index: index, term: term))
    }
    func saveSnapshot(_ draft: any SnapshotDraft) async throws(StorageError) {
        guard let draft = draft as? Draft else { throw StorageError(code: .invalidArgument, message: "not a recorded draft") }
        savedDrafts.withLock { $0.append(draft) }
        try await base.saveSnapshot(draft.inner)
    }
    func close() async { await base.close() }
}

@Suite("Local snapshots streamed to the store (issue #18)")
struct StreamedLocalSnapshotTests {
    @Test("a local snapshot reaches the store as a draft, in the encoder's pieces after the envelope, never as a whole image")
    func localSnapshotIsADraft() async throws {
        let machine = PieceSnapshotMachine()
        let store = DraftRecordingStore()
        let driver = try singleNodeDriver(snapshottingEvery: 5, store: store, machine: machine)
        let task = Task { try await driver.run() }
        defer { task.cancel() }
        try await waitUntil("n1 leads") { await driver.status.role == .leader }
        for i in 0..<8 { _ = try await driver.propose(Array("command-\(i);".utf8)) }
        try await waitUntil("a snapshot is stored") { store.snapshot != nil }
        let stored = try #require(store.snapshot)
        let draft = try #require(store.savedDrafts.withLock { $0.first })
        #expect(store.wholeImages.withLock { $0 } == 0, "a local snapshot was saved as a whole image")
        // Index 1 is the leader's no-op, so the snapshot through i holds command-0 ... command-(i-2).
        let commands = (0..<Int(stored.index.rawValue) - 1).map { "command-\($0);" }
        let pieces = draft.pieces.withLock { $0 }
        #expect(Array(pieces.dropFirst()) == commands.map(\.utf8.count), "the pieces were not written as the encoder handed them")
        #expect(pieces.first.map { $0 > 0 } == true, "no envelope header first")
        #expect(Array(stored.data.suffix(commands.joined().utf8.count)) == Array(commands.joined().utf8))
        #expect(store.wholeImages.withLock { $0 } == 0)
        task.cancel()
        try await task.value
    }
}
