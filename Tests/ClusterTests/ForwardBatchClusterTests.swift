import Foundation
import Testing

extension RealClusterTests {
    /// Issue #18's forwarding lever on real node processes: a follower coalesces the forwards
    /// waiting for the leader into batches (frames 20/21), and each submission still makes exactly
    /// one job, with its own Idempotency-Key.
    @Suite("batched forwarding on a 3-node cluster")
    struct ForwardBatchClusterTests {
        @Test("64 concurrent submissions through one follower, then the same 64 again with their keys: one job each, the retries answered with the first ids")
        func concurrentSubmissionsThroughAFollower() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                let count = 64
                func submitAll() async throws -> [Int: (status: Int, id: String)] {
                    try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
                        for index in 0..<count {
                            group.addTask {
                                let response = try await cluster.api(follower).post(
                                    "/api/jobs", json: JobSubmission(name: "fwd-\(index)", task: .noop),
                                    headers: ["Idempotency-Key": "fwd-key-\(index)"], timeout: .seconds(30))
                                let id = response.status == 200 || response.status == 201
                                    ? try response.decode(Created.self).id : response.text
                                return (index, response.status, id)
                            }
                        }
                        var answers: [Int: (status: Int, id: String)] = [:]
                        for try await (index, status, id) in group { answers[index] = (status, id) }
                        return answers
                    }
                }
                let first = try await submitAll()
                for index in 0..<count {
                    #expect(first[index]?.status == 201, "fwd-\(index): \(first[index].map { "\($0)" } ?? "no answer")")
                }
                let again = try await submitAll()
                for index in 0..<count {
                    #expect(again[index]?.status == 200 || again[index]?.status == 201, "fwd-\(index) again")
                    #expect(again[index]?.id == first[index]?.id, "fwd-\(index): the retry made another job")
                }
                // On every node: each name exactly once, with the id the follower answered.
                for node in cluster.ids {
                    let listed = try await cluster.api(node).get("/api/jobs?limit=1000").expect(200, as: Items<Job>.self).items
                    var idsByName: [String: [String]] = [:]
                    for job in listed { idsByName[job.name, default: []].append(job.id) }
                    for index in 0..<count {
                        let expected = first[index].map { [$0.id] } ?? []
                        #expect(idsByName["fwd-\(index)"] == expected, "on \(node): fwd-\(index) jobs \(idsByName["fwd-\(index)"] ?? [])")
                    }
                }
            }
        }
    }
}
