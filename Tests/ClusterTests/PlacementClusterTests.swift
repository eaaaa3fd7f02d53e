import Foundation
import Testing

/// `PUT /api/cluster/nodes/{id}/labels` bodies.
private struct Relabel: Encodable {
    var labels: [String: String]
}

/// `POST /api/cluster/nodes` bodies with labels.
private struct AddLabelledNode: Encodable {
    var id: String
    var raft: String
    var api: String
    var voter = false
    var labels: [String: String]
}

extension TestCluster {
    /// The executors of `job`'s attempts as `id` sees them.
    fileprivate func executors(of job: String, on id: String) async throws -> [String] {
        try await attempts(of: job, on: id).compactMap(\.executor)
    }

    /// `id`'s view of member `member` once it satisfies `check`.
    fileprivate func waitForMember(_ member: String, on id: String, _ what: String,
                                   _ check: @escaping (ClusterInfo.Node) -> Bool) async throws {
        try await eventually("\(member) \(what) on \(id)", timeout: .seconds(15)) { () -> Bool? in
            guard let node = await clusterInfo(id)?.nodes.first(where: { $0.id == member }) else { return nil }
            return check(node) ? true : nil
        }
    }
}

extension RealClusterTests {
    @Suite("placement: labels, constraints, draining (issue #16)")
    struct PlacementClusterTests {
        static let gpu = ["gpu": "true"]

        @Test("constrained jobs run only on the matching node; a job nobody matches waits with the reason")
        func constrainedRunOnlyOnMatchingNode() async throws {
            var timing = TestCluster.Timing()
            timing.nodeLabels = ["n2": #"gpu = "true", zone = "a""#]
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                try await cluster.waitForMember("n2", on: leader, "labelled gpu=true") { $0.labels?["gpu"] == "true" }
                var jobs: [String] = []
                for index in 0..<6 {
                    jobs.append(try await cluster.submit(JobSubmission(name: "g\(index)", task: .sleep(0.2), constraints: Self.gpu), to: leader))
                }
                let plain = try await cluster.submit(JobSubmission(name: "plain", task: .noop), to: leader)
                for job in jobs {
                    try await cluster.waitForJob(job, on: leader, state: "succeeded")
                    #expect(try await cluster.executors(of: job, on: leader) == ["n2"])
                }
                try await cluster.waitForJob(plain, on: leader, state: "succeeded")

                let nobody = try await cluster.submit(JobSubmission(name: "tpu", task: .noop, constraints: ["tpu": "v5"]), to: leader)
                let waiting = try await eventually("the reason on a follower") { () -> Job? in
                    let follower = cluster.others(than: leader).first ?? leader
                    guard let job = try? await cluster.job(nobody, on: follower), job.reason != nil else { return nil }
                    return job
                }
                #expect(waiting.state == "queued")
                #expect(waiting.reason == "no node with tpu=v5")
            }
        }

