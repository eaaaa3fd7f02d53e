import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RealClusterTests {
    @Suite("a 5-node cluster losing nodes")
    struct QuorumLossTests {
        @Test("two of five down: writes and reads work; three down: writes get 503 with Retry-After; back up: nothing acknowledged is lost")
        func majorityRule() async throws {
            try await TestCluster.with(nodes: 5) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                var acknowledged: [String] = []
                for index in 0..<3 {
                    acknowledged.append(try await cluster.submit(JobSubmission(name: "before-\(index)", task: .noop),
                                                                 to: cluster.ids[index]))
                }

                // Two down, the leader among them.
                let firstDown = [leader, try #require(cluster.others(than: leader).first)]
                for id in firstDown { try await cluster.kill(id, SIGKILL) }
                let survivors = cluster.ids.filter { !firstDown.contains($0) }
                let (secondLeader, _) = try await cluster.waitForLeader(among: survivors)
                // Right after the failover a node may answer 503 for a moment (it has no connection to
                // the new leader yet, and a write is never queued for a leader it cannot reach): a
                // client retries with its Idempotency-Key, as api.md says.
                for (index, node) in survivors.enumerated() {
                    acknowledged.append(try await cluster.submitRetrying(JobSubmission(name: "two-down-\(index)", task: .noop),
                                                                         to: node, key: "two-down-\(index)"))
                }
                for id in acknowledged {
                    try await cluster.waitForJob(id, on: survivors[0], state: "succeeded")
                }
                let listed = try await cluster.api(survivors[1]).get("/api/jobs?limit=100").expect(200, as: Items<Job>.self).items
                #expect(Set(acknowledged).isSubset(of: Set(listed.map(\.id))))

                // Three down: no majority, no leader, no writes.
                try await cluster.kill(secondLeader, SIGKILL)
                let stranded = survivors.filter { $0 != secondLeader }
                let refused = try await cluster.api(stranded[0]).post(
                    "/api/jobs", json: JobSubmission(name: "no-quorum", task: .noop), timeout: .seconds(20))
                #expect(refused.status == 503, "\(refused.text)")
                #expect(refused.header("Retry-After") != nil, "503 without Retry-After: \(refused.headers)")
                #expect((try? refused.decode(ErrorObject.self))?.error.code == "unavailable", "\(refused.text)")
                let read = try await cluster.api(stranded[1]).get("/api/jobs/\(acknowledged[0])", timeout: .seconds(20))
                #expect(read.status == 503, "a linearizable read without a quorum: \(read.text)")
                let staleRead = try await cluster.job(acknowledged[0], on: stranded[1], stale: true)
                #expect(staleRead.state == "succeeded")

                // Back up: a leader again, every acknowledged job on every node, writes work.
                for id in firstDown + [secondLeader] { try cluster.restart(id) }
                let (finalLeader, _) = try await cluster.waitForLeader()
                for node in cluster.ids {
                    for id in acknowledged {
                        try await cluster.waitForJob(id, on: node, state: "succeeded", stale: true)
                    }
                }
                let after = try await cluster.submitRetrying(JobSubmission(name: "after-return", task: .noop), to: stranded[0],
                                                             key: "after-return")
                try await cluster.waitForJob(after, on: finalLeader, state: "succeeded")
            }
        }
    }
}
