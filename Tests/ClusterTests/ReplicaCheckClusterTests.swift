import Foundation
import Testing

extension RealClusterTests {
    /// Issue #19, replica checks, end to end: followers' digests travel on their lease probes
    /// (version 2, after the leader's echo advertised it) and the leader verifies them against its
    /// own at the same checkpoint — on real processes, where a false alarm would stop dispatch.
    @Suite("replica checks on a 3-node cluster")
    struct ReplicaCheckClusterTests {
        @Test("with digest_interval_entries = 16, the leader verifies both followers under load: ok at a checkpoint, nothing counted, every member's format shown, the work done")
        func followersVerified() async throws {
            var timing = TestCluster.Timing()
            timing.digestIntervalEntries = 16
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let followers = cluster.others(than: leader)
                var ids: [String] = []
                for index in 0..<24 {
                    let via = index % 2 == 0 ? leader : followers[index % followers.count]
                    let created = try await cluster.api(via).post("/api/jobs", json: JobSubmission(name: "digest-\(index)", task: .noop))
                    ids.append(try created.expect(201, as: Created.self).id)
                }
                // Each job is a submit, an assignment and a finish: well past several checkpoints.
                for id in ids { try await cluster.waitForJob(id, on: leader, state: "succeeded", timeout: .seconds(60)) }
                let checks = try await eventually("the leader to verify both followers' digests", timeout: .seconds(30)) {
                    () async throws -> [String: [String: Any]]? in
                    let (found, nodes) = try await RealClusterTests.verifiedFollowers(of: leader, in: cluster, from: 16)
                    let formats = Set(nodes.compactMap { $0["format_version"] as? Int })
                    return found.count == followers.count && formats.count == 1 && nodes.allSatisfy({ $0["format_version"] != nil })
                        ? found : nil
                }
                for (id, check) in checks {
                    #expect(check["state"] as? String == "ok", "\(id): \(check)")
                    #expect(((check["verified_index"] as? Int) ?? 1) % 16 == 0, "\(id): \(check)")
                }
                let metrics = try await cluster.api(leader).get("/metrics").text
                #expect(metrics.contains("quorum_replica_digest_mismatch_total 0"), "\(metrics.prefix(200))")
                // Every member's process, as the leader names it in assignments, is the one that
                // member reports for itself (all of them ran jobs, so the leader knew each).
                let leaderView = try await RealClusterTests.processes(in: cluster.api(leader).get("/api/cluster").body)
                #expect(leaderView.count == followers.count + 1 && Set(leaderView.values).count == leaderView.count, "\(leaderView)")
                for follower in followers {
                    // Its own view (a follower otherwise serves the leader's list, kept up to a
                    // second, which may predate the leader learning its process).
                    let own = try await RealClusterTests.processes(
                        in: cluster.api(follower).get("/api/cluster", headers: ["X-Quorum-Proxied": "1"]).body)[follower]
                    #expect(own != nil && own == leaderView[follower], "\(follower): \(String(describing: own)) vs \(leaderView)")
                }
            }
        }
    }

    /// Paced digests end to end: with more records than `4 × digest_interval_entries`, every node
    /// digests only the paced checkpoints, and the leader still verifies both followers there.
    @Suite("paced replica checks on a 3-node cluster")
    struct PacedReplicaCheckClusterTests {
        @Test("300 delayed jobs over digest_interval_entries = 16: the followers are verified ok, and only at paced checkpoints (multiples of 16 × 8 or more)")
        func pacedCheckpointsVerified() async throws {
            var timing = TestCluster.Timing()
            timing.digestIntervalEntries = 16
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let followers = cluster.others(than: leader)
                // 300 jobs (and their runs): at least 300 records, so a stride of at least 8
                // (ReplicaDigest.stride: records / (4 × 16), up to a power of two) from here on.
                let jobs = (0..<300).map { #"{"name":"paced-\#($0)","task":{"kind":"noop"},"delay_seconds":3600}"# }
                let body = Data((#"{"jobs":["# + jobs.joined(separator: ",") + "]}").utf8)
                let ids = try await cluster.api(leader).post("/api/jobs/batch", data: body, timeout: .seconds(60))
                    .expect(201, as: BatchCreated.self).ids
                // One entry each and no new record: the index passes 128 and 256 on the same state.
                for id in ids.prefix(280) { _ = try await cluster.api(leader).delete("/api/jobs/\(id)").expect(200, as: Created.self) }
                let checks = try await eventually("the leader to verify both followers past index 128", timeout: .seconds(30)) {
                    () async throws -> [String: [String: Any]]? in
                    let found = try await RealClusterTests.verifiedFollowers(of: leader, in: cluster, from: 128).checks
                    return found.count == followers.count ? found : nil
                }
                for (id, check) in checks {
                    #expect(check["state"] as? String == "ok", "\(id): \(check)")
                    // Every 16th index is a checkpoint; a paced one is a multiple of 16 × the stride.
                    #expect(((check["verified_index"] as? Int) ?? 1) % 128 == 0, "\(id): \(check)")
                }
                let metrics = try await cluster.api(leader).get("/metrics").text
                #expect(metrics.contains("quorum_replica_digest_mismatch_total 0"), "\(metrics.prefix(200))")
                // Every node, followers included (their leader advertises paced digests), passed
                // checkpoints without a digest; the leader's verified indexes alone would not show
                // it (a follower's probe carries its latest digest at a paced checkpoint anyway).
                for node in [leader] + followers {
                    let text = try await cluster.api(node).get("/metrics").text
                    let paced = Self.counter(#"quorum_replica_checkpoints_total{outcome="paced"}"#, in: text)
                    let digested = Self.counter(#"quorum_replica_checkpoints_total{outcome="digested"}"#, in: text)
                    #expect(paced > 0 && digested > 0, "\(node): paced \(paced), digested \(digested)")
                }
            }
        }

        /// The value of the sample `series` in a Prometheus text exposition (0 when absent).
        static func counter(_ series: String, in text: String) -> Double {
            MetricSample.value(of: series, in: text) ?? 0
        }
    }

    /// The leader's `replica_check` of each follower it verified at index `from` or later, and
    /// every node of its `/api/cluster` answer.
    static func verifiedFollowers(of leader: String, in cluster: TestCluster, from: Int) async throws
        -> (checks: [String: [String: Any]], nodes: [[String: Any]]) {
        let body = try await cluster.api(leader).get("/api/cluster").body
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let nodes = try #require(json["nodes"] as? [[String: Any]])
        var found: [String: [String: Any]] = [:]
        for node in nodes {
            guard let id = node["id"] as? String, id != leader, let check = node["replica_check"] as? [String: Any],
                  (check["verified_index"] as? Int).map({ $0 >= from }) == true else { continue }
            found[id] = check
        }
        return (found, nodes)
    }

    /// The `process` of each node in an `/api/cluster` answer (only those that have one).
    static func processes(in body: Data) throws -> [String: String] {
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let nodes = try #require(json["nodes"] as? [[String: Any]])
        var found: [String: String] = [:]
        for node in nodes {
            if let id = node["id"] as? String, let process = node["process"] as? String, process.hasPrefix("0x") { found[id] = process }
        }
        return found
    }
}
