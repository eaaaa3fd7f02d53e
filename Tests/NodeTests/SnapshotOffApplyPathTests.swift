import Foundation
import Logging
import Node
import RaftCore
import RaftStorage
import Synchronization
import Testing

/// A gate a test opens; `wait()` blocks its (non-async) caller until then.
final class Gate: Sendable {
    private let state = Mutex((open: false, waiting: false))
    var isWaiting: Bool { state.withLock { $0.waiting } }
    func open() { state.withLock { $0.open = true } }
    /// Blocks the calling thread (the driver's snapshot task) until `open()`.
    func wait() {
        state.withLock { $0.waiting = true }
        // Bounded: a test that never opens the gate fails on its own expectations, not by hanging.
        let deadline = ContinuousClock.now + .seconds(60)
        while !state.withLock({ $0.open }), ContinuousClock.now < deadline { usleep(1_000) }
    }
}

/// Records commands; its snapshot encoder blocks on a gate, standing in for a long encoding.
actor GatedSnapshotMachine: ReplicatedStateMachine {
    private(set) var commands: [String] = []
    nonisolated let gate = Gate()

    func apply(_ entries: [Raft.Entry]) async {
        for entry in entries { commands.append(String(decoding: entry.data, as: UTF8.self)) }
    }

    func snapshot() async -> [UInt8] { Array(commands.joined(separator: "\n").utf8) }

    func snapshotEncoder() async -> SnapshotEncoder {
        let frozen = commands
        let gate = gate
        return { write in
            gate.wait()
            write(Array(frozen.joined(separator: "\n").utf8))
        }
    }

    func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws {
        commands = String(decoding: snapshot, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

struct NoPeers: PeerMessenger {
    func send(_ message: Raft.Message) {}
}

/// A driver of a one-voter cluster ticking every 5 ms that snapshots every `interval` entries.
func singleNodeDriver(snapshottingEvery interval: Int, store: any RaftLogStore,
                      machine: any ReplicatedStateMachine) throws -> RaftDriver {
    try RaftDriver(
        config: Raft.Config(id: "n1", electionTicks: 10, heartbeatTicks: 1, snapshotInterval: interval),
        bootstrapMembership: Raft.Membership(voters: ["n1"]), store: store, stateMachine: machine, messenger: NoPeers(),
        options: RaftDriver.Options(tickInterval: .milliseconds(5)),
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), seed: 1)
}

@Suite("Snapshots off the apply path and staggered (issue #10)")
struct SnapshotOffApplyPathTests {
    // The encoder blocks one thread of the cooperative pool; everything else needs another.
    @Test("applies go on while a snapshot is encoded; the store gets the frozen state at its index",
          .enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2), .timeLimit(.minutes(1)))
    func appliesContinueWhileEncoding() async throws {
        let machine = GatedSnapshotMachine()
        let store = InMemoryLogStore()
        let driver = try singleNodeDriver(snapshottingEvery: 5, store: store, machine: machine)
        let task = Task { try await driver.run() }
        defer {
            machine.gate.open()
            task.cancel()
        }
        try await waitUntil("n1 leads") { await driver.status.role == .leader }
        for i in 0..<6 { _ = try await driver.propose(Array("c\(i)".utf8)) }
        try await waitUntil("the snapshot encoder started") { machine.gate.isWaiting }
        // The encoder is stuck; every propose returns only once its entry is applied.
        for i in 6..<40 { _ = try await driver.propose(Array("c\(i)".utf8)) }
        #expect(await machine.commands.count == 40)
        #expect(store.snapshot == nil, "stored before it was encoded")
        machine.gate.open()
        try await waitUntil("the snapshot is stored") { store.snapshot != nil }
        let stored = try #require(store.snapshot)
        // Index 1 is the leader's no-op, so the snapshot through i holds c0 ... c(i-2).
        let count = Int(stored.index.rawValue) - 1
        #expect((1..<40).contains(count))
        let image = Array((0..<count).map { "c\($0)" }.joined(separator: "\n").utf8)
        #expect(Array(stored.data.suffix(image.count)) == image, "the image is not the state frozen at \(stored.index)")
        task.cancel()
        try await task.value
    }

    @Test("every member of a cluster gets its own snapshot interval, within 1.5 × the configured one")
    func staggeredIntervals() {
        let members: Set<Raft.NodeID> = ["n1", "n2", "n3"]
        let intervals = ["n1", "n2", "n3"].map { SnapshotStagger.interval(10_000, for: Raft.NodeID($0), among: members) }
        #expect(intervals == [10_000, 11_666, 13_333])
        #expect(Set(intervals).count == 3)
        let five: Set<Raft.NodeID> = ["a", "b", "c", "d", "e"]
        let bytes = five.map { SnapshotStagger.interval(64 << 20, for: $0, among: five) }
        #expect(Set(bytes).count == 5)
        #expect(bytes.allSatisfy { $0 >= 64 << 20 && $0 < (64 << 20) * 3 / 2 })
        // A node outside the list: a fixed fraction from its id, same bounds, same every time.
        let outsider = SnapshotStagger.interval(10_000, for: "n9", among: members)
        #expect(outsider == SnapshotStagger.interval(10_000, for: "n9", among: members))
        #expect((10_000..<15_000).contains(outsider))
        #expect(SnapshotStagger.interval(Int.max, for: "n3", among: members) == Int.max)
    }
}
