import DeterministicRandom
import Logging
import Node
import RaftCore
import RaftStorage
import Synchronization
import Testing

/// An in-memory network between drivers: delivers synchronously into each driver's inbox, and
/// drops messages to or from nodes that are down or cut off.
final class InMemoryNetwork: Sendable {
    private struct State {
        var drivers: [Raft.NodeID: RaftDriver] = [:]
        var isolated: Set<Raft.NodeID> = []
        /// Drop each message with this probability (per mille), drawn from `random`.
        var lossPerMille: UInt64 = 0
        var random = SplitMix64(seed: 0)
    }

    private let state = Mutex(State())

    /// Drops each message with probability `perMille`/1000, reproducibly from `seed`.
    func setLoss(perMille: UInt64, seed: UInt64) {
        state.withLock {
            $0.lossPerMille = perMille
            $0.random = SplitMix64(seed: seed)
        }
    }

    /// The messenger `node` sends through.
    func messenger(for node: Raft.NodeID) -> some PeerMessenger { Link(network: self, node: node) }

    func attach(_ driver: RaftDriver) { state.withLock { $0.drivers[driver.id] = driver } }
    func detach(_ node: Raft.NodeID) { _ = state.withLock { $0.drivers.removeValue(forKey: node) } }
    func isolate(_ node: Raft.NodeID) { _ = state.withLock { $0.isolated.insert(node) } }
    func heal(_ node: Raft.NodeID) { _ = state.withLock { $0.isolated.remove(node) } }

    fileprivate func deliver(_ message: Raft.Message) {
        let target: RaftDriver? = state.withLock { state in
            guard !state.isolated.contains(message.from), !state.isolated.contains(message.to) else { return nil }
            if state.lossPerMille > 0 {
                // Seeded, so a failing seed replays the same drop pattern per send order.
                if state.random.next() % 1000 < state.lossPerMille { return nil }
            }
            return state.drivers[message.to]
        }
        target?.receive(message)
    }

    private struct Link: PeerMessenger {
        let network: InMemoryNetwork
        let node: Raft.NodeID
        func send(_ message: Raft.Message) { network.deliver(message) }
    }
}

