import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RealClusterTests {
    /// Issue #19, "a digest mismatch made by editing one node's state in a test build is detected
    /// within one check period", on real processes: n3 runs with the test-only hook
    /// `QUORUM_TEST_ONLY_DIVERGE_AT_INDEX` (debug builds only; docs/testing.md), which counts one
    /// extra refused command in its state right after applying entry 48 — a checkpoint with
    /// `digest_interval_entries = 16`. Its digests differ from then on.
    @Suite("a replica whose state diverged (test-only hook) on a 3-node cluster")
    struct DivergenceClusterTests {
        static let diverged = "n3"
        static let interval = 16
        static let perturbedAt = 48

        static var timing: TestCluster.Timing {
            var timing = TestCluster.Timing()
            timing.digestIntervalEntries = interval
            timing.nodeEnvironment = [diverged: ["QUORUM_TEST_ONLY_DIVERGE_AT_INDEX": "\(perturbedAt)"]]
            return timing
        }

        @Test("found at the first checkpoint after the perturbation, shown on /api/cluster and counted; no attempt goes to it while the others run jobs; wiping it, letting it rejoin and clear-divergence (the runbook's fix) lift the hold")
        func perturbedReplicaIsHeldUntilRepaired() async throws {
            try await TestCluster.with(nodes: 3, timing: Self.timing) { cluster in
                let leader = try await Self.leaderOtherThanDiverged(cluster)
                let check = try await Self.submitUntilHeld(cluster, leader: leader)
                let mismatchIndex = check["mismatch_index"] as? Int ?? 0
                // The first checkpoint at or after the perturbation (or the next one, when a digest
                // was skipped because the previous one was still being computed).
                #expect([Self.perturbedAt, Self.perturbedAt + Self.interval].contains(mismatchIndex), "\(check)")
                #expect(check["leader_digest"] as? String != check["member_digest"] as? String, "\(check)")
                #expect(try await Self.mismatchCount(cluster, on: leader) >= 1)
                #expect(cluster.logTail(Self.diverged, lines: 2_000).contains("TEST ONLY: this node's scheduler state was perturbed"))

                let healthy = try #require(cluster.ids.first { $0 != leader && $0 != Self.diverged })
                let executors = try await Self.runJobs(12, named: "held", cluster, via: leader)
                #expect(!executors.contains(Self.diverged), "\(executors)")
                #expect(executors.contains(healthy), "the healthy follower keeps running jobs: \(executors)")

                // The runbook's fix (docs/operations.md): stop it, wipe its data directory, start
                // it empty (it installs the leader's state), then clear the check.
                try await cluster.kill(Self.diverged, SIGKILL)
                try FileManager.default.removeItem(atPath: "\(cluster.directory)/data/\(Self.diverged)")
                cluster.setEnvironment(of: Self.diverged, [:])
                try cluster.restart(Self.diverged)
                let cleared = try await cluster.api(leader).post("/api/cluster/nodes/\(Self.diverged)/clear-divergence")
                #expect(cleared.status == 200, "\(cleared.text)")
                try await eventually("the repaired replica to run an attempt again", timeout: .seconds(90)) { () -> Bool? in
                    let ran = try await Self.runJobs(8, named: "repaired", cluster, via: leader)
                    return ran.contains(Self.diverged) ? true : nil
                }
                let after = try await eventually("the repaired replica's next check to match", timeout: .seconds(60)) {
                    () async throws -> [String: Any]? in
                    _ = try await cluster.submit(JobSubmission(name: "checkpoint", task: .noop), to: leader)
                    guard let check = try await Self.replicaCheck(of: Self.diverged, cluster, on: leader),
                          check["state"] as? String == "ok", (check["verified_index"] as? Int ?? 0) > mismatchIndex else { return nil }
                    return check
                }
                #expect(after["mismatch_index"] == nil, "\(after)")
            }
        }

        @Test("the hold survives a leader change: with the leader killed after the hold, the new leader holds the diverged replica again, and no job submitted after it took office runs there")
        func holdSurvivesLeaderKill() async throws {
            try await TestCluster.with(nodes: 3, timing: Self.timing) { cluster in
                let leader = try await Self.leaderOtherThanDiverged(cluster)
                _ = try await Self.submitUntilHeld(cluster, leader: leader)
                try await cluster.kill(leader, SIGKILL)
                let healthy = try #require(cluster.ids.first { $0 != leader && $0 != Self.diverged })
                var (newLeader, _) = try await cluster.waitForLeader(among: [healthy, Self.diverged])
                if newLeader == Self.diverged {
                    // The diverged replica won the election (its log is as current as the other's).
                    // The runbook's step for a diverged leader: hand leadership to a healthy member.
                    let moved = try await cluster.api(Self.diverged).post("/api/cluster/leader", json: ["to": healthy] as [String: String])
                    #expect(moved.status == 200, "\(moved.text)")
                    (newLeader, _) = try await cluster.waitForLeader(among: [healthy, Self.diverged], excluding: [Self.diverged])
                }
                // Submitted at once: a gap before the new leader's first check would show here.
                let executors = try await Self.runJobs(12, named: "after-failover", cluster, via: newLeader)
                #expect(!executors.contains(Self.diverged), "\(executors)")
                let check = try await eventually("the new leader to show the hold", timeout: .seconds(30)) {
                    () async throws -> [String: Any]? in
                    let check = try await Self.replicaCheck(of: Self.diverged, cluster, on: newLeader)
                    return check?["state"] as? String == "diverged" ? check : nil
                }
                #expect((check["mismatch_index"] as? Int ?? 0) >= Self.perturbedAt, "\(check)")
                #expect(try await Self.mismatchCount(cluster, on: newLeader) >= 1)
                // And it keeps holding under more work.
                let more = try await Self.runJobs(8, named: "later", cluster, via: newLeader)
                #expect(!more.contains(Self.diverged), "\(more)")
            }
        }

        // MARK: Helpers

        /// The leader once it is not the node that will diverge (a transfer moves it away).
        static func leaderOtherThanDiverged(_ cluster: TestCluster) async throws -> String {
            let (leader, _) = try await cluster.waitForLeader()
            guard leader == diverged else { return leader }
            let target = cluster.others(than: diverged)[0]
            let moved = try await cluster.api(leader).post("/api/cluster/leader", json: ["to": target] as [String: String])
            guard moved.status == 200 else { throw ClusterError("transfer to \(target) answered \(moved.status): \(moved.text)") }
            return try await cluster.waitForLeader(excluding: [diverged]).leader
        }

        /// Submits jobs until the leader holds the diverged node; its replica check then.
        static func submitUntilHeld(_ cluster: TestCluster, leader: String) async throws -> [String: Any] {
            var submitted = 0
            return try await eventually("\(leader) to hold \(diverged) as diverged", timeout: .seconds(90)) {
                () async throws -> [String: Any]? in
                if let check = try await replicaCheck(of: diverged, cluster, on: leader), check["state"] as? String == "diverged" {
                    return check
                }
                submitted += 1
                _ = try await cluster.submit(JobSubmission(name: "load-\(submitted)", task: .noop), to: leader)
                return nil
            }
        }

        /// `replica_check` of `member` in node `id`'s `GET /api/cluster`.
        static func replicaCheck(of member: String, _ cluster: TestCluster, on id: String) async throws -> [String: Any]? {
            let body = try await cluster.api(id).get("/api/cluster").body
            let json = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            let nodes = json?["nodes"] as? [[String: Any]] ?? []
            return nodes.first { $0["id"] as? String == member }?["replica_check"] as? [String: Any]
        }

        /// `quorum_replica_digest_mismatch_total` on node `id`.
        static func mismatchCount(_ cluster: TestCluster, on id: String) async throws -> Double {
            try await cluster.api(id).metric("quorum_replica_digest_mismatch_total") ?? -1
        }

        /// Submits `count` short sleeping jobs at once through `via` (more than one node's slots,
        /// so the work spreads), waits for all to succeed, and returns the executors of their attempts.
        static func runJobs(_ count: Int, named name: String, _ cluster: TestCluster, via: String) async throws -> [String] {
            var ids: [String] = []
            for index in 0..<count {
                ids.append(try await cluster.submit(JobSubmission(name: "\(name)-\(index)", task: .sleep(0.3)), to: via))
            }
            var executors: [String] = []
            for id in ids {
                let job = try await cluster.waitForJob(id, on: via, state: "succeeded", timeout: .seconds(60))
                executors += job.runs.compactMap(\.executor)
            }
            return executors
        }
    }
}
