import Foundation
import Node
import RaftCore
import RaftStorage
import Testing

@Suite("RaftDriver over an in-memory network", .timeLimit(.minutes(1)))
struct RaftDriverTests {
    private func command(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("a leader is elected and proposals apply on all three nodes in the same order")
    func electAndReplicate() async throws {
        let cluster = try TestCluster()
        let leader = try await cluster.waitForLeader()
        for i in 0..<10 {
            let index = try await cluster.driver(leader).propose(command("c\(i)"))
            #expect(index > .zero)
        }
        let applied = try await cluster.waitForCommands(count: 10)
        let expected = (0..<10).map { "c\($0)" }
        for id in cluster.ids { #expect(applied[id] == expected, "node \(id)") }
        try await cluster.stopAll()
    }

    @Test("a proposal on a follower throws not-leader with the leader as hint")
    func followerRefuses() async throws {
        let cluster = try TestCluster()
        let leader = try await cluster.waitForLeader()
        let follower = try #require(cluster.ids.first { $0 != leader })
        let error = await #expect(throws: RaftDriverError.self) { _ = try await cluster.driver(follower).propose(command("x")) }
        #expect(error?.code == .notLeader)
        #expect(error?.leaderHint == leader)
        try await cluster.stopAll()
    }

    @Test("stopping the leader elects a new one and proposals continue")
    func failover() async throws {
        let cluster = try TestCluster()
        let first = try await cluster.waitForLeader()
        _ = try await cluster.driver(first).propose(command("before"))
        _ = try await cluster.waitForCommands(count: 1)
        try await cluster.stop(first)
        let second = try await cluster.waitForLeader()
        #expect(second != first)
        _ = try await cluster.driver(second).propose(command("after"))
        let applied = try await cluster.waitForCommands(count: 2)
        for id in cluster.running { #expect(applied[id] == ["before", "after"], "node \(id)") }
        try await cluster.stopAll()
    }

    @Test("a restarted node catches up from its own store and its state machine equals the others'")
    func restartCatchesUp() async throws {
        let cluster = try TestCluster()
        let leader = try await cluster.waitForLeader()
        for i in 0..<5 { _ = try await cluster.driver(leader).propose(command("a\(i)")) }
        _ = try await cluster.waitForCommands(count: 5)
        let victim = try #require(cluster.ids.first { $0 != leader })
        let store = try await cluster.stop(victim)
        for i in 0..<5 { _ = try await cluster.driver(leader).propose(command("b\(i)")) }
        try cluster.start(victim, store: store)
        let applied = try await cluster.waitForCommands(count: 10)
        let expected = (0..<5).map { "a\($0)" } + (0..<5).map { "b\($0)" }
        for id in cluster.ids { #expect(applied[id] == expected, "node \(id)") }
        try await cluster.stopAll()
    }

    @Test("with snapshots every 4 entries, a lagging node is caught up by InstallSnapshot and a restart restores the snapshot")
    func snapshots() async throws {
        let cluster = try TestCluster(snapshotInterval: 4)
        let leader = try await cluster.waitForLeader()
        let victim = try #require(cluster.ids.first { $0 != leader })
        let store = try await cluster.stop(victim)
        for i in 0..<20 { _ = try await cluster.driver(leader).propose(command("s\(i)")) }
        try cluster.start(victim, store: store)
        let applied = try await cluster.waitForCommands(count: 20)
        let expected = (0..<20).map { "s\($0)" }
        for id in cluster.ids { #expect(applied[id] == expected, "node \(id)") }
        // The leader's store compacted behind a snapshot; restarting it restores the state machine.
        let leaderStore = try await cluster.stop(leader)
        #expect(leaderStore.snapshot != nil)
        try cluster.start(leader, store: leaderStore)
        let again = try await cluster.waitForCommands(count: 20)
        #expect(again[leader] == expected)
        try await cluster.stopAll()
    }

    @Test("on FileLogStore, a lagging node is caught up by InstallSnapshot chunks the leader reads from its snapshot file")
    func snapshotsFromFiles() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("node-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        var stores: [Raft.NodeID: any RaftLogStore] = [:]
        for id in ["n1", "n2", "n3"] as [Raft.NodeID] {
            let path = root.appendingPathComponent(id.rawValue).path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            stores[id] = try await FileLogStore.open(directory: path)
        }
        let cluster = try TestCluster(stores: stores, snapshotInterval: 4)
        let leader = try await cluster.waitForLeader()
        let victim = try #require(cluster.ids.first { $0 != leader })
        let store = try await cluster.stop(victim)
        for i in 0..<20 { _ = try await cluster.driver(leader).propose(command("s\(i)")) }
        // The leader sends from its file (no image in memory): its store holds the data on disk only.
        let leaderReader = try #require(try cluster.store(leader).openSnapshotReader())
        #expect(leaderReader.index > Raft.LogIndex(4))
        try cluster.start(victim, store: store)
        let applied = try await cluster.waitForCommands(count: 20)
        let expected = (0..<20).map { "s\($0)" }
        for id in cluster.ids { #expect(applied[id] == expected, "node \(id)") }
        #expect(store.snapshot != nil, "the lagging node was caught up by appends, not by a snapshot")
        try await cluster.stopAll()
        for store in stores.values { await store.close() }
    }

    @Test("a linearizable read returns an index at or above the last acknowledged write, on leader and follower")
    func linearizableRead() async throws {
        let cluster = try TestCluster()
        let leader = try await cluster.waitForLeader()
        var acknowledged = Raft.LogIndex.zero
        for i in 0..<3 { acknowledged = try await cluster.driver(leader).propose(command("r\(i)")) }
        for id in cluster.ids {
            let readIndex = try await cluster.driver(id).linearizableRead()
            #expect(readIndex >= acknowledged, "node \(id)")
            #expect(try await cluster.driver(id).status.appliedIndex >= readIndex)
        }
        try await cluster.stopAll()
    }

    @Test("a read on an isolated follower times out instead of hanging")
    func readTimesOut() async throws {
        let cluster = try TestCluster()
        let leader = try await cluster.waitForLeader()
        let follower = try #require(cluster.ids.first { $0 != leader })
        cluster.network.isolate(follower)
        let error = await #expect(throws: RaftDriverError.self) { _ = try await cluster.driver(follower).linearizableRead() }
        #expect(error?.code == .readTimedOut || error?.code == .notLeader || error?.code == .readFailed)
        try await cluster.stopAll()
    }

    @Test("many concurrent proposals complete, in one agreed order (persist pipelining)")
    func concurrentProposals() async throws {
        let cluster = try TestCluster()
        let leader = try await cluster.waitForLeader()
        let driver = try cluster.driver(leader)
        let count = 300
        let indexes = try await withThrowingTaskGroup(of: Raft.LogIndex.self) { group in
            for i in 0..<count { group.addTask { try await driver.propose(Array("p\(i)".utf8)) } }
            var all: [Raft.LogIndex] = []
            for try await index in group { all.append(index) }
            return all
        }
        #expect(Set(indexes).count == count)
        let applied = try await cluster.waitForCommands(count: count)
        let reference = try #require(applied[leader])
        #expect(Set(reference).count == count)
        for id in cluster.ids { #expect(applied[id] == reference, "node \(id)") }
        try await cluster.stopAll()
    }

    @Test("leadership transfer hands over to the chosen node")
    func transfer() async throws {
        let cluster = try TestCluster()
        let leader = try await cluster.waitForLeader()
        _ = try await cluster.driver(leader).propose(command("t"))
        let target = try #require(cluster.ids.first { $0 != leader })
        try await waitUntil("\(target) caught up") { try await cluster.driver(target).status.appliedIndex >= .init(2) }
        // A transfer is best effort: on a loaded machine it can time out (after an election
        // timeout) with the old leader still in office, so ask again, a bounded number of times.
        // Once the target leads, the check is done: on a loaded machine (the whole suite on two
        // cores) a later election may move leadership on again, which is not the transfer's doing.
        var handedOver = false
        for attempt in 1...5 {
            let current = try await cluster.waitForLeader()
            if current == target {
                handedOver = true
                break
            }
            do {
                try await cluster.driver(current).transferLeadership(to: target)
                try await waitUntil("\(target) leads", timeout: .seconds(4)) {
                    try await cluster.driver(target).status.role == .leader
                }
                handedOver = true
                break
            } catch where attempt < 5 {
                continue
            }
        }
        #expect(handedOver, "\(target) never led")
        try await cluster.stopAll()
    }

    @Test("requests after shutdown fail with shutting-down")
    func afterShutdown() async throws {
        let cluster = try TestCluster()
        let leader = try await cluster.waitForLeader()
        try await cluster.stopAll()
        let error = await #expect(throws: RaftDriverError.self) { _ = try await cluster.driver(leader).propose(command("late")) }
        #expect(error?.code == .shuttingDown)
    }

    @Test("three nodes on FileLogStore: replicate, restart all from disk, state is intact")
    func fileStores() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("node-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        func open(_ id: Raft.NodeID) async throws -> any RaftLogStore {
            let path = root.appendingPathComponent(id.rawValue).path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return try await FileLogStore.open(directory: path)
        }
        var stores: [Raft.NodeID: any RaftLogStore] = [:]
        for id in ["n1", "n2", "n3"] as [Raft.NodeID] { stores[id] = try await open(id) }
        let cluster = try TestCluster(stores: stores)
        let leader = try await cluster.waitForLeader()
        for i in 0..<10 { _ = try await cluster.driver(leader).propose(command("f\(i)")) }
        _ = try await cluster.waitForCommands(count: 10)
        // A burst of concurrent proposals with real fsyncs (the figure in docs/node.md).
        let driver = try cluster.driver(leader)
        let burst = 500
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            try await withThrowingTaskGroup(of: Raft.LogIndex.self) { group in
                for i in 0..<burst { group.addTask { try await driver.propose(Array("g\(i)".utf8)) } }
                for try await _ in group {}
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("FileLogStore burst: \(burst) concurrent proposals committed and applied in \(elapsed) "
            + "(\(Int(Double(burst) / seconds)) proposals/s, debug build, 3 in-process nodes)")
        _ = try await cluster.waitForCommands(count: 10 + burst)
        try await cluster.stopAll()
        for store in stores.values { await store.close() }

        var reopened: [Raft.NodeID: any RaftLogStore] = [:]
        for id in cluster.ids { reopened[id] = try await open(id) }
        let restarted = try TestCluster(stores: reopened)
        let applied = try await restarted.waitForCommands(count: 10 + 500)
        let expected = try #require(applied["n1"])
        #expect(Array(expected.prefix(10)) == (0..<10).map { "f\($0)" })
        for id in restarted.ids { #expect(applied[id] == expected, "node \(id)") }
        try await restarted.stopAll()
        for store in reopened.values { await store.close() }
    }
}