/// A state machine that records the commands it applied (as UTF-8 strings).
actor RecordingStateMachine: ReplicatedStateMachine {
    private(set) var commands: [String] = []

    func apply(_ entries: [Raft.Entry]) async {
        for entry in entries { commands.append(String(decoding: entry.data, as: UTF8.self)) }
    }

    func snapshot() async -> [UInt8] { Array(commands.joined(separator: "\n").utf8) }

    func restore(_ snapshot: [UInt8], through index: Raft.LogIndex) async throws {
        commands = snapshot.isEmpty ? [] : String(decoding: snapshot, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition` until it holds or `timeout` passes (then throws, describing `what`).
func waitUntil(_ what: @autoclosure () -> String, timeout: Duration = .seconds(30),
               _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return }
        try await clock.sleep(for: .milliseconds(2))
    }
    throw TimedOut(description: "timed out after \(timeout) waiting for \(what())")
}

/// A running cluster of drivers over an in-memory network.
final class TestCluster: @unchecked Sendable {
    struct Member {
        var driver: RaftDriver
        var stateMachine: RecordingStateMachine
        var store: any RaftLogStore
        var task: Task<Void, any Error>?
    }

    static let tick = Duration.milliseconds(5)
    let network = InMemoryNetwork()
    let ids: [Raft.NodeID]
    private let lock = Mutex(())
    private var members: [Raft.NodeID: Member] = [:]
    private var restarts: UInt64 = 0

    init(size: Int = 3, stores: [Raft.NodeID: any RaftLogStore] = [:], snapshotInterval: Int? = nil, electionTicks: Int = 10,
         maxEntryBytes: Int = RaftDriver.Options.defaultMaxEntryBytes)
        throws
    {
        ids = (1...size).map { Raft.NodeID("n\($0)") }
        self.snapshotInterval = snapshotInterval
        self.electionTicks = electionTicks
        self.maxEntryBytes = maxEntryBytes
        for id in ids { try start(id, store: stores[id] ?? InMemoryLogStore()) }
    }

    private let snapshotInterval: Int?
    private let electionTicks: Int
    private let maxEntryBytes: Int

    func start(_ id: Raft.NodeID, store: any RaftLogStore) throws {
        let stateMachine = RecordingStateMachine()
        let seed = lock.withLock { _ in
            restarts += 1
            return UInt64(ids.firstIndex(of: id) ?? 0) &* 7919 &+ restarts
        }
        let driver = try RaftDriver(
            config: Raft.Config(id: id, electionTicks: electionTicks, heartbeatTicks: 1, snapshotInterval: snapshotInterval),
            bootstrapMembership: Raft.Membership(voters: Set(ids)), store: store, stateMachine: stateMachine,
            messenger: network.messenger(for: id), options: RaftDriver.Options(tickInterval: Self.tick, readTimeoutTicks: 200, proposalOutcomeTicks: 200,
                                                                          maxEntryBytes: maxEntryBytes),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), seed: seed)
        network.attach(driver)
        let task = Task { try await driver.run() }
        lock.withLock { _ in members[id] = Member(driver: driver, stateMachine: stateMachine, store: store, task: task) }
    }

    /// Stops `id`'s driver (as a crash would, minus the disk: its store survives) and returns its store.
    @discardableResult
    func stop(_ id: Raft.NodeID) async throws -> any RaftLogStore {
        network.detach(id)
        let member = try #require(lock.withLock { _ in members[id] })
        member.task?.cancel()
        try await member.task?.value
        lock.withLock { _ in members[id]?.task = nil }
        return member.store
    }

    func stopAll() async throws {
        for id in ids where lock.withLock({ _ in members[id]?.task != nil }) { try await stop(id) }
    }

    func driver(_ id: Raft.NodeID) throws -> RaftDriver { try #require(lock.withLock { _ in members[id]?.driver }) }
    func store(_ id: Raft.NodeID) throws -> any RaftLogStore { try #require(lock.withLock { _ in members[id]?.store }) }
    func stateMachine(_ id: Raft.NodeID) throws -> RecordingStateMachine {
        try #require(lock.withLock { _ in members[id]?.stateMachine })
    }
    var running: [Raft.NodeID] { ids.filter { id in lock.withLock { _ in members[id]?.task != nil } } }

    /// Waits until exactly one running node leads and every running node agrees, and returns it.
    func waitForLeader(timeout: Duration = .seconds(30)) async throws -> Raft.NodeID {
        var found: Raft.NodeID?
        try await waitUntil("a leader all running nodes agree on", timeout: timeout) {
            var leaders: Set<Raft.NodeID> = []
            var seen: Set<Raft.NodeID?> = []
            for id in running {
                let status = try await driver(id).status
                if status.role == .leader { leaders.insert(id) }
                seen.insert(status.leader)
            }
            guard leaders.count == 1, seen.count == 1, let leader = leaders.first, seen.first == leader else { return false }
            found = leader
            return true
        }
        return try #require(found)
    }

    /// Waits until every running node's state machine applied `count` commands, and returns them.
    func waitForCommands(count: Int, timeout: Duration = .seconds(30)) async throws -> [Raft.NodeID: [String]] {
        var result: [Raft.NodeID: [String]] = [:]
        do {
            try await waitUntil("\(count) commands applied on \(running)", timeout: timeout) {
                result = [:]
                for id in running { result[id] = try await stateMachine(id).commands }
                return result.values.allSatisfy { $0.count >= count }
            }
        } catch let timedOut as TimedOut {
            throw TimedOut(description: "\(timedOut.description); \(await diagnosis())")
        }
        return result
    }

    /// Each running node's Raft status and applied command count, and on the leader each peer's
    /// match index: what a timed-out wait prints.
    func diagnosis() async -> String {
        var lines: [String] = []
        for id in running {
            guard let driver = try? driver(id) else { continue }
            let status = await driver.status
            let commands = (try? await stateMachine(id).commands.count) ?? -1
            var line = "\(id): \(status.role) term \(status.term.rawValue) leader \(status.leader?.rawValue ?? "-") "
                + "commit \(status.commitIndex.rawValue) applied \(status.appliedIndex.rawValue) last \(status.lastLogIndex.rawValue) "
                + "durable \(status.durableIndex.rawValue) commands \(commands)"
            if status.role == .leader {
                for peer in ids where peer != id {
                    line += "; match[\(peer)] \(await driver.matchIndex(of: peer)?.rawValue ?? 0)"
                }
            }
            lines.append(line)
        }
        return lines.joined(separator: " | ")
    }
}

/// Wraps a store: every `persist` takes `latency` (a simulated fsync) and is counted.
final class SlowStore: InMemoryBackedLogStore {
    let base = InMemoryLogStore()
    let latency: Duration
    private let calls = Mutex(0)
    var persistCalls: Int { calls.withLock { $0 } }

    init(latency: Duration) { self.latency = latency }

    func persist(hardState: Raft.HardState?, entries: [Raft.Entry]) async throws(StorageError) -> Raft.LogIndex {
        calls.withLock { $0 += 1 }
        do {
            try await Task.sleep(for: latency)
        } catch {
            // Only cancellation (the driver stopping): a real fsync is not cut short either.
        }
        return try await base.persist(hardState: hardState, entries: entries)
    }

    func saveSnapshot(_ snapshot: RaftSnapshot) async throws(StorageError) { try await base.saveSnapshot(snapshot) }
    func close() async { await base.close() }
}

/// A test store that changes some of an in-memory store's operations: the reads it does not
/// change go to ``base``.
protocol InMemoryBackedLogStore: RaftLogStore {
    var base: InMemoryLogStore { get }
}

extension InMemoryBackedLogStore {
    var hardState: Raft.HardState { base.hardState }
    var firstIndex: Raft.LogIndex { base.firstIndex }
    var lastIndex: Raft.LogIndex { base.lastIndex }
    var snapshot: RaftSnapshot? { base.snapshot }
    func term(at index: Raft.LogIndex) -> Raft.Term? { base.term(at: index) }
    func entries(from: Raft.LogIndex, through: Raft.LogIndex) throws(StorageError) -> [Raft.Entry] {
        try base.entries(from: from, through: through)
    }
}

/// The outcome of a proposal, as a value.
func proposalOutcome(_ driver: RaftDriver, _ text: String) async -> Result<Raft.LogIndex, RaftDriverError> {
    do {
        return .success(try await driver.propose(Array(text.utf8)))
    } catch {
        return .failure(error)
    }
}
