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
                // The refusals wrote nothing, and the cluster finishes its work. Waited for on the
                // follower too (a linearizable read there waits until it applied the finishes): it
                // checks the quota from its own applied view before forwarding.
                for id in ids {
                    try await cluster.waitForJob(id, on: leader, state: "succeeded", timeout: .seconds(60))
                    try await cluster.waitForJob(id, on: follower, state: "succeeded", timeout: .seconds(60))
                }
                // A batch counts its jobs: four is one too many, three fit.
                let four = try await cluster.api(follower).post(
                    "/api/jobs/batch", json: JobBatch(jobs: (0..<4).map { JobSubmission(name: "b\($0)", task: .sleep(60)) }))
                #expect(four.status == 429, "\(four.text.prefix(300))")
                #expect(try four.decode(ErrorObject.self).error.message.contains("adds 4"))
                let three = try await cluster.api(follower).post(
                    "/api/jobs/batch", json: JobBatch(jobs: (0..<3).map { JobSubmission(name: "b\($0)", task: .noop) }))
                #expect(try three.expect(201, as: BatchCreated.self).ids.count == 3)
                // Counted where refused: a follower refuses from its own view before forwarding,
                // the leader what reached it; three in all.
                var refused = 0
                for node in cluster.ids {
                    refused += try await Self.quotaRefusals("max_pending_jobs", on: node, in: cluster)
                }
                #expect(refused == 3)
            }
        }

        /// `quorum_quota_refusals_total{quota}` on `node`.
        static func quotaRefusals(_ quota: String, on node: String, in cluster: TestCluster) async throws -> Int {
            let refusals = try await cluster.api(node).metric(#"quorum_quota_refusals_total{quota=""# + quota + #""}"#)
            return refusals.map { Int($0) } ?? 0
        }

        /// Issue #19 (second part): a flood through the followers is refused for quota on the
        /// node that took it (429 for pending runs, 507 for the state size, the leader's bodies),
        /// and every submission that was acknowledged is on every node afterwards.
        @Test("a flood through the followers gets 429 then 507 with the leader's bodies; every acknowledged job is on every node")
        func floodIsRefusedNothingAckedLost() async throws {
            var timing = TestCluster.Timing()
            timing.extraTables = "[quotas]\nmax_pending_jobs = 5\nmax_state_bytes = 1048576\n"
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let followers = cluster.others(than: leader)
                var acked: [String] = []
                // 1. Twenty concurrent sleeps through both followers: some are refused.
                let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for index in 0..<20 {
                        let via = followers[index % followers.count]
                        group.addTask {
                            let reply = try await cluster.api(via).post("/api/jobs", json: JobSubmission(name: "flood-\(index)", task: .sleep(1)))
                            return (reply.status, reply.text)
                        }
                    }
                    var all: [(Int, String)] = []
                    for try await answer in group { all.append(answer) }
                    return all
                }
                for (status, text) in answers {
                    #expect(status == 201 || status == 429, "\(status): \(text.prefix(300))")
                    if status == 201, let id = try? JSONDecoder().decode(Created.self, from: Data(text.utf8)).id { acked.append(id) }
                    if status == 429 {
                        let error = try JSONDecoder().decode(ErrorObject.self, from: Data(text.utf8)).error
                        #expect(error.code == "quota_exceeded" && error.message.contains("[quotas] max_pending_jobs (5)"), "\(error.message)")
                    }
                }
                // Not "at most five": requests in flight are checked against the applied count, and
                // one-second sleeps finish during the flood (docs/configuration.md, [quotas]).
                #expect(acked.count >= 1 && acked.count < 20, "\(acked.count) taken")
                #expect(answers.contains { $0.0 == 429 })
                // 2. Jobs carrying 100 KiB of argv each, through a follower, until the state-size
                //    quota answers 507 (a 429 while runs are unfinished is waited out).
                let big = String(repeating: "x", count: 100 << 10)
                var insufficient: ErrorObject.Detail?
                let deadline = ContinuousClock.now + .seconds(90)
                var index = 0
                while insufficient == nil && ContinuousClock.now < deadline {
                    index += 1
                    let reply = try await cluster.api(followers[index % followers.count]).post(
                        "/api/jobs", json: JobSubmission(name: "big-\(index)", task: .shell(["/bin/true", big])))
                    switch reply.status {
                    case 201: acked.append(try reply.expect(201, as: Created.self).id)
                    case 507: insufficient = try reply.decode(ErrorObject.self).error
                    case 429:
                        for id in acked { try await cluster.waitForJob(id, on: leader, state: "succeeded", timeout: .seconds(30)) }
                    default: Issue.record("unexpected \(reply.status): \(reply.text.prefix(300))")
                    }
                }
                let detail = try #require(insufficient, "no 507 after \(index) submissions of 100 KiB")
                #expect(detail.code == "insufficient_storage")
                #expect(detail.message.contains("[quotas] max_state_bytes (1048576)"), "\(detail.message)")
                #expect(index >= 5, "the quota refused after \(index) submissions: the state started near 1 MiB?")
                // 3. Nothing acknowledged is lost: every acked job is on every node.
                for node in cluster.ids {
                    for id in acked {
                        let read = try await cluster.api(node).get("/api/jobs/\(id)")
                        #expect(read.status == 200, "job \(id) on \(node): \(read.status)")
                    }
                }
            }
        }
    }
}
