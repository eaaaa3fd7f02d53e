import Foundation
import Testing

extension RealClusterTests {
    /// Issue #19: `[quotas] max_pending_jobs` refuses a flood on the leader (forwards included)
    /// with 429, and the cluster takes work again once runs finish.
    @Suite("admission quotas on a 3-node cluster")
    struct QuotaClusterTests {
        @Test("with max_pending_jobs = 3: three sleeps are taken, the fourth (via a follower) and a batch are 429 quota_exceeded; after they finish a submit is 201")
        func pendingJobsQuota() async throws {
            var timing = TestCluster.Timing()
            timing.extraTables = "[quotas]\nmax_pending_jobs = 3\n"
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                var ids: [String] = []
                for index in 0..<3 {
                    let created = try await cluster.api(index == 0 ? follower : leader).post(
                        "/api/jobs", json: JobSubmission(name: "busy-\(index)", task: .sleep(3)))
                    ids.append(try created.expect(201, as: Created.self).id)
                }
                for node in [follower, leader] {
                    let over = try await cluster.api(node).post("/api/jobs", json: JobSubmission(name: "over", task: .noop))
                    #expect(over.status == 429, "from \(node): \(over.text.prefix(300))")
                    #expect(over.header("Retry-After") == "5", "from \(node)")
                    let error = try over.decode(ErrorObject.self).error
                    #expect(error.code == "quota_exceeded")
                    #expect(error.message.contains("[quotas] max_pending_jobs (3)"), "\(error.message)")
                    #expect(error.message.contains("3 runs are pending, queued or running"), "\(error.message)")
                }
                // The refusals wrote nothing, and the cluster finishes its work.
                for id in ids { try await cluster.waitForJob(id, on: leader, state: "succeeded", timeout: .seconds(60)) }
                // A batch counts its jobs: four is one too many, three fit.
                let four = try await cluster.api(follower).post(
                    "/api/jobs/batch", json: JobBatch(jobs: (0..<4).map { JobSubmission(name: "b\($0)", task: .sleep(60)) }))
                #expect(four.status == 429, "\(four.text.prefix(300))")
                #expect(try four.decode(ErrorObject.self).error.message.contains("adds 4"))
                let three = try await cluster.api(follower).post(
                    "/api/jobs/batch", json: JobBatch(jobs: (0..<3).map { JobSubmission(name: "b\($0)", task: .noop) }))
                #expect(try three.expect(201, as: BatchCreated.self).ids.count == 3)
                let metrics = try await cluster.api(leader).get("/metrics")
                #expect(metrics.text.contains(#"quorum_quota_refusals_total{quota="max_pending_jobs"} 3"#), "\(metrics.text.prefix(200))")
            }
        }
    }
}
