import Node
import RaftCore
import Testing

@Suite("RaftDriver refuses entries over max_entry_bytes", .timeLimit(.minutes(1)))
struct EntrySizeLimitTests {
    @Test("a proposal over the limit is refused with entry-too-large, naming the size and the limit, and nothing is appended")
    func overLimitRefused() async throws {
        let cluster = try TestCluster(maxEntryBytes: 1_000)
        let leader = try await cluster.waitForLeader()
        let driver = try cluster.driver(leader)
        let before = await driver.status.lastLogIndex
        let error = await #expect(throws: RaftDriverError.self) { _ = try await driver.propose([UInt8](repeating: 7, count: 1_001)) }
        #expect(error?.code == .entryTooLarge)
        #expect(error?.isRetriable == false)
        #expect(error?.message.contains("1001 bytes") == true)
        #expect(error?.message.contains("max_entry_bytes (1000)") == true)
        #expect(await driver.status.lastLogIndex == before)
        // Exactly at the limit is accepted, and the cluster keeps committing.
        let index = try await driver.propose([UInt8](repeating: 65, count: 1_000))
        #expect(index > before)
        try await cluster.stopAll()
    }

    @Test("a follower refuses an over-limit proposal as too large, not as not-leader")
    func followerRefusesBeforeLeaderCheck() async throws {
        let cluster = try TestCluster(maxEntryBytes: 100)
        let leader = try await cluster.waitForLeader()
        let follower = try #require(cluster.ids.first { $0 != leader })
        #expect(try cluster.driver(follower).maxEntryBytes == 100)
        let error = await #expect(throws: RaftDriverError.self) { _ = try await cluster.driver(follower).propose([UInt8](repeating: 1, count: 101)) }
        #expect(error?.code == .entryTooLarge)
        try await cluster.stopAll()
    }
}
