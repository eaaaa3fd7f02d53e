import Logging
import Node
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import Testing

/// Issue #18: the state machine restores from an image read in pieces (the snapshot file), and
/// a restore that cannot finish — the file unreadable or damaged halfway — installs nothing.
@Suite("State machine restored from an image read in pieces")
struct WindowedRestoreTests {
    let t0 = Timestamp(1_800_000_000_000)
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func machine(jobs: ClosedRange<Int>) async throws -> SchedulerStateMachine {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        try await machine.apply(jobs.map { i in
            let command = Command.submitJob(SubmitJob(jobID: JobID("j\(i)"), spec: JobSpec(name: "j\(i)"), runID: RunID("r\(i)")))
            return Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(UInt64(i)), data: CommandCodec.encode(command, at: t0))
        })
        return machine
    }

    /// An image whose reads fail from `failingFrom` on, as a file read error would.
    struct FailingImage: SnapshotImage {
        struct ReadFailed: Error {}
        let bytes: [UInt8]
        let failingFrom: Int
        var count: Int { bytes.count }
        func read(offset: Int, length: Int) throws -> [UInt8] {
            guard offset + length <= failingFrom else { throw ReadFailed() }
            return try InMemorySnapshotImage(bytes).read(offset: offset, length: length)
        }
    }

    @Test("a restore from pieces installs the state the image holds")
    func restoresFromPieces() async throws {
        let image = try await machine(jobs: 1...300).snapshot()
        let restored = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        try await restored.restore(from: InMemorySnapshotImage(image), through: Raft.LogIndex(300))
        #expect(await restored.snapshot() == image)
        #expect(await restored.stateDigest().appliedIndex == Raft.LogIndex(300))
        #expect(restored.admissionGauges.stateBytes == image.count)
    }

    @Test("a restore whose image fails halfway (unreadable or damaged) leaves the old state and applied index")
    func nothingHalfInstalled() async throws {
        let image = try await machine(jobs: 1...300).snapshot()
        let node = try await machine(jobs: 1...5)
        let before = await node.snapshot()
        await #expect(throws: (any Error).self) {
            try await node.restore(from: FailingImage(bytes: image, failingFrom: image.count / 2), through: Raft.LogIndex(300))
        }
        var damaged = image
        damaged.removeLast(image.count / 3)
        await #expect(throws: (any Error).self) {
            try await node.restore(from: InMemorySnapshotImage(damaged), through: Raft.LogIndex(300))
        }
        #expect(await node.snapshot() == before)
        #expect(await node.stateDigest().appliedIndex == Raft.LogIndex(5))
    }
}
