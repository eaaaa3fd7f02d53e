import RaftCore
import Synchronization
import Testing
@testable import Node

/// What the readers and the writer share: the last acknowledged index, whether to stop, what went wrong.
private final class RaceLog: Sendable {
    let lastAcknowledged = Atomic<UInt64>(0)
    let stop = Atomic<Bool>(false)
    let violations = Mutex<[String]>([])
}

/// Concurrent linearizable reads share ReadIndex rounds (issue #12): while one round is out, the
/// reads that arrive wait for the next. Sharing must never let a read return an index below a
/// write acknowledged before the read began (a read may only join a round that started after it).
@Suite("RaftDriver: concurrent reads share ReadIndex rounds", .timeLimit(.minutes(1)))
struct ReadRoundBatchingTests {
    @Test("64 concurrent reads on the leader take far fewer than 64 rounds, and all see the writes before them")
    func concurrentReadsShareRounds() async throws {
        let cluster = try TestCluster()
        let leader = try await cluster.waitForLeader()
        let driver = try cluster.driver(leader)
        let acknowledged = try await driver.propose(Array("before".utf8))
        let roundsBefore = await driver.readRoundsStarted
        let indexes = try await withThrowingTaskGroup(of: Raft.LogIndex.self) { group in
            for _ in 0..<64 { group.addTask { try await driver.linearizableRead() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let rounds = await driver.readRoundsStarted - roundsBefore
        #expect(indexes.count == 64)
        #expect(indexes.allSatisfy { $0 >= acknowledged })
        #expect(rounds < 64, "every read ran its own round: \(rounds)")
        #expect(rounds >= 1)
        try await cluster.stopAll()
    }

    /// A writer acknowledges entries one after another while readers on every node read in a
    /// loop; each read remembers the last index acknowledged before it began and must return at
    /// least that (the linearizability of reads, with rounds shared).
    @Test("reads racing a writer on leader and followers never return an index below a write acknowledged before they began")
    func readsNeverMissAnAcknowledgedWrite() async throws {
        let cluster = try TestCluster()
        let leader = try await cluster.waitForLeader()
        let log = RaceLog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { log.stop.store(true, ordering: .sequentiallyConsistent) }
                for i in 0..<100 {
                    let index = try await cluster.driver(leader).propose(Array("w\(i)".utf8))
                    log.lastAcknowledged.store(index.rawValue, ordering: .sequentiallyConsistent)
                }
            }
            for id in cluster.ids {
                for reader in 0..<3 {
                    group.addTask {
                        let driver = try cluster.driver(id)
                        while !log.stop.load(ordering: .sequentiallyConsistent) {
                            let floor = log.lastAcknowledged.load(ordering: .sequentiallyConsistent)
                            let index: Raft.LogIndex
                            do {
                                index = try await driver.linearizableRead()
                            } catch let error as RaftDriverError where error.isRetriable {
                                continue
                            }
                            if index.rawValue < floor {
                                log.violations.withLock { $0.append("node \(id) reader \(reader): read index \(index) below acknowledged \(floor)") }
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(log.violations.withLock { $0 }.isEmpty, "\(log.violations.withLock { $0 })")
        try await cluster.stopAll()
    }
}
