import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RealClusterTests {
    /// The repair docs/storage.md tells an operator to do after damage: wipe the follower's data
    /// directory and start it again. The leader used to keep its old match index for it, never
    /// sent it the log, and kept assigning attempts to it, which sat `running` until their
    /// timeout (an hour by default).
    @Suite("a follower whose data directory is wiped")
    struct WipedFollowerTests {
        @Test("wipe a follower's data dir under load: it serves every earlier job within 15 s, and no job is stuck on it")
        func wipedFollowerIsRepaired() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let follower = try #require(cluster.others(than: leader).first)
                var before: [String] = []
                for index in 0..<20 {
                    before.append(try await cluster.submit(JobSubmission(name: "before-\(index)", task: .sleep(0.05)), to: leader))
                }
                for id in before { try await cluster.waitForJob(id, on: leader, state: "succeeded") }

                try await cluster.kill(follower, SIGKILL)
                try FileManager.default.removeItem(atPath: "\(cluster.directory)/data/\(follower)")
                try cluster.restart(follower)
                let restarted = ContinuousClock.now

                // Load while it catches up: jobs that would sit on the wiped node for their whole
                // (default, one hour) timeout if it were given work it never learns of.
                var during: [String] = []
                for index in 0..<30 {
                    during.append(try await cluster.submit(JobSubmission(name: "during-\(index)", task: .sleep(0.2)), to: leader))
                }
                for id in before {
                    let left = max(.zero, .seconds(15) - (ContinuousClock.now - restarted))
                    try await cluster.waitForJob(id, on: follower, state: "succeeded", stale: true, timeout: left)
                }
                for id in during { try await cluster.waitForJob(id, on: leader, state: "succeeded", timeout: .seconds(30)) }
                // And the repaired node takes work again.
                try await eventually("the wiped follower to run an attempt again", timeout: .seconds(30)) { () -> Bool? in
                    let id = try await cluster.submit(JobSubmission(name: "after", task: .sleep(0.05)), to: leader)
                    let done = try await cluster.waitForJob(id, on: leader, state: "succeeded")
                    return done.runs.contains { $0.executor == follower } ? true : nil
                }
            }
        }
    }
}
