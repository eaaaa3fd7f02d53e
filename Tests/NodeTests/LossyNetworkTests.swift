import Node
import RaftCore
import Testing

@Suite("RaftDriver over a lossy network", .timeLimit(.minutes(1)))
struct LossyNetworkTests {
    static let seeds: [UInt64] = [1, 2, 3]

    /// Proposes `text` at whoever leads, retrying retriable errors; returns whether it was acknowledged.
    private func proposeWithRetries(_ cluster: TestCluster, _ text: String) async throws -> Bool {
        for _ in 0..<50 {
            let leader = try await cluster.waitForLeader(timeout: .seconds(20))
            switch await proposalOutcome(try cluster.driver(leader), text) {
            case .success: return true
            case .failure(let error) where error.isRetriable: continue
            case .failure(let error): throw error
            }
        }
        return false
    }

    @Test("with 10% message loss every acknowledged command is applied, in one order on every node", arguments: seeds)
    func lossyReplication(seed: UInt64) async throws {
        let cluster = try TestCluster()
        cluster.network.setLoss(perMille: 100, seed: seed)
        var acknowledged: [String] = []
        for i in 0..<20 where try await proposeWithRetries(cluster, "l\(i)") { acknowledged.append("l\(i)") }
        #expect(acknowledged.count == 20, "seed \(seed)")
        cluster.network.setLoss(perMille: 0, seed: seed)
        let leader = try await cluster.waitForLeader()
        let readIndex = try await cluster.driver(leader).linearizableRead()
        try await waitUntil("all nodes applied through \(readIndex) (seed \(seed))") {
            for id in cluster.ids where try await cluster.driver(id).status.appliedIndex < readIndex { return false }
            return true
        }
        let logs = try await cluster.waitForCommands(count: acknowledged.count)
        let reference = try #require(logs[leader])
        for id in cluster.ids { #expect(logs[id] == reference, "node \(id), seed \(seed)") }
        // Retries after an unknown outcome may apply a command twice; none may be missing.
        #expect(Set(acknowledged).isSubset(of: Set(reference)), "seed \(seed)")
        try await cluster.stopAll()
    }
}