        @Test("draining moves new work away and lets running attempts finish; undrain takes work again")
        func drainMovesNewWorkAway() async throws {
            var timing = TestCluster.Timing()
            timing.nodeLabels = ["n3": #"gpu = "true""#]
            try await TestCluster.with(nodes: 3, timing: timing) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                try await cluster.waitForMember("n3", on: leader, "labelled gpu=true") { $0.labels?["gpu"] == "true" }
                let long = try await cluster.submit(JobSubmission(name: "long", task: .sleep(4), constraints: Self.gpu), to: leader)
                try await cluster.waitForJob(long, on: leader, state: "running")

                let drained = try await cluster.api(leader).post("/api/cluster/nodes/n3/drain")
                #expect(drained.status == 200, "\(drained.text)")
                for id in cluster.ids {
                    try await cluster.waitForMember("n3", on: id, "draining") { $0.draining == true }
                }
                let next = try await cluster.submit(JobSubmission(name: "next", task: .noop, constraints: Self.gpu), to: leader)
                let plain = (0..<4).map { "p\($0)" }
                var plainIDs: [String] = []
                for name in plain { plainIDs.append(try await cluster.submit(JobSubmission(name: name, task: .noop), to: leader)) }
                let waiting = try await eventually("the drain reason") { () -> Job? in
                    guard let job = try? await cluster.job(next, on: leader), job.reason != nil else { return nil }
                    return job
                }
                #expect(waiting.state == "queued")
                #expect(waiting.reason == "all nodes with gpu=true are draining")
                for job in plainIDs {
                    try await cluster.waitForJob(job, on: leader, state: "succeeded")
                    #expect(try await cluster.executors(of: job, on: leader) != ["n3"], "new work went to the drained node")
                }
                // The running attempt finishes where it runs, once.
                try await cluster.waitForJob(long, on: leader, state: "succeeded")
                #expect(try await cluster.executors(of: long, on: leader) == ["n3"])
                #expect(try await cluster.job(next, on: leader).state == "queued")

                let undrained = try await cluster.api(leader).delete("/api/cluster/nodes/n3/drain")
                #expect(undrained.status == 200, "\(undrained.text)")
                try await cluster.waitForJob(next, on: leader, state: "succeeded")
                #expect(try await cluster.executors(of: next, on: leader) == ["n3"])
            }
        }

        @Test("a job nobody matches runs once a member is relabelled to match; a bad label is 422")
        func runsOnceRelabelled() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let job = try await cluster.submit(JobSubmission(name: "zoned", task: .noop, constraints: ["zone": "z7"]), to: leader)
                let waiting = try await eventually("the reason") { () -> Job? in
                    guard let found = try? await cluster.job(job, on: leader), found.reason != nil else { return nil }
                    return found
                }
                #expect(waiting.reason == "no node with zone=z7")
                let target = cluster.others(than: leader).first ?? leader
                let bad = try await cluster.api(leader).put("/api/cluster/nodes/\(target)/labels", json: Relabel(labels: ["zone": ""]))
                #expect(bad.status == 422, "\(bad.text)")
                let follower = cluster.others(than: leader).last ?? leader
                let relabelled = try await cluster.api(follower).put("/api/cluster/nodes/\(target)/labels", json: Relabel(labels: ["zone": "z7"]))
                #expect(relabelled.status == 200, "sent through a follower: \(relabelled.text)")
                try await cluster.waitForJob(job, on: leader, state: "succeeded")
                #expect(try await cluster.executors(of: job, on: leader) == [target])
            }
        }

        @Test("a job nobody matches runs once a matching node is added (a labelled learner)")
        func runsOnceMatchingNodeJoins() async throws {
            try await TestCluster.with(nodes: 3, spares: 1) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let job = try await cluster.submit(JobSubmission(name: "zoned", task: .noop, constraints: ["zone": "z9"]), to: leader)
                let waiting = try await eventually("the reason") { () -> Job? in
                    guard let found = try? await cluster.job(job, on: leader), found.reason != nil else { return nil }
                    return found
                }
                #expect(waiting.reason == "no node with zone=z9")
                let (raft, api) = try cluster.addresses(of: "n4")
                let bad = try await cluster.api(leader).post("/api/cluster/nodes",
                                                             json: AddLabelledNode(id: "n4", raft: raft, api: api, labels: ["zone": "z 9"]))
                #expect(bad.status == 422, "\(bad.text)")
                #expect(bad.text.contains("labels.zone"), "\(bad.text)")
                let added = try await cluster.api(leader).post("/api/cluster/nodes",
                                                               json: AddLabelledNode(id: "n4", raft: raft, api: api, labels: ["zone": "z9"]))
                #expect(added.status == 201, "\(added.text)")
                try cluster.startSpare("n4")
                try await cluster.waitForJob(job, on: leader, state: "succeeded", timeout: .seconds(30))
                #expect(try await cluster.executors(of: job, on: leader) == ["n4"])
            }
        }
    }
}
