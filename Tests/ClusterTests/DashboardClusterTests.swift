import Foundation
import Testing

/// What the dashboard reads, on real node processes: the page itself from the binary (run from a
/// temp directory: the files are compiled in), and a follower's `/api/cluster` carrying the
/// leader's per-node view (docs/api.md, "Cluster and health").
extension RealClusterTests {
    @Suite("the dashboard's data on a 3-node cluster")
    struct DashboardClusterTests {
        /// `GET /api/cluster` with the keys this test reads.
        struct View: Decodable {
            struct Node: Decodable {
                var id: String
                var role: String
                var matchIndex: UInt64
                var appliedIndex: UInt64?
                var lag: UInt64?
            }
            var leader: String?
            var node: String?
            var commitIndex: UInt64
            var appliedIndex: UInt64?
            var source: String?
            var viewAgeMs: Int64?
            var nodes: [Node]
        }

        @Test("every node serves the page; a follower's cluster view is the leader's, with its age; the leader's is its own")
        func followerShowsLeaderView() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                let id = try await cluster.submit(JobSubmission(name: "for-the-view", task: .noop), to: follower)
                _ = try await cluster.waitForJob(id, on: follower, state: "succeeded")

                for node in cluster.ids {
                    let page = try await cluster.api(node).get("/")
                    #expect(page.status == 200, "\(node)")
                    #expect(page.header("Content-Security-Policy")?.hasPrefix("default-src 'self'") == true, "\(node)")
                    #expect(page.text.contains("/dashboard/dashboard.js"), "\(node)")
                }

                let own = try await cluster.api(leader).get("/api/cluster").decode(View.self)
                #expect(own.source == "local")
                #expect(own.node == leader)
                #expect(own.viewAgeMs == 0)
                // The leader knows every member's applied index (from its lease probes) and lag.
                let known = try await eventually("the leader to know every member's applied index") { () -> View? in
                    let view = try await cluster.api(leader).get("/api/cluster").decode(View.self)
                    return view.nodes.allSatisfy { $0.appliedIndex != nil && $0.lag != nil && $0.matchIndex > 0 } ? view : nil
                }
                #expect(known.nodes.count == 3)

                // The follower serves the leader's view as it last fetched it (up to a second old),
                // which may predate the leader learning every match index: wait for a fresh one.
                let seen = try await eventually("the follower to serve a leader's view with every match index") { () -> View? in
                    let view = try await cluster.api(follower).get("/api/cluster").decode(View.self)
                    return view.nodes.allSatisfy { $0.matchIndex > 0 } ? view : nil
                }
                #expect(seen.node == follower)
                #expect(seen.leader == leader)
                #expect(seen.source == "leader", "a follower answers with the leader's members")
                #expect((0..<1_000).contains(seen.viewAgeMs ?? -1))
                #expect(seen.nodes.first { $0.id == leader }?.role == "leader")
                #expect(seen.nodes.allSatisfy { $0.matchIndex > 0 }, "match indexes only the leader knows")
                #expect(seen.appliedIndex != nil)

                // A request another node proxied is answered with the node's own view.
                let proxied = try await cluster.api(follower).get("/api/cluster", headers: ["X-Quorum-Proxied": "1"]).decode(View.self)
                #expect(proxied.source == "local")
            }
        }
    }
}
