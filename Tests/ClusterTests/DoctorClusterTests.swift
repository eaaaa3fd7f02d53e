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
    }
}
