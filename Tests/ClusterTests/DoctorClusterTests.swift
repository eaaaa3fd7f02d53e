import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension RealClusterTests {
    @Suite("quorum doctor against a live cluster")
    struct DoctorClusterTests {
        @Test("a healthy cluster: every check ok, exit 0; a follower killed: FAIL naming it, the quorum one failure from lost, exit 1")
        func healthyThenFollowerDown() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let healthy = try QuorumBinary.runToCompletion(QuorumBinary.path, ["doctor", "--config", "c.toml"], in: cluster.directory)
                #expect(healthy.exitCode == 0, "\(healthy.output)")
                #expect(healthy.output.contains(" 0 failed"), "\(healthy.output)")
                for id in cluster.ids {
                    #expect(healthy.output.contains("ok   tls \(id)"), "\(healthy.output)")
                    #expect(healthy.output.contains("ok   wal \(id)"), "\(healthy.output)")
                    #expect(healthy.output.contains("ok   node \(id)"), "\(healthy.output)")
                }
                #expect(healthy.output.contains("leader \(leader)"), "\(healthy.output)")

                let follower = try #require(cluster.ids.first { $0 != leader })
                try await cluster.kill(follower, SIGKILL)
                let degraded = try QuorumBinary.runToCompletion(QuorumBinary.path, ["doctor", "--config", "c.toml", "--timeout", "2"],
                                                                in: cluster.directory)
                #expect(degraded.exitCode == 1, "\(degraded.output)")
                #expect(degraded.output.contains("FAIL node \(follower)"), "\(degraded.output)")
                #expect(degraded.output.contains("one more failure stops writes"), "\(degraded.output)")
            }
        }

        @Test("every node shows the same cluster_id on /api/cluster (and quorum cluster prints it); doctor without --config or --server asks $QUORUM_SERVER's nodes and finds that id on all of them")
        func clusterIDAndQuorumServer() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                _ = try await cluster.waitForLeader()
                var shown: Set<String> = []
                var urls: [String] = []
                for id in cluster.ids {
                    let body = try await cluster.api(id).get("/api/cluster").body
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
                    let clusterID = try #require(json["cluster_id"] as? String, "\(json)")
                    #expect(clusterID.count == 32 && clusterID.allSatisfy(\.isHexDigit), "\(clusterID)")
                    shown.insert(clusterID)
                    urls.append("http://" + (try cluster.addresses(of: id)).api)
                }
                #expect(shown.count == 1, "\(shown)")
                let clusterID = try #require(shown.first)
                let environment = ["QUORUM_SERVER": urls.joined(separator: ",")]
                let status = try QuorumBinary.runToCompletion(QuorumBinary.path, ["cluster"], in: cluster.directory, environment: environment)
                #expect(status.exitCode == 0 && status.output.contains("  cluster \(clusterID)"), "\(status.output)")
                // No --config here and none in the directory doctor could use: only $QUORUM_SERVER names the nodes.
                let doctor = try QuorumBinary.runToCompletion(QuorumBinary.path, ["doctor"], in: cluster.directory, environment: environment)
                #expect(doctor.exitCode == 0, "\(doctor.output)")
                #expect(doctor.output.contains("ok   cluster id") && doctor.output.contains("  3 nodes hold cluster id \(clusterID)"),
                        "\(doctor.output)")
                for url in urls { #expect(doctor.output.contains("\(url) up and ready"), "\(doctor.output)") }
            }
        }
    }
}
